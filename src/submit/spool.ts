/**
 * The local spool: JSONL segment files, one record per line, written a whole batch
 * at a time and fsynced when the batch is written. Segments are drained oldest first
 * and deleted only after every batch in them was acknowledged.
 *
 * Layout of the spool directory:
 * - `seg-<ms>-<pid>-<n>.jsonl`: segments (names sort oldest first), 1/16 of the cap, at most 4 MiB
 *   (a batch larger than that makes a larger segment).
 * - `dead-letter.jsonl`: batches the server refused as bad (400/422); never retried.
 * - `lock`: pid of the process using the spool (one agent or `spool drain` at a time).
 * - `agent-id`: only on hosts without /etc/machine-id.
 *
 * Recovery at open: a segment whose last line has no newline (the writer was killed
 * mid-write) is cut back to its last full line; the torn line is counted and logged.
 * At the size cap the oldest segments are deleted and their records counted.
 */
import { type Batch, cutBatches } from "./batch.ts";
import type { Logger } from "../log/mod.ts";
import { RuntimeFailure } from "../errors.ts";

export interface Segment {
  name: string;
  bytes: number;
  records: number;
  /** Still being written. */
  active: boolean;
}

export interface SpoolCounters {
  /** Records removed at the size cap (oldest segments first). */
  droppedAtCap: number;
  droppedSegments: number;
  /** Torn last lines cut during recovery. */
  tornLines: number;
  /** Records in segments that disappeared from the directory while netmon ran. */
  vanished: number;
  /** Lines without an envelope found while draining (sent to the dead letter file). */
  badLines: number;
  deadRecords: number;
  deadBatches: number;
}

const NL = 0x0a;
const SEGMENT_RE = /^seg-\d+-\d+-\d+\.jsonl$/;
export const DEAD_LETTER = "dead-letter.jsonl";

/**
 * Segment size: a sixteenth of the cap, within 64 KiB .. 4 MiB. The drainer holds one
 * segment in memory (also while it waits to probe a server that is down).
 */
export function segmentBytesFor(maxBytes: number): number {
  return Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 16)));
}

async function writeAll(f: Deno.FsFile, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await f.write(data.subarray(off));
}

function countLines(data: Uint8Array): number {
  let n = 0;
  let i = data.indexOf(NL);
  while (i >= 0) {
    n++;
    i = data.indexOf(NL, i + 1);
  }
  return n;
}

/** Is `pid` a live process that could be netmon? */
function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === Deno.pid) return false;
  try {
    const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    return /deno|netmon/.test(cmd);
  } catch {
    return false;
  }
}

export class Spool {
  readonly counters: SpoolCounters = {
    droppedAtCap: 0,
    droppedSegments: 0,
    tornLines: 0,
    vanished: 0,
    badLines: 0,
    deadRecords: 0,
    deadBatches: 0,
  };
  /** Segment the drainer is reading: never dropped at the cap. */
  busy: string | null = null;
  private segments: Segment[] = [];
  private active: Deno.FsFile | null = null;
  private counter = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly segmentBytes: number;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.segmentBytes = segmentBytesFor(maxBytes);
  }

  /** Opens (creates) the spool directory, takes its lock and recovers what is there. */
  static async open(dir: string, maxBytes: number, log: Logger): Promise<Spool> {
    try {
      await Deno.mkdir(dir, { recursive: true });
    } catch (e) {
      throw new RuntimeFailure(`cannot create spool directory ${dir}: ${(e as Error).message}`);
    }
    const s = new Spool(dir, maxBytes, log);
    await s.lock();
    try {
      await s.recover();
    } catch (e) {
      await s.unlock();
      throw e;
    }
    return s;
  }

  /** Reads what a spool holds without taking the lock or changing anything (spool status). */
  static async inspect(dir: string): Promise<
    { segments: Segment[]; deadRecords: number; lockedBy: number | null; tornSegments: number }
  > {
    const segments: Segment[] = [];
    let deadRecords = 0;
    let tornSegments = 0;
    let lockedBy: number | null = null;
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.isFile) continue;
        if (SEGMENT_RE.test(e.name)) {
          const data = await Deno.readFile(`${dir}/${e.name}`);
          if (data.length > 0 && data[data.length - 1] !== NL) tornSegments++;
          segments.push({
            name: e.name,
            bytes: data.length,
            records: countLines(data),
            active: false,
          });
        } else if (e.name === DEAD_LETTER) {
          deadRecords = countLines(await Deno.readFile(`${dir}/${e.name}`));
        }
      }
      const pid = Number((await Deno.readTextFile(`${dir}/lock`)).trim());
      if (pidAlive(pid)) lockedBy = pid;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    segments.sort((a, b) => a.name < b.name ? -1 : 1);
    return { segments, deadRecords, lockedBy, tornSegments };
  }

  private async lock(): Promise<void> {
    const path = `${this.dir}/lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const f = await Deno.open(path, { write: true, createNew: true });
        await writeAll(f, new TextEncoder().encode(`${Deno.pid}\n`));
        f.close();
        return;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      let pid = 0;
      try {
        pid = Number((await Deno.readTextFile(path)).trim());
      } catch { /* vanished: retry */ }
      if (pidAlive(pid)) {
        throw new RuntimeFailure(`spool ${this.dir} is in use by process ${pid}`);
      }
      this.log.info(`spool ${this.dir}: taking over the lock of process ${pid || "?"} (gone)`);
      await Deno.remove(path).catch(() => {});
    }
    throw new RuntimeFailure(`cannot lock spool ${this.dir}`);
  }

  private async unlock(): Promise<void> {
    await Deno.remove(`${this.dir}/lock`).catch(() => {});
  }

  private async recover(): Promise<void> {
    const names: string[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && SEGMENT_RE.test(e.name)) names.push(e.name);
    }
    names.sort();
    for (const name of names) {
      const path = `${this.dir}/${name}`;
      const data = await Deno.readFile(path);
      let len = data.length;
      if (len > 0 && data[len - 1] !== NL) {
        len = data.lastIndexOf(NL) + 1;
        await Deno.truncate(path, len);
        this.counters.tornLines++;
        this.log.warn(
          `spool: ${name}: cut a torn last line (${
            data.length - len
          } bytes, the writer was killed)`,
        );
      }
      if (len === 0) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      this.segments.push({
        name,
        bytes: len,
        records: countLines(data.subarray(0, len)),
        active: false,
      });
    }
  }

  /** Records and bytes waiting (all segments). */
  get waiting(): { records: number; bytes: number; segments: number } {
    let records = 0;
    let bytes = 0;
    for (const s of this.segments) {
      records += s.records;
      bytes += s.bytes;
    }
    return { records, bytes, segments: this.segments.length };
  }

  /** True when no segment holds anything. */
  get empty(): boolean {
    return this.segments.every((s) => s.records === 0);
  }

  /** Serializes file operations. */
  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  /** Appends a closed batch to the active segment and fsyncs it. */
  append(b: Batch): Promise<void> {
    return this.run(async () => {
      if (this.closed) throw new Error("spool closed");
      this.enforceCap(b.body.length);
      if (b.body.length > this.maxBytes) {
        this.counters.droppedAtCap += b.records;
        this.log.warn(`spool: a batch of ${b.body.length} bytes exceeds the spool cap; dropped`);
        return;
      }
      let seg = this.segments[this.segments.length - 1];
      if (this.active === null || !seg?.active) {
        const name = `seg-${String(Date.now()).padStart(14, "0")}-${Deno.pid}-${
          String(this.counter++).padStart(6, "0")
        }.jsonl`;
        this.active = await Deno.open(`${this.dir}/${name}`, {
          write: true,
          create: true,
          append: true,
        });
        seg = { name, bytes: 0, records: 0, active: true };
        this.segments.push(seg);
      }
      await writeAll(this.active, b.body);
      await this.active.syncData();
      seg.bytes += b.body.length;
      seg.records += b.records;
      if (seg.bytes >= this.segmentBytes) this.closeActive();
    });
  }

  private closeActive(): void {
    const seg = this.segments[this.segments.length - 1];
    if (seg?.active) seg.active = false;
    if (this.active !== null) {
      this.active.close();
      this.active = null;
    }
  }

  /** Closes the active segment so the drainer can read it. */
  rotate(): Promise<void> {
    return this.run(() => {
      this.closeActive();
      return Promise.resolve();
    });
  }

  /** Drops the oldest segments (never the one being drained) until `incoming` bytes fit. */
  private enforceCap(incoming: number): void {
    let total = this.waiting.bytes;
    while (total + incoming > this.maxBytes) {
      const victim = this.segments.find((s) => !s.active && s.name !== this.busy);
      if (victim === undefined) {
        const act = this.segments[this.segments.length - 1];
        if (act?.active && act.name !== this.busy && act.records > 0) {
          this.closeActive();
          continue;
        }
        return;
      }
      this.segments.splice(this.segments.indexOf(victim), 1);
      total -= victim.bytes;
      try {
        Deno.removeSync(`${this.dir}/${victim.name}`);
      } catch { /* already gone */ }
      this.counters.droppedAtCap += victim.records;
      this.counters.droppedSegments++;
      this.log.warn(
        `spool: size cap ${this.maxBytes} bytes reached: dropped the oldest segment ` +
          `(${victim.records} records; ${this.counters.droppedAtCap} dropped so far)`,
      );
    }
  }

  /** The oldest segment that is complete (not being written), or null. */
  oldestClosed(): Segment | null {
    return this.segments.find((s) => !s.active && s.records > 0) ?? null;
  }

  /** Has the active segment got records (a rotate would make them drainable)? */
  get activeHasData(): boolean {
    const s = this.segments[this.segments.length - 1];
    return s !== undefined && s.active && s.records > 0;
  }

  /** Reads a closed segment back into its batches (views into one buffer). */
  async read(seg: Segment): Promise<Batch[]> {
    const data = await Deno.readFile(`${this.dir}/${seg.name}`);
    const cut = cutBatches(data, this.counters.badLines);
    if (cut.badLines > 0) {
      this.counters.badLines += cut.badLines;
      this.log.warn(`spool: ${seg.name}: ${cut.badLines} lines without a Netmon envelope`);
    }
    return cut.batches;
  }

  /** Deletes a segment once all of it was acknowledged. */
  remove(seg: Segment): Promise<void> {
    return this.run(async () => {
      const i = this.segments.indexOf(seg);
      if (i >= 0) this.segments.splice(i, 1);
      await Deno.remove(`${this.dir}/${seg.name}`).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    });
  }

  /** Drops a segment that vanished from the directory from the index (counted as dropped). */
  forget(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.counters.vanished += seg.records;
  }

  /** Appends a refused batch to the dead letter file (fsynced). */
  deadLetter(b: Batch): Promise<void> {
    return this.run(async () => {
      const f = await Deno.open(`${this.dir}/${DEAD_LETTER}`, {
        write: true,
        create: true,
        append: true,
      });
      try {
        await writeAll(f, b.body);
        await f.syncData();
      } finally {
        f.close();
      }
      this.counters.deadRecords += b.records;
      this.counters.deadBatches++;
    });
  }

  /** Closes the active segment and releases the lock. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      this.closeActive();
      this.closed = true;
      await this.unlock();
    });
  }
}
