/**
 * Records lost while reported as shipped (issue 11, items 1-3 and 5; issue 18, spool
 * acknowledgement): fault servers in-process, each case ending with the exactly-once
 * check against what the server stored and the counts checked against `spool status`.
 */
import assert from "node:assert/strict";
import { drainSpool } from "../../src/submit/drain.ts";
import { createLogger } from "../../src/log/mod.ts";
import { FakeServer, Store } from "./fake_server.ts";
import {
  assertExactlyOnce,
  balance,
  memLogger,
  pushAll,
  rig,
  spoolRecords,
  withRig,
} from "./rig.ts";

const quiet = createLogger("error");

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-loss-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Fills `dir` with `n` records of run `run` (no server: everything is spooled). */
async function fillSpool(dir: string, n: number, batchRecords: number, run: string) {
  const { shipper } = await rig("", dir, { batchRecords }, run);
  await pushAll(shipper, n);
  await shipper.close();
}

function drain(dir: string, url: string, log = quiet) {
  return drainSpool({
    spoolDir: dir,
    spoolMaxBytes: 1 << 30,
    url,
    format: "ndjson",
    token: "",
    table: "netmon.records",
    gzip: false,
    waitSeconds: 0,
    log,
  });
}

async function segmentPaths(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.startsWith("seg-")) out.push(`${dir}/${e.name}`);
  }
  return out.sort();
}

/** Replaces line `index` (0-based) of a segment by `text`. */
async function replaceLine(path: string, index: number, text: string) {
  const lines = (await Deno.readTextFile(path)).split("\n");
  lines[index] = text;
  await Deno.writeTextFile(path, lines.join("\n"));
}

// ---- item 1: redirects --------------------------------------------------------------

/** POST answers 303 to /elsewhere; a GET there would answer 200 "stored". */
const redirecting = (_n: number, req: Request) =>
  req.method === "POST"
    ? new Response(null, { status: 303, headers: { location: "/elsewhere" } })
    : Response.json({ stored: 1 });

Deno.test("agent: a 303 to a POST is a configuration error: nothing stored, kept in the spool, said once with the Location", async () => {
  await withRig(redirecting, async (srv, dir) => {
    const { shipper, logs } = await rig(srv.url, dir, { graceSeconds: 0.5 });
    await pushAll(shipper, 200);
    const lines = (await shipper.close()).join("\n");
    assert.equal(
      srv.seen.filter((s) => s.method !== "POST").length,
      0,
      "the redirect was followed",
    );
    assert.equal(shipper.counters.shipped, 0);
    assert.equal(await spoolRecords(dir), 200);
    assert.match(lines, /200 records waiting in spool/);
    const said = logs.filter((l) => /^error: .*HTTP 303.*redirect.*\/elsewhere/.test(l));
    assert.equal(said.length, 1, logs.join("\n"));
  });
});

Deno.test("spool drain: a 303 answer stops the drain as a configuration error; the spool stays whole", async () => {
  await withRig(redirecting, async (srv, dir) => {
    await fillSpool(dir, 300, 50, "r1");
    const r = await drain(dir, srv.url);
    assert.equal(r.ok, false);
    assert.equal(r.shipped, 0);
    assert.match(r.problem, /HTTP 303.*\/elsewhere/);
    assert.equal(
      srv.seen.filter((s) => s.method !== "POST").length,
      0,
      "the redirect was followed",
    );
    assert.equal(await spoolRecords(dir), 300);
  });
});

// ---- item 2: lines without an envelope ----------------------------------------------

Deno.test("a damaged line inside a spooled batch: both parts get their own keys and arrive", async () => {
  await withRig(() => null, async (srv, dir) => {
    await fillSpool(dir, 300, 100, "r1");
    const [seg] = await segmentPaths(dir);
    await replaceLine(seg, 149, '{"Damaged":true}'); // sequence 150, the middle of batch 2
    const r = await drain(dir, srv.url);
    assert.equal(r.ok, true, r.problem);
    assertExactlyOnce(srv, 300, new Set([150]), "r1");
    assert.equal(srv.store.lines.filter((l) => l === '{"Damaged":true}').length, 1);
    const keys = srv.seen.map((s) => s.key);
    assert.equal(new Set(keys).size, keys.length, `a key was sent twice: ${keys.join(" ")}`);
  });
});

Deno.test("damaged lines of two spools (two processes) never share a key", async () => {
  await withRig(() => null, async (srv) => {
    for (const mark of [1, 2]) {
      await withDir(async (dir) => {
        await fillSpool(dir, 20, 10, `r${mark}`);
        const [seg] = await segmentPaths(dir);
        await replaceLine(seg, 4, `{"Damaged":${mark}}`);
        const r = await drain(dir, srv.url);
        assert.equal(r.ok, true, r.problem);
      });
    }
    for (const mark of [1, 2]) {
      assert.equal(
        srv.store.lines.filter((l) => l === `{"Damaged":${mark}}`).length,
        1,
        `damaged line of spool ${mark}`,
      );
    }
  });
});

// ---- item 3: 422 --------------------------------------------------------------------

Deno.test("422 (a key reused with another body): a netmon bug logged as an error, dead-lettered, never counted as stored", async () => {
  await withRig((_n, _r, body) => {
    const text = new TextDecoder().decode(body);
    return text.includes('"Batch":2}')
      ? Response.json({ error: "Idempotency-Key reused with a different body" }, { status: 422 })
      : null;
  }, async (srv, dir) => {
    const { shipper, logs } = await rig(srv.url, dir);
    await pushAll(shipper, 300);
    const lines = (await shipper.close()).join("\n");
    assert.equal(shipper.counters.shipped, 250);
    assertExactlyOnce(srv, 300, new Set(Array.from({ length: 50 }, (_, i) => 51 + i)));
    const dead = (await Deno.readTextFile(`${dir}/dead-letter.jsonl`)).trimEnd().split("\n");
    assert.equal(dead.length, 50);
    const loud = logs.filter((l) => /^error: netmon bug: .*HTTP 422/.test(l));
    assert.equal(loud.length, 1, logs.join("\n"));
    assert.match(lines, /50 records \(1 batches\) refused by the server/);
  });
});

// ---- item 5 and issue 18: partly acknowledged segments ------------------------------

Deno.test("server dies mid-segment while the agent shuts down: counts add up; after a restart every record is stored exactly once", async () => {
  await withDir(async (dir) => {
    // One segment of 10 batches from an earlier run.
    await fillSpool(dir, 100, 10, "old");
    assert.equal((await segmentPaths(dir)).length, 1);
    const store = new Store();
    // The server acknowledges 3 batches, then goes away (503 while shutting down, then refused).
    let dying: Promise<void> | null = null;
    const a: FakeServer = new FakeServer(
      (n) => {
        if (n <= 3) return null;
        dying ??= a.close();
        return new Response("shutting down", { status: 503 });
      },
      0,
      store,
    );
    const port = a.port;
    const logs: string[] = [];
    const second = await rig(a.url, dir, { graceSeconds: 1 }, "run2");
    const summary = (await second.shipper.close()).join("\n");
    await (dying ?? a.close());
    logs.push(...second.logs);
    assert.equal(store.keys.size, 3, "three batches acknowledged");
    const waiting = await spoolRecords(dir);
    const b = balance(summary);
    assert.equal(b.earlier, 100);
    assert.equal(b.shipped, 30);
    assert.equal(b.waiting, waiting, "summary and spool status agree");
    assert.equal(waiting, 70, "acknowledged batches are not counted as waiting");
    assert.match(summary, /70 records waiting in spool/);
    // Restart: the rest arrives, nothing twice, nothing lost.
    const b2 = new FakeServer(() => null, port, store);
    try {
      const third = await rig(b2.url, dir, {}, "run3");
      const s3 = balance((await third.shipper.close()).join("\n"));
      assert.equal(s3.earlier, 70);
      assert.equal(s3.shipped, 70);
      assertExactlyOnce(store, 100, new Set(), "old");
      assert.equal(store.stored.length, 100);
      assert.equal(await spoolRecords(dir), 0);
    } finally {
      await b2.close();
    }
  });
});

Deno.test("spool drain stopped mid-segment: what was acknowledged is not waiting any more", async () => {
  await withDir(async (dir) => {
    await fillSpool(dir, 100, 10, "old");
    const store = new Store();
    const a = new FakeServer(
      (n) => (n <= 4 ? null : new Response("busy", { status: 503 })),
      0,
      store,
    );
    try {
      const r = await drain(dir, a.url, memLogger([]));
      assert.equal(r.ok, false);
      assert.equal(r.shipped, 40);
      assert.equal(r.waiting, 60);
      assert.equal(await spoolRecords(dir), 60);
    } finally {
      await a.close();
    }
    const b = new FakeServer(() => null, 0, store);
    try {
      const r = await drain(dir, b.url);
      assert.equal(r.ok, true, r.problem);
      assertExactlyOnce(store, 100, new Set(), "old");
      assert.equal(store.stored.length, 100);
    } finally {
      await b.close();
    }
  });
});
