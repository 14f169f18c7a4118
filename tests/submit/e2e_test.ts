/**
 * End to end: `netmon capture -r FILE --server URL` into the real `netmon serve`
 * (both subprocesses), with the faults the issue names. Afterwards the server holds
 * every accepted record exactly once (by Netmon.Run_ID + Sequence), the spool is
 * empty, and the counts explain every difference.
 */
import assert from "node:assert/strict";
import { runNetmon } from "../helpers/run.ts";
import { ServeProcess, spawnNetmon, summaryNumbers, tally, writeUdpPcap } from "./helpers.ts";
import { balance } from "./rig.ts";

interface Ctx {
  dir: string;
  pcap: string;
  spool: string;
  db: string;
}

async function withCtx(packets: number, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-e2e-" });
  try {
    const pcap = `${dir}/in.pcap`;
    await writeUdpPcap(pcap, packets);
    await fn({ dir, pcap, spool: `${dir}/spool`, db: `${dir}/db.sqlite` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A port that nothing listens on (for "server down"). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

async function spoolStatus(spool: string): Promise<{ records: number; torn_segments: number }> {
  const r = await runNetmon(["spool", "status", "--spool", spool, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Every run on the server: no duplicate sequences. Returns counts per run. */
function assertNoDuplicates(envs: Awaited<ReturnType<ServeProcess["envelopes"]>>) {
  const t = tally(envs);
  for (const [run, x] of t) assert.equal(x.dups, 0, `run ${run} has ${x.dups} duplicates`);
  return t;
}

/** The run stored every sequence 1..n exactly once. */
function assertComplete(t: ReturnType<typeof tally>, run: string, n: number) {
  const x = t.get(run);
  assert.ok(x, `run ${run} not on the server`);
  assert.equal(x.dups, 0);
  assert.equal(x.count, n);
  assert.equal(x.max, n);
}

/** Polls `cond` until true (at most 60 s); throws when it never became true. */
async function waitUntil(what: string, cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits for `cond`, then SIGKILLs the agent; the kill happens even if waiting throws. */
async function killWhen(agent: Deno.ChildProcess, cond: () => Promise<boolean>): Promise<void> {
  try {
    await waitUntil("the kill condition", cond);
  } finally {
    try {
      agent.kill("SIGKILL");
    } catch { /* already exited */ }
    await agent.output();
  }
}

/**
 * The capture reaches the agent through a FIFO, in parts: the agent cannot finish
 * before the test has written the last part, whatever the machine's speed, so a kill
 * "mid-stream" always lands mid-stream.
 */
class Feed {
  private file: Deno.FsFile | null = null;
  private constructor(readonly path: string, private readonly pcap: Uint8Array) {}

  /** Frames of writeUdpPcap are 74 bytes after a 24-byte header. */
  static async create(dir: string, pcap: string): Promise<Feed> {
    const path = `${dir}/feed.pcap`;
    const r = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.ok(r.success, "mkfifo");
    return new Feed(path, await Deno.readFile(pcap));
  }

  /** Opens the FIFO for writing once the agent opened it for reading (at most 60 s). */
  private async open(): Promise<Deno.FsFile> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), 60_000)));
    const opening = Deno.open(this.path, { write: true });
    const f = await Promise.race([opening, late]);
    clearTimeout(timer);
    if (f !== null) return f;
    // The agent never opened it (it failed to start): unblock our open, then fail.
    const r = await Deno.open(this.path, { read: true });
    (await opening).close();
    r.close();
    throw new Error("the agent did not open its input FIFO within 60 s");
  }

  /** Writes frames [from, to) (the file header with the first part). */
  async write(from: number, to: number): Promise<void> {
    this.file ??= await this.open();
    const start = from === 0 ? 0 : 24 + from * 74;
    const data = this.pcap.subarray(start, 24 + to * 74);
    let off = 0;
    while (off < data.length) off += await this.file.write(data.subarray(off));
  }

  /** End of the capture (EOF for the agent). */
  close(): void {
    try {
      this.file?.close();
    } catch { /* closed */ }
    this.file = null;
  }
}

const runOf = (stderr: string) => /run ([0-9a-z]+)\)/.exec(stderr)?.[1] ?? "?";

const AGENT = ["--retry-interval", "0.2", "--batch-records", "1000", "--batch-seconds", "0.2"];

Deno.test("e2e: replay into netmon serve: every record exactly once, flows included", async () => {
  await withCtx(20_000, async (c) => {
    const srv = await ServeProcess.start(c.db);
    try {
      const r = await runNetmon([
        "capture",
        "-r",
        c.pcap,
        "--server",
        srv.url,
        "--spool",
        c.spool,
        ...AGENT,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const n = summaryNumbers(r.stderr);
      assert.equal(n.accepted, 20_016); // 20000 packets + 16 flows
      assert.equal(n.shipped, n.accepted);
      const envs = await srv.envelopes();
      assertComplete(assertNoDuplicates(envs), runOf(r.stderr), n.accepted);
      assert.equal(envs.filter((e) => e.Record_Type === "flow").length, 16);
      assert.equal((await spoolStatus(c.spool)).records, 0);
    } finally {
      await srv.stop();
    }
  });
});

Deno.test("e2e: server down at start: agent spools and exits 0; spool drain delivers it", async () => {
  await withCtx(10_000, async (c) => {
    const port = freePort();
    const url = `http://127.0.0.1:${port}/`;
    const r = await runNetmon([
      "capture",
      "-r",
      c.pcap,
      "--server",
      url,
      "--spool",
      c.spool,
      "--no-flows",
      "--grace",
      "0.5",
      ...AGENT,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /10000 records waiting in spool/);
    assert.equal((await spoolStatus(c.spool)).records, 10_000);
    // Still down: drain fails, non-zero, nothing lost.
    const fail = await runNetmon([
      "spool",
      "drain",
      "--server",
      url,
      "--spool",
      c.spool,
      "--wait",
      "0",
    ]);
    assert.equal(fail.code, 1);
    assert.match(fail.stderr, /10000 records still waiting/);
    const srv = await ServeProcess.start(c.db, port);
    try {
      const d = await runNetmon(["spool", "drain", "--server", url, "--spool", c.spool]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stderr, /drained 10000 records/);
      assertComplete(assertNoDuplicates(await srv.envelopes()), runOf(r.stderr), 10_000);
      assert.equal((await spoolStatus(c.spool)).records, 0);
    } finally {
      await srv.stop();
    }
  });
});

Deno.test("e2e: server SIGKILLed and restarted mid-stream: exactly once", async () => {
  await withCtx(60_000, async (c) => {
    let srv = await ServeProcess.start(c.db);
    const port = srv.port;
    const feed = await Feed.create(c.dir, c.pcap);
    const agent = spawnNetmon([
      "capture",
      "-r",
      feed.path,
      "--server",
      srv.url,
      "--spool",
      c.spool,
      "--no-flows",
      "--grace",
      "60",
      "--batch-records",
      "500",
      "--batch-seconds",
      "0.2",
      "--retry-interval",
      "0.2",
    ]);
    try {
      // Kill the server once it has some records; the agent has only half of the input.
      await feed.write(0, 30_000);
      let atKill = 0;
      await waitUntil("2000 records on the server", async () => {
        atKill = (await srv.stats()).records;
        return atKill >= 2000;
      });
      await srv.stop("SIGKILL");
      assert.ok(atKill >= 2000 && atKill <= 30_000, `killed at ${atKill} records`);
      // The agent sees the outage while it reads the rest (spooled), then the server returns.
      await feed.write(30_000, 45_000);
      await waitUntil(
        "the agent spooling during the outage",
        async () => (await spoolStatus(c.spool)).records > 0,
      );
      srv = await ServeProcess.start(c.db, port);
      await feed.write(45_000, 60_000);
      feed.close();
      const out = await agent.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const n = summaryNumbers(stderr);
      assert.equal(n.accepted, 60_000);
      assert.match(stderr, /not taking records \(connection failed/, "the agent saw the outage");
      console.log(
        `server killed at ${atKill} records; agent: ${n.shipped} shipped, ${n.waiting} left`,
      );
      // The counts add up after the outage, and what is left is what spool status shows.
      const b = balance(stderr);
      assert.equal(b.earlier + b.accepted, 60_000);
      assert.equal(b.waiting, (await spoolStatus(c.spool)).records);
      if (n.waiting > 0) {
        const d = await runNetmon(["spool", "drain", "--server", srv.url, "--spool", c.spool]);
        assert.equal(d.code, 0, d.stderr);
      }
      assertComplete(assertNoDuplicates(await srv.envelopes()), runOf(stderr), 60_000);
      assert.equal((await spoolStatus(c.spool)).records, 0);
    } finally {
      feed.close();
      try {
        agent.kill("SIGKILL");
      } catch { /* exited */ }
      await agent.status;
      await srv.stop();
    }
  });
});

Deno.test("e2e: agent SIGKILLed mid-stream and restarted: no duplicates, the new run complete", async () => {
  await withCtx(60_000, async (c) => {
    const srv = await ServeProcess.start(c.db);
    try {
      const args = (input: string) => [
        "capture",
        "-r",
        input,
        "--server",
        srv.url,
        "--spool",
        c.spool,
        "--no-flows",
        ...AGENT,
      ];
      // The first run gets half of the capture and is killed while it waits for the rest.
      const feed = await Feed.create(c.dir, c.pcap);
      const first = spawnNetmon(args(feed.path));
      try {
        await feed.write(0, 30_000);
        await killWhen(first, async () => (await srv.stats()).records >= 3000);
      } finally {
        feed.close();
      }
      const killedAt = (await srv.stats()).records;
      assert.ok(killedAt >= 3000 && killedAt <= 30_000, `killed at ${killedAt}`);
      const r = await runNetmon(args(c.pcap));
      assert.equal(r.code, 0, r.stderr);
      const t = assertNoDuplicates(await srv.envelopes());
      const run2 = runOf(r.stderr);
      assertComplete(t, run2, 60_000);
      // The killed run: whatever arrived arrived once, sequences within what it read.
      for (const [run, x] of t) if (run !== run2) assert.ok(x.max <= 60_000 && x.count <= x.max);
      assert.equal((await spoolStatus(c.spool)).records, 0);
    } finally {
      await srv.stop();
    }
  });
});

Deno.test("e2e: agent SIGKILLed while spooling: the next start cuts the torn line, drains the rest", async () => {
  await withCtx(30_000, async (c) => {
    // Spool only (no server), fed 30000 frames, killed once the spool holds 5000 records.
    const feed = await Feed.create(c.dir, c.pcap);
    const first = spawnNetmon([
      "capture",
      "-r",
      feed.path,
      "--spool",
      c.spool,
      "--no-flows",
      "--batch-records",
      "200",
    ]);
    try {
      await feed.write(0, 30_000);
      await killWhen(first, async () => {
        const st = await Deno.stat(c.spool).then(() => spoolStatus(c.spool)).catch(() => null);
        return st !== null && st.records >= 5000;
      });
    } finally {
      feed.close();
    }
    // A kill rarely lands inside a write: tear the last line by hand as well.
    const segs: string[] = [];
    for await (const e of Deno.readDir(c.spool)) if (e.name.startsWith("seg-")) segs.push(e.name);
    segs.sort();
    await Deno.writeTextFile(`${c.spool}/${segs[segs.length - 1]}`, '{"UDP":{"Len', {
      append: true,
    });
    const before = await spoolStatus(c.spool);
    assert.equal(before.torn_segments, 1);
    assert.ok(before.records >= 5000 && before.records <= 30_000, `${before.records}`);
    console.log(`killed with ${before.records} records spooled, torn: ${before.torn_segments}`);
    const srv = await ServeProcess.start(c.db);
    try {
      // The restarted agent (server reachable now) drains what the killed run left.
      const r = await runNetmon([
        "capture",
        "-r",
        c.pcap,
        "-c",
        "100",
        "--server",
        srv.url,
        "--spool",
        c.spool,
        "--no-flows",
        "--grace",
        "60",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /1 torn lines cut in crash recovery/);
      assert.match(r.stderr, new RegExp(`holds ${before.records} records from earlier runs`));
      const t = assertNoDuplicates(await srv.envelopes());
      assertComplete(t, runOf(r.stderr), 100);
      assert.equal(t.size, 2);
      const [x] = [...t].filter(([run]) => run !== runOf(r.stderr)).map(([, v]) => v);
      // Everything complete in the spool arrived: a prefix of the killed run.
      assert.equal(x.count, before.records);
      assert.equal(x.max, before.records);
      assert.equal((await spoolStatus(c.spool)).records, 0);
    } finally {
      await srv.stop();
    }
  });
});

Deno.test("e2e: the same spool delivered twice stores every record once", async () => {
  await withCtx(8_000, async (c) => {
    const r = await runNetmon([
      "capture",
      "-r",
      c.pcap,
      "--spool",
      c.spool,
      "--no-flows",
      ...AGENT,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const copy = `${c.dir}/spool-copy`;
    await Deno.mkdir(copy);
    for await (const e of Deno.readDir(c.spool)) {
      if (e.name.startsWith("seg-")) {
        await Deno.copyFile(`${c.spool}/${e.name}`, `${copy}/${e.name}`);
      }
    }
    const srv = await ServeProcess.start(c.db);
    try {
      const a = await runNetmon(["spool", "drain", "--server", srv.url, "--spool", c.spool]);
      const b = await runNetmon(["spool", "drain", "--server", srv.url, "--spool", copy]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stderr, /batches were already there/);
      assertComplete(assertNoDuplicates(await srv.envelopes()), runOf(r.stderr), 8_000);
      const s = await srv.stats();
      assert.equal(s.records, 8_000);
      // Every batch of the second delivery was one the server already had.
      assert.ok(s.batches >= 8, `batches ${s.batches}`);
      assert.equal(s.duplicate_batches, s.batches);
    } finally {
      await srv.stop();
    }
  });
});
