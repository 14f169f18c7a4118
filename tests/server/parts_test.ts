/**
 * The server's parts in-process: the query-parameter parser, the bytes-in-flight budget
 * (wait-die: no deadlock, FIFO, nothing waits past its limit), the ndjson batch (lines
 * across chunk ends, long lines, depth scan), the bearer check and the router.
 */
import assert from "node:assert/strict";
import { bearerCheck } from "../../src/server/auth.ts";
import { ByteBudget } from "../../src/server/budget.ts";
import { NdjsonLines, nestedDeeperThan, TooDeep } from "../../src/server/ndjson.ts";
import {
  bool,
  int,
  list,
  num,
  oneOf,
  ParamError,
  parseParams,
  str,
} from "../../src/server/params.ts";
import { Router } from "../../src/server/router.ts";
import { enc } from "./helpers.ts";

Deno.test("parseParams() reads every kind strictly and names the parameter in errors", () => {
  const spec = {
    limit: int({ min: 1, max: 100, default: 10 }),
    ratio: num({ min: 0, max: 1 }),
    name: str({ maxLength: 8, pattern: /^[a-z]+$/, what: "lowercase letters" }),
    table: oneOf(["flows", "packets"] as const, { default: "flows" }),
    full: bool({ default: false }),
    ports: list(int({ min: 0, max: 65535 }), { maxItems: 3 }),
    from: int({ required: true }),
  };
  const q = (s: string) => parseParams(new URLSearchParams(s), spec);
  const p = q("from=5&ratio=0.25&name=abc&table=packets&full=1&ports=80,443");
  assert.deepEqual(p, {
    from: 5,
    ratio: 0.25,
    name: "abc",
    table: "packets",
    full: true,
    ports: [80, 443],
    limit: 10,
  });
  const fails: [string, string][] = [
    ["", "from: required"],
    ["from=1&limit=0", "limit: expected an integer 1..100, got 0"],
    ["from=0x10", "from: expected an integer, got '0x10'"],
    ["from=1&ratio=NaN", "ratio: expected a number 0..1, got 'NaN'"],
    ["from=1&ratio=Infinity", "ratio: expected a number 0..1, got 'Infinity'"],
    ["from=1&ratio=2", "ratio: expected a number 0..1, got 2"],
    ["from=1&name=ABC", "name: expected lowercase letters, got 'ABC'"],
    ["from=1&name=abcdefghi", "name: longer than 8 characters"],
    ["from=1&name=", "name: must not be empty"],
    ["from=1&table=x", "table: expected one of flows, packets, got 'x'"],
    ["from=1&full=yes", "full: expected true or false, got 'yes'"],
    ["from=1&ports=1,2,3,4", "ports: at most 3 items, got 4"],
    ["from=1&ports=80,x", "ports: item 2: expected an integer 0..65535, got 'x'"],
    ["from=1&from=2", "parameter 'from' given twice"],
    [
      "from=1&limt=1",
      "unknown parameter 'limt'; did you mean limit? (allowed: limit, ratio, name, table, full, ports, from)",
    ],
    [
      "from=1&__proto__=1",
      "unknown parameter '__proto__'; did you mean ports? (allowed: limit, ratio, name, table, full, ports, from)",
    ],
  ];
  for (const [s, msg] of fails) {
    assert.throws(() => q(s), (e) => e instanceof ParamError && e.message === msg, s);
  }
});

Deno.test("ByteBudget: waiters are served FIFO, a younger holder is refused instead of waiting (no deadlock)", async () => {
  const b = new ByteBudget(100, 500);
  const old = b.reservation();
  const young = b.reservation();
  assert.equal(await old.take(50), true);
  assert.equal(await young.take(50), true);
  // Both hold half and want more: the younger is refused at once, the older waits for it.
  const oldMore = old.take(30);
  assert.equal(await young.take(30), false);
  young.release();
  assert.equal(await oldMore, true);
  assert.equal(b.used, 80);
  // A new request waits (it holds nothing) and times out when nothing frees up.
  const fresh = b.reservation();
  const t0 = Date.now();
  assert.equal(await fresh.take(50), false);
  assert.ok(Date.now() - t0 >= 450);
  // ...and is served in order when bytes come back.
  const f1 = b.reservation().take(60);
  const f2 = b.reservation().take(10);
  old.release();
  assert.deepEqual(await Promise.all([f1, f2]), [true, true]);
  assert.equal(b.used, 70);
  assert.equal(b.peak, 100);
  assert.equal(await new ByteBudget(10, 0).reservation().take(11), false);
});

Deno.test("ByteBudget: many requests growing at once all finish or are refused, none hangs", async () => {
  const b = new ByteBudget(1000, 2000);
  const results = await Promise.all(Array.from({ length: 20 }, async () => {
    const r = b.reservation();
    for (let i = 0; i < 10; i++) {
      if (!(await r.take(40))) {
        r.release();
        return "refused";
      }
      await new Promise((res) => setTimeout(res, Math.random() * 5));
    }
    r.release();
    return "done";
  }));
  assert.ok(results.includes("done"));
  assert.equal(b.used, 0);
});

function feed(body: NdjsonLines, chunks: Uint8Array[]): string[] {
  for (const c of chunks) {
    const need = body.segmentNeeded(c.length);
    if (need > 0) body.addSegment(need);
    body.push(c);
  }
  body.finish();
  // A line's view is valid until the next one is taken: decode each as it comes.
  const out: string[] = [];
  for (const [b, n] of body.drain()) out.push(`${n}:${new TextDecoder().decode(b)}`);
  return out;
}

Deno.test("NdjsonLines: lines across chunk ends, CRLF, blank lines and long lines keep their bytes", () => {
  const lines = Array.from(
    { length: 300 },
    (_, i) =>
      JSON.stringify({
        I: i,
        Pad: "x".repeat(i * 37 % 5000),
        Netmon: { Sequence: i, Run_ID: "r" },
      }),
  );
  lines.push(JSON.stringify({ Long: "z".repeat(3 * 1024 * 1024), Netmon: { Sequence: 300 } }));
  const text = lines.join("\r\n") + "\n\n  \n";
  const bytes = enc.encode(text);
  const want = lines.map((l, i) => `${i + 1}:${l}`);
  // One byte and 7 bytes at a time: the first 20 lines only (the long one would take long).
  const head = enc.encode(lines.slice(0, 20).join("\r\n") + "\r\n\r\n" + lines[20]);
  for (const size of [1, 7]) {
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < head.length; o += size) chunks.push(head.slice(o, o + size));
    const got = feed(new NdjsonLines(64), chunks);
    assert.deepEqual(got, [...want.slice(0, 20), `22:${lines[20]}`]);
  }
  for (const size of [4093, 65536, bytes.length]) {
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < bytes.length; o += size) chunks.push(bytes.slice(o, o + size));
    const b = new NdjsonLines(64, size === 4093 ? bytes.length : null);
    for (const c of chunks) {
      const need = b.segmentNeeded(c.length);
      if (need > 0) b.addSegment(need);
      b.push(c);
    }
    b.finish();
    // Segments stay within a small factor of the body (a long line doubles at most).
    const allocated = b.allocated;
    assert.ok(allocated < bytes.length * 2.2, `${allocated} for ${bytes.length}`);
    let freed = 0;
    const got: string[] = [];
    for (const [l, n] of b.drain((k) => (freed += k))) {
      got.push(`${n}:${new TextDecoder().decode(l)}`);
    }

    assert.deepEqual(got, want, `chunk size ${size}`);
    assert.equal(freed, allocated);
    assert.equal(b.allocated, 0);
  }
});

Deno.test("NdjsonLines: a line nested too deep is refused with its number; nestedDeeperThan() ignores brackets in strings", () => {
  const deepAt = (text: string) => {
    try {
      feed(new NdjsonLines(4), [enc.encode(text)]);
      return 0;
    } catch (e) {
      assert.ok(e instanceof TooDeep);
      return e.line;
    }
  };
  assert.equal(deepAt('{"a":1}\n\n{"a":[[[[1]]]]}\n'), 3);
  assert.equal(deepAt('{"a":[[[1]]]}\n'), 0);
  assert.equal(deepAt('{"a":"[[[[[[\\"[[[["}\n'), 0);
  // An unclosed line does not carry its depth into the next one.
  assert.equal(deepAt('[[[[\n{"a":[[[1]]]}\n'), 0);
  const deep = enc.encode("[".repeat(1e6));
  assert.equal(nestedDeeperThan(deep, 0, deep.length, 64), true);
  assert.equal(new TooDeep(3, 64).message, "line 3: nested deeper than 64 levels");
});

Deno.test("bearerCheck() takes any case of the scheme and only the exact token", () => {
  const ok = bearerCheck("tok");
  assert.deepEqual(
    ["Bearer tok", "bearer tok", "BeArEr \ttok", "Bearer tok "].map(ok),
    [true, true, true, true],
  );
  assert.deepEqual(
    [null, "", "Bearer", "Bearer ", "Bearer to", "Bearer tokk", "Bearer TOK", "Basic tok", "tok"]
      .map(ok),
    [false, false, false, false, false, false, false, false, false],
  );
});

Deno.test("Router: exact and :param routes, HEAD as GET, 405 with Allow, 404, ParamError as 400", async () => {
  const r = new Router();
  r.get("/api/a", () => new Response("a"));
  r.get("/api/flows/:id", (_q, _c, m) => new Response(`flow ${m.params.id}`));
  r.get("/api/p", (_q, _c, m) => {
    parseParams(m.url.searchParams, { n: int({ min: 1 }) });
    return new Response("p");
  });
  const ctx = {} as Parameters<typeof r.handle>[1];
  const call = async (method: string, path: string) => {
    const res = await r.handle(new Request(`http://x${path}`, { method }), ctx);
    return [res.status, await res.text(), res.headers.get("allow")];
  };
  assert.deepEqual(await call("GET", "/api/a"), [200, "a", null]);
  assert.deepEqual(await call("HEAD", "/api/a"), [200, "a", null]);
  assert.deepEqual(await call("GET", "/api/flows/a%2Fb"), [200, "flow a/b", null]);
  assert.deepEqual((await call("DELETE", "/api/a")).slice(0, 1), [405]);
  assert.equal((await call("DELETE", "/api/a"))[2], "GET, HEAD");
  assert.equal((await call("GET", "/nope"))[0], 404);
  assert.deepEqual(await call("GET", "/api/p?n=0"), [
    400,
    '{"error":"n: expected an integer >= 1, got 0"}\n',
    null,
  ]);
});
