/**
 * The local spool: JSONL segment files, one record per line, written a whole batch
 * at a time and fsynced when the batch is written. Segments are drained oldest first
 * and deleted only after every batch in them was acknowledged.
 *
 * Layout of the spool directory (0700, owned by the user running netmon; files 0600,
 * opened without following symlinks: see files.ts):
 * - `seg-<ms>-<pid>-<n>.jsonl`: segments (names sort oldest first), 1/16 of the cap, at most 4 MiB
 *   (a batch larger than that makes a larger segment).
 * - `seg-<ms>-<pid>-<n>.ack`: how far a segment was acknowledged (a byte offset at a
 *   batch boundary), while the rest of it still waits; removed with the segment.
 * - `dead-letter.jsonl`: batches the server refused as bad (400/422); never retried.
 * - `lock`: pid of the process using the spool (one agent or `spool drain` at a time).
 * - `agent-id`: only on hosts without /etc/machine-id.
 *
 * Nothing here reads a whole spool: segments are scanned in 256 KiB steps at open and by
 * `inspect` (spool status), and the drainer holds one segment at a time.
 *
 * Recovery at open: a segment whose last line has no newline (the writer was killed
 * mid-write) is cut back to its last full line; the torn line is counted and logged.
 * A segment that cannot be read (permissions) is left in place and reported.
 * A failed write (disk full) is cut back to the last complete batch before anything
 * else is written. At the size cap the oldest segments are deleted and their records
 * counted.
 */
import { type Batch, cutBatches } from "./batch.ts";
import type { Logger } from "../log/mod.ts";
import { RuntimeFailure } from "../errors.ts";
import {
  createSmall,
  isNoSpace,
  isNotFound,
  isPermission,
  myUid,
  prepareSpoolDir,
  readSmall,
  realFs,
  reason,
  type SpoolFile,
  type SpoolFs,
  userName,
} from "./files.ts";

export interface Segment {
  name: string;
  /** Bytes of complete lines in the file. */
  bytes: number;
  /** Records still waiting (lines after the acknowledged prefix). */
  records: number;
  /** Bytes at the start of the file that were acknowledged already. */
  ackedBytes: number;
  /** Still being written. */
  active: boolean;
}

/** A segment netmon could not read (or repair), left in place. */
export interface UnreadableSegment {
  name: string;
  bytes: number;
  why: string;
}

export interface SpoolCounters {
  /** Records removed at the size cap (oldest segments first). */
  droppedAtCap: number;
  droppedSegments: number;
  /** Torn last lines cut during recovery. */
  tornLines: number;
  /** Records in segments that disappeared from the directory while netmon ran. */
  vanished: number;
  /** Records in segments that became unreadable while netmon ran (left in place). */
  unreadable: number;
  /** Lines without an envelope found while draining (sent on their own). */
  badLines: number;
  deadRecords: number;
  deadBatches: number;
}

/** A batch the spool could not write; nothing of it stays in the spool. */
export class SpoolWriteError extends Error {
  constructor(message: string, readonly noSpace: boolean) {
    super(message);
    this.name = "SpoolWriteError";
  }
}

/** A closed segment read back: its batches (views into one buffer) and where each starts. */
export interface SegmentData {
  batches: Batch[];
  starts: number[];
  /** Index of the first batch not acknowledged yet. */
  from: number;
}

export interface SpoolOptions {
  /** File operations (tests record them). */
  fs?: SpoolFs;
}

const NL = 0x0a;
const SEGMENT_RE = /^seg-\d+-\d+-\d+\.jsonl$/;
const ACK_RE = /^seg-\d+-\d+-\d+\.ack$/;
const TMP_RE = /^seg-\d+-\d+-\d+\.(jsonl|ack)\.tmp$/;
export const DEAD_LETTER = "dead-letter.jsonl";
/** Bytes read per step when a segment is scanned. */
const SCAN_STEP = 256 * 1024;

/**
 * Segment size: a sixteenth of the cap, within 64 KiB .. 4 MiB. The drainer holds one
 * segment in memory (also while it waits to probe a server that is down).
 */
export function segmentBytesFor(maxBytes: number): number {
  return Math.max(64 * 1024, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 16)));
}

const ackName = (seg: string) => seg.replace(/\.jsonl$/, ".ack");

/** What a scan of a segment file finds. */
interface Scan {
  /** File size. */
  size: number;
  /** Offset just past the last newline (the complete lines). */
  complete: number;
  /** Lines (newlines) in [0, complete). */
  lines: number;
  /** Lines in [0, upTo). */
  linesBefore: number;
}

/** Counts lines in steps of SCAN_STEP bytes with one reused buffer (memory stays flat). */
async function scan(f: SpoolFile, upTo = 0): Promise<Scan> {
  const size = await f.size();
  const buf = new Uint8Array(Math.min(SCAN_STEP, Math.max(1, size)));
  let pos = 0;
  let lines = 0;
  let linesBefore = 0;
  let complete = 0;
  while (pos < size) {
    const n = await f.read(buf, pos);
    if (n <= 0) break;
    for (let i = buf.indexOf(NL); i >= 0 && i < n; i = buf.indexOf(NL, i + 1)) {
      lines++;
      complete = pos + i + 1;
      if (complete <= upTo) linesBefore++;
    }
    pos += n;
  }
  return { size: pos, complete, lines, linesBefore };
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

/** The acknowledged prefix recorded for a segment (0 when none or unreadable). */
async function readAck(sfs: SpoolFs, dir: string, seg: string): Promise<number> {
  try {
    const n = Number((await readSmall(sfs, `${dir}/${ackName(seg)}`, 64)).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

/** A fix for a file the running user cannot read. */
function fixFor(dir: string): string {
  return `make it readable by ${userName(myUid())} (chown/chmod 600) or remove it from ${dir}`;
}

export class Spool {
  readonly counters: SpoolCounters = {
    droppedAtCap: 0,
    droppedSegments: 0,
    tornLines: 0,
    vanished: 0,
    unreadable: 0,
    badLines: 0,
    deadRecords: 0,
    deadBatches: 0,
  };
  /** Segments left in place because they cannot be read. */
  readonly unreadable: UnreadableSegment[] = [];
  /** Segment the drainer is reading: never dropped at the cap. */
  busy: string | null = null;
  private segments: Segment[] = [];
  private active: SpoolFile | null = null;
  private counter = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly segmentBytes: number;
  private closed = false;
  /** Where read() puts a segment (reused: memory stays at the largest segment). */
  private readBuf = new Uint8Array(0);

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly log: Logger,
    private readonly fs: SpoolFs,
  ) {
    this.segmentBytes = segmentBytesFor(maxBytes);
  }

  /**
   * Opens (creates) the spool directory, checks who owns it, takes its lock and
   * recovers what is there.
   */
  static async open(
    dir: string,
    maxBytes: number,
    log: Logger,
    opts: SpoolOptions = {},
  ): Promise<Spool> {
    await prepareSpoolDir(dir);
    const s = new Spool(dir, maxBytes, log, opts.fs ?? realFs);
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
  static async inspect(dir: string, sfs: SpoolFs = realFs): Promise<{
    segments: Segment[];
    deadRecords: number;
    lockedBy: number | null;
    tornSegments: number;
    unreadable: UnreadableSegment[];
  }> {
    const segments: Segment[] = [];
    const unreadable: UnreadableSegment[] = [];
    let deadRecords = 0;
    let tornSegments = 0;
    let lockedBy: number | null = null;
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && (SEGMENT_RE.test(e.name) || e.name === DEAD_LETTER)) names.push(e.name);
      }
    } catch (e) {
      if (isNotFound(e)) return { segments, deadRecords, lockedBy, tornSegments, unreadable };
      throw new RuntimeFailure(`cannot read spool directory ${dir}: ${reason(e)}`);
    }
    for (const name of names.sort()) {
      const acked = name === DEAD_LETTER ? 0 : await readAck(sfs, dir, name);
      let f: SpoolFile;
      try {
        f = await sfs.open(`${dir}/${name}`, "read");
      } catch (e) {
        if (isNotFound(e)) continue; // drained meanwhile
        unreadable.push({ name, bytes: await sizeOf(`${dir}/${name}`), why: reason(e) });
        continue;
      }
      try {
        const sc = await scan(f, acked);
        if (name === DEAD_LETTER) {
          deadRecords = sc.lines;
          continue;
        }
        if (sc.size > sc.complete) tornSegments++;
        segments.push({
          name,
          bytes: sc.complete,
          records: sc.lines - sc.linesBefore,
          ackedBytes: acked,
          active: false,
        });
      } catch (e) {
        unreadable.push({ name, bytes: await sizeOf(`${dir}/${name}`), why: reason(e) });
      } finally {
        await f.close();
      }
    }
    try {
      const pid = Number((await readSmall(sfs, `${dir}/lock`, 64)).trim());
      if (pidAlive(pid)) lockedBy = pid;
    } catch { /* no lock */ }
    return { segments, deadRecords, lockedBy, tornSegments, unreadable };
  }

  private async lock(): Promise<void> {
    const path = `${this.dir}/lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await createSmall(this.fs, path, `${Deno.pid}\n`);
        return;
      } catch (e) {
        if (isPermission(e)) {
          throw new RuntimeFailure(
            `spool directory ${this.dir} is not writable by ${userName(myUid())}: ` +
              `make it writable (chown ${userName(myUid()).split(" ")[0]} ${this.dir}; ` +
              `chmod 700 ${this.dir}) or pass --spool DIR`,
          );
        }
        if (isNoSpace(e)) {
          throw new RuntimeFailure(`spool ${this.dir}: ${reason(e)} (cannot create its lock)`);
        }
        if ((e as { code?: string }).code !== "EEXIST") {
          throw new RuntimeFailure(`cannot lock spool ${this.dir}: ${reason(e)}`);
        }
      }
      let pid = 0;
      try {
        pid = Number((await readSmall(this.fs, path, 64)).trim());
      } catch { /* vanished or not a plain file: replaced below */ }
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
    const acks = new Set<string>();
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile) continue;
      if (SEGMENT_RE.test(e.name)) names.push(e.name);
      else if (ACK_RE.test(e.name)) acks.add(e.name);
      else if (TMP_RE.test(e.name)) await Deno.remove(`${this.dir}/${e.name}`).catch(() => {});
    }
    names.sort();
    for (const name of names) {
      acks.delete(ackName(name));
      const seg = await this.recoverOne(name);
      if (seg !== null) this.segments.push(seg);
    }
    // Acknowledgements of segments that are gone (removed before their .ack).
    for (const a of acks) await Deno.remove(`${this.dir}/${a}`).catch(() => {});
  }

  /** Scans one segment at open: cuts a torn last line; null when empty or unreadable. */
  private async recoverOne(name: string): Promise<Segment | null> {
    const path = `${this.dir}/${name}`;
    const acked = await readAck(this.fs, this.dir, name);
    let sc: Scan;
    try {
      const f = await this.fs.open(path, "read");
      try {
        sc = await scan(f, acked);
      } finally {
        await f.close();
      }
      if (sc.size > sc.complete) {
        const w = await this.fs.open(path, "update");
        try {
          await w.truncate(sc.complete);
          await w.datasync();
        } finally {
          await w.close();
        }
        this.counters.tornLines++;
        this.log.warn(
          `spool: ${name}: cut a torn last line (${
            sc.size - sc.complete
          } bytes, the writer was killed)`,
        );
      }
    } catch (e) {
      if (isNotFound(e)) return null;
      const bytes = await sizeOf(path);
      this.unreadable.push({ name, bytes, why: reason(e) });
      this.log.warn(
        `spool: cannot read ${name} (${reason(e)}): left in place, not sent; ${fixFor(this.dir)}`,
      );
      return null;
    }
    if (sc.complete === 0 || sc.lines === sc.linesBefore) {
      await this.removeFiles(name);
      return null;
    }
    return {
      name,
      bytes: sc.complete,
      records: sc.lines - sc.linesBefore,
      ackedBytes: acked,
      active: false,
    };
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

  /**
   * Appends a closed batch to the active segment and fsyncs it. When the write or the
   * sync fails (disk full), the segment is cut back to its last complete batch and
   * closed (the next batch starts a new one), and a {@link SpoolWriteError} says the
   * batch is not in the spool.
   */
  append(b: Batch): Promise<void> {
    return this.run(async () => {
      if (this.closed) throw new Error("spool closed");
      await this.enforceCap(b.body.length);
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
        let f: SpoolFile | null = null;
        try {
          f = await this.fs.open(`${this.dir}/${name}`, "create");
          // The new name must survive a crash too, not only the bytes synced into it.
          await this.fs.syncDir(this.dir);
        } catch (e) {
          await f?.close().catch(() => {});
          if (f !== null) await Deno.remove(`${this.dir}/${name}`).catch(() => {});
          throw new SpoolWriteError(`cannot create a segment: ${reason(e)}`, isNoSpace(e));
        }
        this.active = f;
        seg = { name, bytes: 0, records: 0, ackedBytes: 0, active: true };
        this.segments.push(seg);
      }
      try {
        await this.active.write(b.body);
        await this.active.datasync();
      } catch (e) {
        await this.rollBack(seg, e);
        throw new SpoolWriteError(`${seg.name}: ${reason(e)}`, isNoSpace(e));
      }
      seg.bytes += b.body.length;
      seg.records += b.records;
      if (seg.bytes >= this.segmentBytes) await this.closeActive();
    });
  }

  /** After a failed write: cut the active segment back to its last complete batch, close it. */
  private async rollBack(seg: Segment, cause: unknown): Promise<void> {
    const f = this.active!;
    this.active = null;
    seg.active = false;
    try {
      await f.truncate(seg.bytes);
      await f.datasync();
    } catch (e) {
      // Reads stop at seg.bytes in this process; a restart would see the partial batch.
      this.log.error(
        `spool: ${seg.name}: cannot cut back the partial batch after "${reason(cause)}" ` +
          `(${reason(e)}); the segment may hold a partial batch after a restart`,
      );
    }
    await f.close().catch(() => {});
    if (seg.records === 0) {
      this.segments.splice(this.segments.indexOf(seg), 1);
      await this.removeFiles(seg.name);
    }
  }

  private async closeActive(): Promise<void> {
    const seg = this.segments[this.segments.length - 1];
    if (seg?.active) seg.active = false;
    if (this.active !== null) {
      const f = this.active;
      this.active = null;
      await f.close().catch(() => {});
    }
  }

  /** Closes the active segment so the drainer can read it. */
  rotate(): Promise<void> {
    return this.run(() => this.closeActive());
  }

  /** Drops the oldest segments (never the one being drained) until `incoming` bytes fit. */
  private async enforceCap(incoming: number): Promise<void> {
    let total = this.waiting.bytes;
    while (total + incoming > this.maxBytes) {
      const victim = this.segments.find((s) => !s.active && s.name !== this.busy);
      if (victim === undefined) {
        const act = this.segments[this.segments.length - 1];
        if (act?.active && act.name !== this.busy && act.records > 0) {
          await this.closeActive();
          continue;
        }
        return;
      }
      this.segments.splice(this.segments.indexOf(victim), 1);
      total -= victim.bytes;
      await this.removeFiles(victim.name);
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

  /**
   * Reads a closed segment back into its batches: views into a buffer the next read()
   * reuses, so the caller is done with them before it reads the next segment. A segment
   * that cannot be read any more is taken out of the index (reported, left in place)
   * and the error rethrown.
   */
  async read(seg: Segment): Promise<SegmentData> {
    let data: Uint8Array;
    try {
      const f = await this.fs.open(`${this.dir}/${seg.name}`, "read");
      try {
        // One buffer for all reads: the drainer is done with a segment before the next.
        if (this.readBuf.length < seg.bytes) this.readBuf = new Uint8Array(seg.bytes);
        data = this.readBuf.subarray(0, seg.bytes);
        let got = 0;
        while (got < seg.bytes) {
          const n = await f.read(data.subarray(got), got);
          if (n <= 0) break;
          got += n;
        }
        // Cut short by someone else: only whole lines count.
        if (got < seg.bytes) data = data.subarray(0, data.subarray(0, got).lastIndexOf(NL) + 1);
      } finally {
        await f.close();
      }
    } catch (e) {
      if (isPermission(e) || (e as { code?: string }).code === "ENOTPLAIN") {
        this.takeOut(seg, reason(e));
      }
      throw e;
    }
    const cut = cutBatches(data, seg.name);
    if (cut.badLines > 0) {
      this.counters.badLines += cut.badLines;
      this.log.warn(`spool: ${seg.name}: ${cut.badLines} lines without a Netmon envelope`);
    }
    let from = 0;
    while (from < cut.starts.length && cut.starts[from] < seg.ackedBytes) from++;
    return { batches: cut.batches, starts: cut.starts, from };
  }

  /** A segment that became unreadable: out of the index, reported, its records counted. */
  private takeOut(seg: Segment, why: string): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.counters.unreadable += seg.records;
    this.unreadable.push({ name: seg.name, bytes: seg.bytes, why });
    this.log.error(
      `spool: cannot read ${seg.name} (${why}): left in place with ${seg.records} records, ` +
        `not sent; ${fixFor(this.dir)}`,
    );
  }

  /**
   * Records that the batches of `data` before index `upTo` were acknowledged (or
   * dead-lettered): the segment's waiting records drop accordingly and the offset is
   * kept in `<segment>.ack`, so a later run and `spool status` skip them. When all of
   * it was acknowledged the segment is deleted.
   */
  acknowledge(seg: Segment, data: SegmentData, upTo: number): Promise<void> {
    return this.run(async () => {
      const end = upTo < data.starts.length ? data.starts[upTo] : seg.bytes;
      let records = 0;
      for (let i = 0; i < upTo; i++) {
        if (data.starts[i] >= seg.ackedBytes) records += data.batches[i].records;
      }
      seg.records = Math.max(0, seg.records - records);
      seg.ackedBytes = Math.max(seg.ackedBytes, end);
      if (upTo >= data.batches.length) {
        const i = this.segments.indexOf(seg);
        if (i >= 0) this.segments.splice(i, 1);
        await this.removeFiles(seg.name);
        return;
      }
      const tmp = `${this.dir}/${ackName(seg.name)}.tmp`;
      try {
        await Deno.remove(tmp).catch(() => {});
        // Not synced: losing the note only means those batches are sent again (duplicates).
        await createSmall(this.fs, tmp, `${seg.ackedBytes}\n`, false);
        await Deno.rename(tmp, `${this.dir}/${ackName(seg.name)}`);
      } catch (e) {
        // Without it a later run sends these batches again; the server answers "duplicate".
        this.log.debug(`spool: cannot note the progress of ${seg.name}: ${reason(e)}`);
      }
    });
  }

  /** Removes a segment and its acknowledgement file. */
  private async removeFiles(name: string): Promise<void> {
    try {
      await Deno.remove(`${this.dir}/${name}`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    await Deno.remove(`${this.dir}/${ackName(name)}`).catch(() => {});
  }

  /** Deletes a segment once all of it was acknowledged. */
  remove(seg: Segment): Promise<void> {
    return this.run(async () => {
      const i = this.segments.indexOf(seg);
      if (i >= 0) this.segments.splice(i, 1);
      await this.removeFiles(seg.name);
    });
  }

  /** Drops a segment that vanished from the directory from the index (counted as dropped). */
  forget(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.counters.vanished += seg.records;
  }

  /**
   * Appends a refused batch to the dead letter file (fsynced). A failed write is cut
   * back, and a {@link SpoolWriteError} says the batch is not in the file.
   */
  deadLetter(b: Batch): Promise<void> {
    return this.run(async () => {
      let f: SpoolFile;
      try {
        f = await this.fs.open(`${this.dir}/${DEAD_LETTER}`, "append");
      } catch (e) {
        throw new SpoolWriteError(`${DEAD_LETTER}: ${reason(e)}`, isNoSpace(e));
      }
      try {
        const before = await f.size();
        try {
          await f.write(b.body);
          await f.datasync();
          if (before === 0) await this.fs.syncDir(this.dir);
        } catch (e) {
          await f.truncate(before).catch(() => {});
          throw new SpoolWriteError(`${DEAD_LETTER}: ${reason(e)}`, isNoSpace(e));
        }
      } finally {
        await f.close().catch(() => {});
      }
      this.counters.deadRecords += b.records;
      this.counters.deadBatches++;
    });
  }

  /** Closes the active segment and releases the lock. */
  close(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      await this.closeActive();
      this.closed = true;
      await this.unlock();
    });
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.lstat(path)).size;
  } catch {
    return 0;
  }
}
