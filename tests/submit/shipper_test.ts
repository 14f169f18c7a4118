/**
 * The shipper in-process against a scriptable server: every fault the issue names,
 * each followed by the exactly-once check (every sequence stored once, or dead-lettered).
 */
import assert from "node:assert/strict";
import { Spool } from "../../src/submit/spool.ts";
import { FakeServer } from "./fake_server.ts";
import { assertExactlyOnce, pushAll, rig, spoolEmpty, withRig } from "./rig.ts";

Deno.test("shipper: healthy server gets every record exactly once", async () => {
  await withRig(() => null, async (srv, dir) => {
    const { shipper } = await rig(srv.url, dir);
    await pushAll(shipper, 2000);
    const lines = await shipper.close();
    assertExactlyOnce(srv, 2000);
    assert.equal(shipper.counters.shipped, 2000);
    assert.match(lines.join("\n"), /shipped 2000 records/);
    assert.ok(await spoolEmpty(dir));
    for (const s of srv.seen) assert.match(s.key, /^ag\.run1\.\d+$/);
  });
});

Deno.test("shipper: 500s are retried with backoff from the spool, nothing lost", async () => {
  await withRig(
    (n) => (n <= 4 ? new Response("boom", { status: 500 }) : null),
    async (srv, dir) => {
      const { shipper, logs } = await rig(srv.url, dir);
      await pushAll(shipper, 1000);
      await shipper.close();
      assertExactlyOnce(srv, 1000);
      assert.ok(await spoolEmpty(dir));
      assert.ok(
        logs.some((l) => /warn: .*not taking records \(HTTP 500: boom\)/.test(l)),
        logs.join("\n"),
      );
    },
  );
});

Deno.test("shipper: 503 with Retry-After waits at least that long before the next attempt", async () => {
  const at: number[] = [];
  await withRig((n) => {
    at.push(performance.now());
    return n === 1 ? new Response("busy", { status: 503, headers: { "retry-after": "1" } }) : null;
  }, async (srv, dir) => {
    const { shipper } = await rig(srv.url, dir, { batchRecords: 100 });
    await pushAll(shipper, 100);
    await shipper.close();
    assertExactlyOnce(srv, 100);
    assert.ok(at[1] - at[0] >= 950, `retried after ${at[1] - at[0]} ms`);
  });
});

Deno.test("shipper: 429 is retried; the batch keeps its key and bytes", async () => {
  const bodies = new Map<string, string>();
  await withRig((n, req, body) => {
    const k = req.headers.get("idempotency-key")!;
    const text = new TextDecoder().decode(body);
    if (bodies.has(k)) assert.equal(bodies.get(k), text, "a retry sends the same bytes");
    bodies.set(k, text);
    return n <= 2 ? new Response("slow down", { status: 429 }) : null;
  }, async (srv, dir) => {
    const { shipper } = await rig(srv.url, dir);
    await pushAll(shipper, 500);
    await shipper.close();
    assertExactlyOnce(srv, 500);
    const keys = srv.seen.map((s) => s.key);
    assert.equal(keys.filter((k) => k === srv.seen[0].key).length >= 2, true);
  });
});

Deno.test("shipper: 413 splits batches until they fit", async () => {
  await withRig((_n, _r, body) => {
    const lines = new TextDecoder().decode(body).split("\n").filter((l) => l).length;
    return lines > 12 ? new Response("too large", { status: 413 }) : null;
  }, async (srv, dir) => {
    const { shipper } = await rig(srv.url, dir);
    await pushAll(shipper, 600);
    await shipper.close();
    assertExactlyOnce(srv, 600);
    assert.ok(srv.seen.every((s) => s.status !== 200 || s.records <= 12));
  });
});

Deno.test("shipper: 400 moves the batch to the dead letter file once, the rest arrives", async () => {
  const bad = new Set<number>();
  await withRig((_n, _r, body) => {
    const text = new TextDecoder().decode(body);
    if (text.includes('"Batch":3}')) {
      for (const l of text.trimEnd().split("\n")) bad.add(JSON.parse(l).Netmon.Sequence);
      return new Response('{"error":"line 1: nope"}', { status: 400 });
    }
    return null;
  }, async (srv, dir) => {
    const { shipper, logs } = await rig(srv.url, dir);
    await pushAll(shipper, 500);
    const lines = await shipper.close();
    assert.equal(bad.size, 50);
    assertExactlyOnce(srv, 500, bad);
    assert.equal(srv.stored.length + bad.size, 500);
    const dead = (await Deno.readTextFile(`${dir}/dead-letter.jsonl`)).trimEnd().split("\n");
    assert.equal(dead.length, 50);
    assert.equal(srv.seen.filter((s) => s.status === 400).length, 1, "never retried");
    assert.equal(logs.filter((l) => l.startsWith("warn: server refused")).length, 1);
    assert.match(lines.join("\n"), /50 records \(1 batches\) refused by the server as bad/);
  });
});

Deno.test("shipper: 401 is a configuration error: logged clearly, records stay in the spool", async () => {
  let open = false;
  await withRig(
    () => (open ? null : new Response("who are you", { status: 401 })),
    async (srv, dir) => {
      const { shipper, logs } = await rig(srv.url, dir, { graceSeconds: 0.5 });
      await pushAll(shipper, 300);
      const lines = await shipper.close();
      assert.equal(srv.stored.length, 0);
      assert.ok(
        logs.some((l) => /^error: .*refuses batches \(HTTP 401.*configuration error/.test(l)),
      );
      assert.match(lines.join("\n"), /300 records waiting in spool/);
      assert.match(lines.join("\n"), /server configuration error: HTTP 401/);
      // Fixed: the next start drains what was kept.
      open = true;
      const second = await rig(srv.url, dir);
      await second.shipper.close();
      assertExactlyOnce(srv, 300);
      assert.ok(await spoolEmpty(dir));
    },
  );
});

Deno.test("shipper: server down at start: records spooled, then drained when it comes up", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-ship-" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  let srv: FakeServer | null = null;
  try {
    const { shipper } = await rig(`http://127.0.0.1:${port}/`, dir);
    await pushAll(shipper, 400);
    // Everything closed so far went to the spool: nobody listens.
    for (let i = 0; i < 200 && shipper.spool.waiting.records < 350; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(shipper.spool.waiting.records >= 350);
    srv = new FakeServer(() => null, port);
    await shipper.close();
    assertExactlyOnce(srv, 400);
    assert.ok(await spoolEmpty(dir));
  } finally {
    await srv?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shipper: a full queue drops records and counts them per reason", async () => {
  await withRig(() => null, async (srv, dir) => {
    const { shipper } = await rig(srv.url, dir, { queueRecords: 100, batchRecords: 1000 });
    let dropped = 0;
    for (let i = 0; i < 1000; i++) if (!shipper.push({ i })) dropped++;
    assert.equal(dropped, 900);
    const lines = await shipper.close();
    assert.equal(shipper.counters.dropped["queue full"], 900);
    assert.match(lines.join("\n"), /records dropped: 900 queue full/);
    assertExactlyOnce(srv, 100);
  });
});

Deno.test("shipper: without a server everything goes to the spool, fsynced", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-ship-" });
  try {
    const { shipper } = await rig("", dir);
    await pushAll(shipper, 777);
    const lines = await shipper.close();
    assert.match(lines.join("\n"), /777 records waiting in spool/);
    const info = await Spool.inspect(dir);
    assert.equal(info.segments.reduce((a, s) => a + s.records, 0), 777);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
