/**
 * Durability made observable (issue 18, "fsync"): the spool reaches the disk only through
 * a SpoolFs; a recording one passes every call to the real file system and notes, in
 * order, what was written, what was synced (when fdatasync returned) and what the shipper
 * counted at that moment. A record may count as spooled (or dead-lettered) only once the
 * bytes holding it were synced.
 */
import assert from "node:assert/strict";
import { ShipperCore } from "../../src/submit/shipper.ts";
import { Spool } from "../../src/submit/spool.ts";
import { type OpenMode, realFs, type SpoolFile, type SpoolFs } from "../../src/submit/files.ts";
import { FakeServer } from "./fake_server.ts";
import { memLogger, pushAll, rigSettings } from "./rig.ts";

const NL = 0x0a;

function lines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(NL); i >= 0; i = b.indexOf(NL, i + 1)) n++;
  return n;
}

interface Event {
  /** created: a new file (its name durable only after the next dirsync). */
  op: "write" | "synced" | "created" | "dirsync";
  file: string;
  /** Lines written to / synced in this file so far. */
  lines: number;
  /** What the shipper and spool counted at that moment. */
  spooled: number;
  waiting: number;
  dead: number;
}

/** Passes everything to the real file system and records writes and completed syncs. */
class RecordingFs implements SpoolFs {
  readonly events: Event[] = [];
  readonly written = new Map<string, number>();
  readonly synced = new Map<string, number>();
  counts: () => { spooled: number; waiting: number; dead: number } = () => ({
    spooled: 0,
    waiting: 0,
    dead: 0,
  });

  async open(path: string, mode: OpenMode): Promise<SpoolFile> {
    const f = await realFs.open(path, mode);
    const name = path.slice(path.lastIndexOf("/") + 1);
    const note = (op: Event["op"], n: number) =>
      this.events.push({ op, file: name, lines: n, ...this.counts() });
    if (mode === "create" || (mode === "append" && (await f.size()) === 0)) note("created", 0);
    return {
      write: async (data, pos) => {
        const n = (this.written.get(name) ?? 0) + lines(data);
        note("write", n);
        await f.write(data, pos);
        this.written.set(name, n);
      },
      datasync: async () => {
        const n = this.written.get(name) ?? 0;
        await f.datasync();
        this.synced.set(name, n);
        note("synced", n);
      },
      truncate: (len) => f.truncate(len),
      read: (buf, pos) => f.read(buf, pos),
      size: () => f.size(),
      close: () => f.close(),
    };
  }

  async syncDir(path: string): Promise<void> {
    await realFs.syncDir(path);
    this.events.push({ op: "dirsync", file: "", lines: 0, ...this.counts() });
  }

  /** Lines synced in segments / in the dead letter file. */
  syncedLines(dead: boolean): number {
    let n = 0;
    for (const [f, l] of this.synced) {
      if ((f === "dead-letter.jsonl") === dead && f.startsWith(dead ? "dead" : "seg-")) n += l;
    }
    return n;
  }
}

async function shipperWith(fs: RecordingFs, url: string, dir: string): Promise<ShipperCore> {
  const s = rigSettings(url, dir, { graceSeconds: 0.3 });
  const log = memLogger([]);
  const spool = await Spool.open(dir, s.spoolMaxBytes, log, { fs });
  const sh = new ShipperCore(s, log, spool, { agentId: "ag", runId: "run1" });
  fs.counts = () => ({
    spooled: sh.counters.spooled,
    waiting: spool.waiting.records,
    dead: spool.counters.deadRecords,
  });
  return sh;
}

/**
 * At every recorded moment, nothing counted beyond what was synced before it: the lines
 * fdatasync'ed in a file, once the directory was synced after the file was created.
 */
function assertSyncedBeforeCounted(fs: RecordingFs) {
  const synced = new Map<string, number>();
  const nameSynced = new Set<string>();
  const created: string[] = [];
  const total = (dead: boolean) => {
    let n = 0;
    for (const [f, l] of synced) {
      if (f.startsWith(dead ? "dead-letter" : "seg-") && nameSynced.has(f)) n += l;
    }
    return n;
  };
  for (const [i, e] of fs.events.entries()) {
    // Counts taken at this moment may only cover syncs completed before it.
    const seg = total(false);
    assert.ok(
      e.spooled <= seg,
      `event ${i} (${e.op} ${e.file}): ${e.spooled} spooled, ${seg} synced`,
    );
    assert.ok(e.waiting <= seg, `event ${i}: ${e.waiting} waiting, ${seg} synced`);
    assert.ok(e.dead <= total(true), `event ${i}: ${e.dead} dead-lettered, ${total(true)} synced`);
    if (e.op === "synced") synced.set(e.file, e.lines);
    if (e.op === "created") created.push(e.file);
    if (e.op === "dirsync") { for (const f of created.splice(0)) nameSynced.add(f); }
  }
}

Deno.test("a batch is fdatasync'ed before it counts as spooled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-fsync-" });
  try {
    const fs = new RecordingFs();
    const sh = await shipperWith(fs, "", dir);
    await pushAll(sh, 1000);
    await sh.close();
    assert.equal(sh.counters.spooled, 1000);
    assert.ok(fs.events.filter((e) => e.op === "write").length >= 20, "one write per batch");
    assertSyncedBeforeCounted(fs);
    assert.equal(fs.syncedLines(false), 1000, "every spooled record was synced");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a refused batch is fdatasync'ed in the dead letter file before it counts", async () => {
  const srv = new FakeServer(() => new Response('{"error":"no"}', { status: 400 }));
  const dir = await Deno.makeTempDir({ prefix: "netmon-fsync-" });
  try {
    const fs = new RecordingFs();
    const sh = await shipperWith(fs, srv.url, dir);
    await pushAll(sh, 200);
    await sh.close();
    assert.equal(sh.spool.counters.deadRecords, 200);
    assertSyncedBeforeCounted(fs);
    assert.equal(fs.syncedLines(true), 200);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
