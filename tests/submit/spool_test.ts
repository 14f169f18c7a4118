import assert from "node:assert/strict";
import { type Batch, Batcher, batchKey } from "../../src/submit/batch.ts";
import { Spool } from "../../src/submit/spool.ts";
import { createLogger } from "../../src/log/mod.ts";

const log = createLogger("error");

function batches(count: number, per: number, run = "r1"): Batch[] {
  const out: Batch[] = [];
  const b = new Batcher(
    "ag",
    run,
    { records: per, bytes: 1 << 24, seconds: 60 },
    (x) => out.push(x),
  );
  for (let i = 0; i < count * per; i++) b.add({ UDP: { Length: i, Pad: "p".repeat(200) } });
  return out;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-spool-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function segmentFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.startsWith("seg-")) out.push(e.name);
  return out.sort();
}

Deno.test("Spool keeps batches as JSONL and reads back the same batches after a restart", async () => {
  await withDir(async (dir) => {
    const bs = batches(3, 4);
    const s = await Spool.open(dir, 1 << 30, log);
    for (const b of bs) await s.append(b);
    assert.equal(s.waiting.records, 12);
    await s.close();
    const text = await Deno.readTextFile(`${dir}/${(await segmentFiles(dir))[0]}`);
    assert.equal(text.split("\n").filter((l) => l).length, 12);
    for (const l of text.trimEnd().split("\n")) JSON.parse(l);

    const again = await Spool.open(dir, 1 << 30, log);
    assert.equal(again.waiting.records, 12);
    const seg = again.oldestClosed()!;
    const back = (await again.read(seg)).batches;
    assert.deepEqual(back.map(batchKey), bs.map(batchKey));
    await again.remove(seg);
    assert.equal(again.empty, true);
    await again.close();
    assert.deepEqual(await segmentFiles(dir), []);
  });
});

Deno.test("Spool recovery cuts a torn last line and counts it", async () => {
  await withDir(async (dir) => {
    const s = await Spool.open(dir, 1 << 30, log);
    for (const b of batches(2, 3)) await s.append(b);
    await s.close();
    const name = (await segmentFiles(dir))[0];
    const f = await Deno.open(`${dir}/${name}`, { append: true });
    await f.write(new TextEncoder().encode('{"UDP":{"Length":9'));
    f.close();
    const info = await Spool.inspect(dir);
    assert.equal(info.tornSegments, 1);
    const r = await Spool.open(dir, 1 << 30, log);
    assert.equal(r.counters.tornLines, 1);
    assert.equal(r.waiting.records, 6);
    const back = (await r.read(r.oldestClosed()!)).batches;
    assert.equal(back.reduce((a, b) => a + b.records, 0), 6);
    await r.close();
  });
});

Deno.test("Spool at its size cap drops the oldest segments and counts their records", async () => {
  await withDir(async (dir) => {
    const cap = 1 << 20; // segments of 64 KiB
    const s = await Spool.open(dir, cap, log);
    const bs = batches(150, 50); // 150 batches of ~14 KiB: about 2 MiB
    for (const b of bs) await s.append(b);
    const total = bs.reduce((a, b) => a + b.records, 0);
    assert.ok(s.waiting.bytes <= cap, `${s.waiting.bytes}`);
    assert.ok(s.counters.droppedAtCap > 0);
    assert.equal(s.counters.droppedAtCap + s.waiting.records, total);
    // What is left is the newest data.
    const seg = s.oldestClosed()!;
    const first = (await s.read(seg)).batches[0];
    assert.ok(first.batch > 1);
    await s.close();
  });
});

Deno.test("Spool is locked against a second live process; a stale lock is taken over", async () => {
  await withDir(async (dir) => {
    const s = await Spool.open(dir, 1 << 30, log);
    // Our own pid counts as stale, so fake a live netmon: a sleeping child process.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "await new Promise((r) => setTimeout(r, 60000))"],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await s.close();
      await Deno.writeTextFile(`${dir}/lock`, `${child.pid}\n`);
      await assert.rejects(() => Spool.open(dir, 1 << 30, log), /in use by process/);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    const t = await Spool.open(dir, 1 << 30, log);
    await t.close();
  });
});

Deno.test("Spool dead letter file collects refused batches, outside the segments", async () => {
  await withDir(async (dir) => {
    const s = await Spool.open(dir, 1 << 30, log);
    await s.deadLetter(batches(1, 5)[0]);
    assert.equal(s.counters.deadRecords, 5);
    assert.equal(s.empty, true);
    await s.close();
    const info = await Spool.inspect(dir);
    assert.equal(info.deadRecords, 5);
    assert.equal(info.segments.length, 0);
  });
});
