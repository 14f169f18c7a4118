/** `netmon serve` as a subprocess: dedup, status codes, token, stats, paging, durability. */
import assert from "node:assert/strict";
import { parseListen } from "../../src/cli/serve.ts";
import { runNetmon } from "../helpers/run.ts";
import { post, recordLine as line, ServeProcess, withServe } from "./helpers.ts";

Deno.test("serve stores a batch once per Idempotency-Key and pages through records", async () => {
  await withServe([], async (srv) => {
    const body = [1, 2, 3].map((s) => line(s)).join("\n") + "\n";
    const a = await post(srv.url, body, { "Idempotency-Key": "ag.r1.1" });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { stored: 3 });
    const b = await post(srv.url, body, { "Idempotency-Key": "ag.r1.1" });
    assert.equal(b.status, 200);
    assert.equal(b.json.duplicate, true);
    const stats = await srv.stats();
    assert.equal(stats.records, 3);
    assert.equal(stats.batches, 1);
    assert.equal(stats.duplicate_batches, 1);
    const p1 = await (await fetch(`${srv.url}api/records?limit=2`)).json();
    assert.equal(p1.records.length, 2);
    const p2 = await (await fetch(`${srv.url}api/records?limit=2&after=${p1.next}`)).json();
    assert.equal(p2.records.length, 1);
    assert.equal(p2.records[0].record.Netmon.Sequence, 3);
  });
});

Deno.test("serve answers 400 with a message for bad bodies, 413 when too large", async () => {
  await withServe(["--max-body-bytes", "4096"], async (srv) => {
    const bad = await post(srv.url, line(1) + "\n{oops\n");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /line 2: not JSON/);
    assert.equal((await post(srv.url, "[1,2]\n")).status, 400);
    assert.equal((await post(srv.url, "\n")).status, 400);
    const big = Array.from({ length: 100 }, (_, i) => line(i)).join("\n");
    assert.equal((await post(srv.url, big)).status, 413);
    // Also when the size only shows after gzip decoding.
    const gz = new Uint8Array(
      await new Response(
        new Blob([big]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
    assert.ok(gz.length < 4096);
    assert.equal((await post(srv.url, gz, { "Content-Encoding": "gzip" })).status, 413);
    const stats = await srv.stats();
    assert.equal(stats.records, 0);
    assert.equal(stats.rejected_batches, 3);
    assert.equal(stats.too_large, 2);
  });
});

Deno.test("serve takes gzip bodies", async () => {
  await withServe([], async (srv) => {
    const text = [1, 2].map((s) => line(s)).join("\n") + "\n";
    const gz = await new Response(
      new Blob([text]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    const r = await post(srv.url, gz, { "Content-Encoding": "gzip", "Idempotency-Key": "g" });
    assert.equal(r.status, 200);
    assert.equal(r.json.stored, 2);
  });
});

Deno.test("serve with --token answers 401 without the bearer token", async () => {
  await withServe(["--token", "tok"], async (srv) => {
    const r = await post(srv.url, line(1));
    assert.equal(r.status, 401);
    assert.match(r.headers.get("www-authenticate") ?? "", /Bearer/);
    assert.equal(
      await fetch(`${srv.url}api/stats`).then(async (x) => (await x.body?.cancel(), x.status)),
      401,
    );
    const ok = await post(srv.url, line(1), { Authorization: "Bearer tok" });
    assert.equal(ok.status, 200);
  });
});

Deno.test("serve keeps what it acknowledged across a SIGKILL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-serve-" });
  const db = `${dir}/db.sqlite`;
  let srv: ServeProcess | null = await ServeProcess.start(db);
  try {
    const bodies: string[] = [];
    for (let b = 1; b <= 20; b++) {
      const body = Array.from({ length: 50 }, (_, i) => line((b - 1) * 50 + i + 1)).join("\n");
      bodies.push(body);
      assert.equal((await post(srv.url, body, { "Idempotency-Key": `k${b}` })).status, 200);
    }
    await srv.stop("SIGKILL");
    srv = await ServeProcess.start(db);
    const stats = await srv.stats();
    assert.equal(stats.records, 1000);
    assert.equal(stats.batches, 20);
    // Keys survive too: a resend after the crash is a duplicate; the same key with
    // another body is refused (422), never taken as stored.
    const again = await post(srv.url, bodies[0], { "Idempotency-Key": "k1" });
    assert.equal(again.json.duplicate, true);
    const other = await post(srv.url, line(1), { "Idempotency-Key": "k1" });
    assert.equal(other.status, 422);
    assert.match(other.json.error, /different body/);
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --listen parsing and bad values", async () => {
  assert.deepEqual(parseListen("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
  assert.deepEqual(parseListen("[::1]:0"), { hostname: "::1", port: 0 });
  assert.deepEqual(parseListen("9000"), { hostname: "127.0.0.1", port: 9000 });
  const r = await runNetmon(["serve", "--listen", "nonsense"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--listen wants HOST:PORT/);
});
