/**
 * Issue 11, "the server stays up under abuse": `netmon serve` as a subprocess against
 * hostile clients on raw sockets. Oracles: the kernel (descriptors exhausted under
 * `prlimit`), /proc/PID/status (VmHWM: the server's peak RSS), the server's own answers.
 */
import assert from "node:assert/strict";
import { SERVE_DEFAULTS } from "../../src/server/limits.ts";
import {
  enc,
  gzipBomb,
  memMiB,
  post,
  RawClient,
  rawRequest,
  recordLine,
  rssCapMiB,
  sleep,
  statuses,
  withServe,
} from "./helpers.ts";

Deno.test("issue 11 item 6: accept() hitting EMFILE does not stop serve; it logs once and serves on", async () => {
  await withServe([], async (srv) => {
    // ~28 descriptors are in use at start: 80 connections exhaust the other 36.
    const clients: RawClient[] = [];
    for (let i = 0; i < 80; i++) clients.push(await RawClient.connect(srv.port));
    await sleep(2000);
    const log = () => srv.log.join("");
    assert.match(log(), /cannot accept connections: Too many open files/);
    // Once per interval, not once per failed accept().
    assert.equal(log().match(/cannot accept connections/g)?.length, 1, log());
    let exited = false;
    srv.child.status.then(() => (exited = true));
    await sleep(100);
    assert.equal(exited, false, `serve exited:\n${log()}`);
    for (const c of clients) c.close();
    await sleep(500);
    const r = await post(srv.url, recordLine(1) + "\n", { "Idempotency-Key": "after-emfile" });
    assert.equal(r.status, 200, r.text);
    const stats = await srv.stats();
    assert.ok(stats.transport.accept_errors > 1, `accept_errors ${stats.transport.accept_errors}`);
    assert.equal(stats.records, 1);
  }, { prefix: ["prlimit", "--nofile=64:64", "--"] });
});

Deno.test("issue 11 item 6: beyond max_connections new connections get 503 and are closed; logged once", async () => {
  await withServe(["--max-connections", "8"], async (srv) => {
    const held: RawClient[] = [];
    for (let i = 0; i < 8; i++) {
      held.push(await RawClient.connect(srv.port));
      await sleep(20);
    }
    await sleep(300);
    for (let i = 0; i < 5; i++) {
      const r = await rawRequest(srv.port, "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
      assert.deepEqual(statuses(r.text), [503], r.text);
      assert.match(r.text, /retry-after: 1\r\n/);
      assert.notEqual(r.closedAfter, null);
    }
    const log = srv.log.join("");
    assert.equal(log.match(/8 connections open \(max_connections\); refusing/g)?.length, 1, log);
    held.pop()!.close();
    await sleep(300);
    const stats = await srv.stats();
    assert.equal(stats.transport.refused_connections, 5);
    for (const c of held) c.close();
  });
});

Deno.test("issue 11 item 7: header, body and keep-alive timeouts close slow clients, also with --token", async () => {
  const args = ["--token", "tok", "--header-timeout", "1", "--body-timeout", "1"];
  await withServe([...args, "--keepalive-timeout", "1"], async (srv) => {
    const slow: RawClient[] = [];
    let trickling = true;
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(srv.port);
      slow.push(c);
      (async () => {
        // One byte every 200 ms: never a whole head (slowloris).
        await c.write("POST / HTTP/1.1\r\nHost: x\r\n");
        while (trickling && (await c.write("X"))) await sleep(200);
      })();
    }
    const silent = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(srv.port)));
    const body = await RawClient.connect(srv.port);
    await body.write(
      "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 1000\r\n\r\n0123456789",
    );
    const idle = await RawClient.connect(srv.port);
    await idle.write("GET /api/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n\r\n");
    const closes = await Promise.all(
      [...slow, ...silent, body, idle].map((c) => c.closedWithin(8000)),
    );
    trickling = false;
    for (const [i, t] of closes.entries()) {
      assert.notEqual(t, null, `client ${i} still open after 8 s`);
      assert.ok(t! >= 800, `client ${i} closed after ${t} ms, before its timeout`);
    }
    assert.deepEqual(statuses(slow[0].text()), [408]);
    assert.deepEqual(statuses(body.text()), [408]);
    assert.deepEqual(statuses(idle.text()), [200]);
    const stats = await (await fetch(`${srv.url}api/stats`, {
      headers: { authorization: "Bearer tok" },
    })).json();
    assert.equal(stats.transport.header_timeouts, 25);
    assert.equal(stats.transport.body_timeouts, 1);
    assert.equal(stats.transport.idle_timeouts, 1);
    for (const c of [...slow, ...silent, body, idle]) c.close();
  });
});

/** A valid batch of about `mib` MiB: records of 64 KiB. */
function bigBatch(mib: number, run: string): { body: Uint8Array<ArrayBuffer>; records: number } {
  const pad = "y".repeat(64 * 1024 - 120);
  const lines: string[] = [];
  let size = 0;
  while (size < mib * 2 ** 20 - 70 * 1024) {
    const l = recordLine(lines.length + 1, run, { Pad: pad });
    lines.push(l);
    size += l.length + 1;
  }
  return { body: enc.encode(lines.join("\n") + "\n"), records: lines.length };
}

/** POSTs until the server stores it (503: wait Retry-After and send the same bytes again). */
async function deliver(url: string, body: Uint8Array<ArrayBuffer>, key: string): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const r = await post(url, body, { "Idempotency-Key": key });
    if (r.status === 200) return attempt;
    assert.equal(r.status, 503, r.text);
    await sleep(1000 * Number(r.headers.get("retry-after") ?? 1));
  }
  throw new Error(`${key} not stored after 100 attempts`);
}

Deno.test("issue 11 item 8: 16 gzip bombs and 8 batches of 63 MiB at once keep serve under its RSS cap", async () => {
  await withServe([], async (srv) => {
    const cap = rssCapMiB();
    const bomb = gzipBomb(10e6);
    assert.ok(bomb.decoded > 9e9);
    const answers = await Promise.all(Array.from({ length: 16 }, async () => {
      const r = await post(srv.url, bomb.body, { "Content-Encoding": "gzip" });
      return r.status;
    }));
    for (const s of answers) assert.ok(s === 413 || s === 503, `bomb answered ${s}`);
    assert.ok(answers.includes(413));
    const afterBombs = memMiB(srv.child.pid);
    assert.ok(afterBombs < cap, `peak RSS ${afterBombs.toFixed(0)} MiB after the bombs > ${cap}`);
    const batches = Array.from({ length: 8 }, (_, i) => bigBatch(63, `big${i}`));
    await Promise.all(batches.map((b, i) => deliver(srv.url, b.body, `big-${i}`)));
    const stats = await srv.stats();
    assert.equal(stats.records, batches.reduce((n, b) => n + b.records, 0));
    assert.ok(stats.transport.bytes_in_flight_peak <= SERVE_DEFAULTS.maxBytesInFlight);
    const peak = memMiB(srv.child.pid);
    console.log(
      `serve peak RSS ${peak.toFixed(0)} MiB (cap ${cap} MiB); ${stats.busy} answers 503`,
    );
    assert.ok(peak < cap, `peak RSS ${peak.toFixed(0)} MiB > cap ${cap} MiB`);
  });
});

Deno.test("issue 11 item 9: JSON nested deeper than 64 levels is refused with 400, 64 is taken", async () => {
  await withServe([], async (srv) => {
    const nest = (d: number) => "[".repeat(d - 1) + "1" + "]".repeat(d - 1);
    // {"A": nest(d)} is d levels deep.
    const ok = await post(srv.url, `{"A":${nest(64)},"Netmon":{"Sequence":1}}\n`);
    assert.equal(ok.status, 200, ok.text);
    const deep = await post(srv.url, `${recordLine(1)}\n{"A":${nest(65)}}\n`);
    assert.equal(deep.status, 400);
    assert.equal(deep.json.error, "line 2: nested deeper than 64 levels");
    const huge = await post(srv.url, `{"A":${nest(200_000)}}\n`);
    assert.equal(huge.status, 400);
    assert.match(huge.json.error, /nested deeper than 64/);
    // Brackets inside strings are text, not nesting.
    const str = await post(srv.url, JSON.stringify({ S: "[{".repeat(500), T: 'a\\"[' }) + "\n");
    assert.equal(str.status, 200, str.text);
    assert.equal((await srv.stats()).records, 2);
  });
});
