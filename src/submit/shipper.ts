/**
 * The shipper: batcher -> (live send | spool) -> drain, with bounded memory.
 *
 * push() stamps and serializes the record into the open batch (sync). Closed batches
 * wait in a bounded in-memory queue; from there they are either
 * - sent at once when the server is up and a request slot is free, or
 * - appended to the spool (fsynced) when there is no server, the server is down or
 *   refuses on configuration grounds, or the queue is three quarters full.
 * A batch whose send fails goes to the spool. One drainer sends spooled batches,
 * oldest segment first, in one of the request slots alongside live traffic; while
 * the server is down the drainer's next attempt is the probe.
 *
 * Memory: queue (queueRecords records) + in-flight batches + one spool segment.
 */
import type { PacketRecord } from "../decode/record.ts";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/mod.ts";
import { type Batch, Batcher, batchKey, BufferPool } from "./batch.ts";
import { Backoff, deliver, type Delivery, type Outcome, Submitter } from "./http.ts";
import { type Segment, type Spool, SpoolWriteError } from "./spool.ts";
import { isNotFound, isPermission } from "./files.ts";
import type { Identity } from "./identity.ts";

export interface Shipper {
  /** Takes one record (sync, never blocks). Returns false when it was dropped (queue full). */
  push(rec: PacketRecord): boolean;
  /** Resolves when the queue has room again (used by file replay for back-pressure). */
  ready(): Promise<void>;
  /** Short status fragment for the status line: "submitted N, spooled N, queue N". */
  status(): string;
  /** Ends shipping: closes the open batch, waits the grace period, returns summary lines. */
  close(): Promise<string[]>;
  /**
   * After close(): why accepted records were lost (the spool could not store them), for
   * a non-zero exit; null when nothing was lost that way.
   */
  lossProblem(): string | null;
}
/**
 * Memory bound of the queue in bytes, besides `queueRecords`: at least 64 MiB, or three
 * batches when batches are larger. ready() waits above an eighth (a quarter of
 * `queueRecords`), spilling to the spool starts at three quarters, records are dropped
 * when it is full.
 */
export function queueBytesFor(batchBytes: number): number {
  return Math.max(64 * 1024 * 1024, 3 * batchBytes);
}
/** Backoff for servers that answer "not now" (5xx, 429, 408): ~1 s doubling to 60 s. */
const BACKOFF_CAP_MS = 60_000;

export interface ShipperCounters {
  /** Records that got a sequence number (entered a batch). */
  accepted: number;
  /** Records the server acknowledged (live and from the spool, earlier runs included). */
  shipped: number;
  shippedBatches: number;
  /** Batches the server already had (same Idempotency-Key). */
  duplicateBatches: number;
  /** Records written to the spool. */
  spooled: number;
  /** Dropped records by reason (before and after acceptance). */
  dropped: Record<string, number>;
  /** Accepted records lost because the spool could not store them, by reason. */
  lost: Record<string, number>;
  /** Records the server refused with 422 (a key reused with another body: a netmon bug). */
  conflicts: number;
}

/** Drop reasons of accepted records that the spool could not store. */
const NO_SPACE = "no space left for the spool";
const WRITE_FAILED = "spool write failed";
const DEAD_WRITE_FAILED = "dead letter write failed";

type ServerState = "up" | "down" | "config";

/** Memory a queued batch holds: its whole buffer (parts of a split batch: their bytes). */
function memBytes(b: Batch): number {
  return b.part === "" ? b.body.buffer.byteLength : b.body.length;
}

export class ShipperCore implements Shipper {
  readonly counters: ShipperCounters = {
    accepted: 0,
    shipped: 0,
    shippedBatches: 0,
    duplicateBatches: 0,
    spooled: 0,
    dropped: {},
    lost: {},
    conflicts: 0,
  };
  private readonly batcher: Batcher;
  private readonly pool: BufferPool;
  private readonly sub: Submitter | null;
  private readonly queueMax: number;
  private readonly readyAt: number;
  private readonly spillAt: number;
  private readonly inFlight: number;
  private readonly retryMs: number;
  private readonly backoff: Backoff;
  private pending: Batch[] = [];
  /** Records in the open batch, the queue and the batch being spooled. */
  private pendingRecords = 0;
  /** Bytes of the closed batches in the queue (and the one being spooled). */
  private pendingBytes = 0;
  private readonly queueBytes: number;
  private liveInFlight = 0;
  private drainInFlight = 0;
  private state: ServerState = "up";
  private lastProblem = "";
  private nextProbeAt = 0;
  private spoolWriting = false;
  private draining = false;
  private closing = false;
  /** End of the grace period (set by close()). */
  private graceEnd = Infinity;
  private stopDrain = false;
  private stopSending = false;
  private readonly closeAbort = new AbortController();
  private changeWaiters: (() => void)[] = [];
  private readyWaiters: (() => void)[] = [];
  private drainWake: (() => void) | null = null;
  private firstDeadLogged = false;
  /** Spool write problems said so far (each reason once at error level). */
  private readonly writeProblems = new Set<string>();
  private readonly startWaiting: number;
  /** Peak memory figures sampled at each batch close (only with NETMON_DEBUG_MEM set). */
  private readonly memPeak: Record<string, number> | null = Deno.env.get("NETMON_DEBUG_MEM")
    ? { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, pendingBytes: 0 }
    : null;

  constructor(
    private readonly s: Settings,
    private readonly log: Logger,
    readonly spool: Spool,
    readonly id: Identity,
  ) {
    this.pool = new BufferPool(1 << 20, 2);
    this.batcher = new Batcher(
      id.agentId,
      id.runId,
      { records: s.batchRecords, bytes: s.batchBytes, seconds: s.batchSeconds },
      (b) => this.onBatch(b),
      this.pool,
    );
    this.sub = s.serverUrl
      ? new Submitter({
        url: s.serverUrl,
        format: s.serverFormat,
        token: s.serverToken,
        table: s.serverTable,
        gzip: s.gzip,
        timeoutMs: s.requestTimeout * 1000,
      })
      : null;
    this.queueMax = s.queueRecords;
    this.readyAt = Math.max(1, Math.floor(s.queueRecords / 4));
    this.queueBytes = queueBytesFor(s.batchBytes);
    this.spillAt = Math.floor((s.queueRecords * 3) / 4);
    this.inFlight = Math.max(1, Math.min(2, s.inFlight));
    this.retryMs = s.retryInterval * 1000;
    this.backoff = new Backoff(Math.min(1000, this.retryMs), BACKOFF_CAP_MS);
    this.startWaiting = spool.waiting.records;
    if (this.startWaiting > 0) {
      log.info(
        `spool ${spool.dir} holds ${this.startWaiting} records from earlier runs` +
          (this.sub ? "; draining them" : ""),
      );
    }
    this.startDrain();
  }

  // ---- intake -------------------------------------------------------------------------

  push(rec: PacketRecord): boolean {
    if (this.closing) return this.drop("after close");
    if (this.pendingRecords >= this.queueMax || this.pendingBytes >= this.queueBytes) {
      return this.drop("queue full");
    }
    if (!this.batcher.add(rec)) return this.drop("not serializable");
    this.pendingRecords++;
    this.counters.accepted++;
    return true;
  }

  private drop(reason: string, n = 1): false {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + n;
    return false;
  }

  /** Accepted records the spool could not store: dropped, counted, said once per reason. */
  private lose(reason: string, n: number, detail: string): void {
    this.drop(reason, n);
    this.counters.lost[reason] = (this.counters.lost[reason] ?? 0) + n;
    const msg = `spool ${this.spool.dir}: ${detail}; ${n} records dropped`;
    if (this.writeProblems.has(reason)) this.log.debug(msg);
    else this.log.error(msg + " (later failures of this kind: debug level)");
    this.writeProblems.add(reason);
  }

  private onBatch(b: Batch): void {
    if (this.memPeak !== null) {
      const m = Deno.memoryUsage();
      for (const k of ["rss", "heapTotal", "heapUsed", "external"] as const) {
        this.memPeak[k] = Math.max(this.memPeak[k], m[k]);
      }
      this.memPeak.pendingBytes = Math.max(this.memPeak.pendingBytes, this.pendingBytes);
    }
    this.pending.push(b);
    this.pendingBytes += memBytes(b);
    this.pump();
  }

  private get hasRoom(): boolean {
    return this.pendingRecords < this.readyAt && this.pendingBytes < this.queueBytes / 8;
  }

  ready(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    // The open batch must not hold up a waiting reader (its timer does not keep us alive).
    if (this.batcher.openRecords > 0) this.batcher.flush();
    if (this.hasRoom) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  status(): string {
    const w = this.spool.waiting.records;
    const st = this.sub === null ? "" : this.state === "up" ? "" : `, server ${this.state}`;
    return `submitted ${this.counters.shipped}, spooled ${w}, queue ${this.pendingRecords}${st}`;
  }

  // ---- scheduling ---------------------------------------------------------------------

  private notify(): void {
    if (this.readyWaiters.length > 0 && this.hasRoom) {
      const w = this.readyWaiters;
      this.readyWaiters = [];
      for (const r of w) r();
    }
    if (this.changeWaiters.length > 0) {
      const w = this.changeWaiters;
      this.changeWaiters = [];
      for (const r of w) r();
    }
  }

  private changed(): Promise<void> {
    return new Promise((r) => this.changeWaiters.push(r));
  }

  private get drainWanted(): boolean {
    return this.sub !== null && !this.stopDrain && !this.spool.empty;
  }

  private canSendLive(): boolean {
    if (this.sub === null || this.state !== "up" || this.stopSending) return false;
    const liveLimit = this.drainWanted && this.inFlight > 1 ? this.inFlight - 1 : this.inFlight;
    return this.liveInFlight < liveLimit && this.liveInFlight + this.drainInFlight < this.inFlight;
  }

  private shouldSpool(): boolean {
    return this.sub === null || this.state !== "up" || this.stopSending ||
      this.pendingRecords > this.spillAt || this.pendingBytes > (this.queueBytes * 3) / 4;
  }

  private pump(): void {
    while (this.pending.length > 0 && this.canSendLive()) {
      const b = this.pending.shift()!;
      this.pendingRecords -= b.records;
      this.pendingBytes -= memBytes(b);
      void this.sendLive(b);
    }
    if (this.pending.length > 0 && this.shouldSpool()) void this.spoolWriter();
    this.startDrain();
    this.notify();
  }

  private async spoolWriter(): Promise<void> {
    if (this.spoolWriting) return;
    this.spoolWriting = true;
    try {
      while (this.pending.length > 0 && this.shouldSpool()) {
        const b = this.pending.shift()!;
        try {
          await this.spool.append(b);
          this.counters.spooled += b.records;
          // Parts of a split batch share their buffer with the other part: only whole ones.
          if (b.part === "") this.pool.give(b.body);
        } catch (e) {
          const full = e instanceof SpoolWriteError && e.noSpace;
          this.lose(full ? NO_SPACE : WRITE_FAILED, b.records, (e as Error).message);
        }
        this.pendingRecords -= b.records;
        this.pendingBytes -= memBytes(b);
        this.startDrain();
        this.notify();
      }
    } finally {
      this.spoolWriting = false;
    }
    this.pump();
  }

  private readonly deadLetter = async (b: Batch, why: string, conflict: boolean) => {
    let kept = true;
    try {
      await this.spool.deadLetter(b);
    } catch (e) {
      kept = false;
      this.lose(DEAD_WRITE_FAILED, b.records, (e as Error).message);
    }
    const where = kept ? `moved to ${this.spool.dir}/dead-letter.jsonl` : "lost";
    if (conflict) {
      // Said every time: a closed batch never changes, so this is a bug to report.
      this.counters.conflicts += b.records;
      this.log.error(
        `netmon bug: the server has Idempotency-Key ${batchKey(b)} with another body (${why}); ` +
          `batch of ${b.records} records not counted as stored, ${where}; please report this`,
      );
      return;
    }
    const msg = `server refused batch ${batchKey(b)} (${b.records} records) as bad: ${why}; ` +
      `${where}, not retried`;
    if (!this.firstDeadLogged) this.log.warn(msg);
    else this.log.debug(msg);
    this.firstDeadLogged = true;
  };

  private account(d: Delivery): void {
    this.counters.shipped += d.stored;
    this.counters.shippedBatches += d.storedBatches;
    this.counters.duplicateBatches += d.duplicates;
  }

  private async sendLive(b: Batch): Promise<void> {
    this.liveInFlight++;
    let d: Delivery;
    try {
      d = await deliver(this.sub!, b, this.deadLetter, this.closeAbort.signal);
    } finally {
      this.liveInFlight--;
    }
    this.account(d);
    if (d.outcome.kind === "ok") {
      // Whole, unsplit and acknowledged: the server read all of it, the buffer is free.
      if (b.part === "" && d.storedBatches === 1 && d.stored === b.records) this.pool.give(b.body);
      this.markUp();
    } else {
      this.markDown(d.outcome);
      for (const u of d.unsent) {
        this.pendingRecords += u.records;
        this.pendingBytes += memBytes(u);
      }
      this.pending.unshift(...d.unsent);
    }
    this.pump();
  }

  private markUp(): void {
    if (this.state !== "up") {
      this.log.info(
        `server ${this.sub!.where} takes records again; draining the spool ` +
          `(${this.spool.waiting.records} records)`,
      );
    }
    this.state = "up";
    this.lastProblem = "";
    this.backoff.reset();
  }

  private markDown(o: Outcome): void {
    if (this.closing && this.stopSending) return;
    let delay: number;
    if (o.kind === "config") {
      delay = this.retryMs;
      if (this.lastProblem !== o.why) {
        this.log.error(
          `server ${this.sub!.where} refuses batches (${o.why}): configuration error? ` +
            `(check the URL, --server-token, --table); records are kept in the spool ` +
            `${this.spool.dir}, asking again every ${this.s.retryInterval} s`,
        );
      }
      this.state = "config";
    } else if (o.kind === "retry") {
      delay = o.connection
        ? this.retryMs * (0.9 + Math.random() * 0.2)
        : this.backoff.next(o.retryAfterMs);
      if (this.state === "up") {
        this.log.warn(
          `server ${this.sub!.where} not taking records (${o.why}); spooling to ` +
            `${this.spool.dir}, next attempt in ${(delay / 1000).toFixed(1)} s`,
        );
      } else {
        this.log.debug(
          `server still down (${o.why}); next attempt in ${(delay / 1000).toFixed(1)} s`,
        );
      }
      this.state = "down";
    } else {
      return;
    }
    this.lastProblem = o.kind === "config" ? o.why : "";
    this.nextProbeAt = Date.now() + delay;
  }

  // ---- draining -----------------------------------------------------------------------

  private startDrain(): void {
    if (this.draining || !this.drainWanted) return;
    void this.drainLoop();
  }

  /** Sleeps until `at` or until woken (close, state change). */
  private sleepUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.drainWake === done) this.drainWake = null;
        resolve();
      };
      const t = setTimeout(done, Math.max(0, at - Date.now()));
      this.drainWake = done;
    });
  }

  private wakeDrainer(): void {
    this.drainWake?.();
  }

  private async drainLoop(): Promise<void> {
    this.draining = true;
    try {
      while (!this.stopDrain) {
        const seg = this.spool.oldestClosed();
        if (seg === null) {
          if (!this.spool.activeHasData) break;
          if (this.state !== "up" && Date.now() < this.nextProbeAt) {
            if (this.nextProbeAt > this.graceEnd) break;
            await this.sleepUntil(this.nextProbeAt);
            continue;
          }
          await this.spool.rotate();
          continue;
        }
        try {
          await this.drainSegment(seg);
        } catch (e) {
          this.spool.busy = null;
          if (isNotFound(e)) {
            this.log.error(`spool: ${seg.name} was removed by someone else`);
            this.spool.forget(seg);
          } else if (!isPermission(e) && (e as { code?: string }).code !== "ENOTPLAIN") {
            // An I/O error: say so, try later. (Unreadable segments were taken out by read().)
            this.log.error(`spool: cannot drain ${seg.name}: ${(e as Error).message}`);
            await this.sleepUntil(Date.now() + this.retryMs);
          }
        }
      }
    } finally {
      this.draining = false;
      this.spool.busy = null;
      this.notify();
    }
  }

  private async drainSegment(seg: Segment): Promise<void> {
    this.spool.busy = seg.name;
    const data = await this.spool.read(seg);
    const batches = data.batches;
    let i = data.from;
    while (i < batches.length && !this.stopDrain) {
      if (this.state !== "up") {
        // While closing, probe again only if that fits in the grace period.
        if (this.nextProbeAt > this.graceEnd) {
          this.stopDrain = true;
          break;
        }
        if (Date.now() < this.nextProbeAt) {
          await this.sleepUntil(this.nextProbeAt);
          continue;
        }
      }
      while (this.liveInFlight + this.drainInFlight >= this.inFlight && !this.stopDrain) {
        await this.changed();
      }
      if (this.stopDrain) break;
      this.drainInFlight++;
      let d: Delivery;
      try {
        d = await deliver(this.sub!, batches[i], this.deadLetter, this.closeAbort.signal);
      } finally {
        this.drainInFlight--;
      }
      this.account(d);
      if (d.outcome.kind === "ok") {
        i++;
        // Acknowledged (or dead-lettered): no longer waiting; the last one deletes the segment.
        await this.spool.acknowledge(seg, data, i);
        this.markUp();
      } else {
        this.markDown(d.outcome);
      }
      this.pump();
    }
    this.spool.busy = null;
  }

  // ---- closing ------------------------------------------------------------------------

  private async waitUntil(pred: () => boolean, deadline: number): Promise<boolean> {
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let t: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.changed(),
        new Promise<void>((r) => (t = setTimeout(r, Math.min(left, 250)))),
      ]);
      clearTimeout(t);
    }
    return true;
  }

  async close(): Promise<string[]> {
    if (this.closing) return [];
    this.closing = true;
    const deadline = Date.now() + this.s.graceSeconds * 1000;
    this.graceEnd = deadline;
    this.batcher.flush();
    this.pump();
    this.wakeDrainer();
    // Grace: live batches finish; the spool keeps draining (and probing) until the deadline.
    await this.waitUntil(
      () =>
        this.pending.length === 0 && this.liveInFlight === 0 && !this.spoolWriting &&
        !this.draining,
      deadline,
    );
    // Then: whatever is not acknowledged stays in (or goes to) the spool.
    this.stopDrain = true;
    this.stopSending = true;
    this.closeAbort.abort();
    this.wakeDrainer();
    this.pump();
    await this.waitUntil(
      () =>
        this.pending.length === 0 && this.liveInFlight === 0 && this.drainInFlight === 0 &&
        !this.spoolWriting && !this.draining,
      Date.now() + 60_000,
    );
    await this.spool.close();
    if (this.memPeak !== null) {
      const mb = Object.entries(this.memPeak).map(([k, v]) => `${k} ${(v / 1048576).toFixed(0)}`);
      this.log.info(`memory peaks at batch close (MiB): ${mb.join(", ")}`);
    }
    return this.summary();
  }

  /** Summary lines: where every accepted record went. */
  summary(): string[] {
    const c = this.counters;
    const sc = this.spool.counters;
    const w = this.spool.waiting;
    const lines: string[] = [];
    const run = `agent ${this.id.agentId} run ${this.id.runId}`;
    if (this.sub !== null) {
      lines.push(
        `netmon: shipped ${c.shipped} records in ${c.shippedBatches} batches to ${this.sub.where}` +
          (c.duplicateBatches > 0 ? ` (${c.duplicateBatches} batches were already there)` : "") +
          `; ${c.accepted} records accepted (${run})`,
      );
    } else {
      lines.push(`netmon: ${c.accepted} records accepted (${run}), ${c.spooled} spooled`);
    }
    if (sc.deadRecords > 0) {
      lines.push(
        `netmon: ${sc.deadRecords} records (${sc.deadBatches} batches) refused by the server as bad, ` +
          `kept in ${this.spool.dir}/dead-letter.jsonl` +
          (c.conflicts > 0 ? ` (${c.conflicts} of them as a key conflict: a netmon bug)` : ""),
      );
    }
    const drops = Object.entries(c.dropped).map(([k, v]) => `${v} ${k}`);
    if (sc.droppedAtCap > 0) drops.push(`${sc.droppedAtCap} at the spool size cap`);
    if (sc.vanished > 0) drops.push(`${sc.vanished} in spool segments removed by someone else`);
    if (sc.unreadable > 0) drops.push(`${sc.unreadable} left in unreadable spool segments`);
    if (sc.tornLines > 0) drops.push(`${sc.tornLines} torn lines cut in crash recovery`);
    if (drops.length > 0) lines.push(`netmon: records dropped: ${drops.join(", ")}`);
    const b = this.balance();
    lines.push(
      `netmon: records: ${b.earlier} from earlier runs + ${b.accepted} accepted = ` +
        `${b.shipped} shipped + ${b.dead} refused as bad + ${b.waiting} waiting + ${b.dropped} dropped`,
    );
    if (this.state === "config") {
      lines.push(`netmon: server configuration error: ${this.lastProblem}`);
    }
    if (this.spool.unreadable.length > 0) {
      const u = this.spool.unreadable;
      lines.push(
        `netmon: ${u.length} spool segments cannot be read and stay in ${this.spool.dir} ` +
          `(${u.map((x) => `${x.name}: ${x.why}`).join(", ")})`,
      );
    }
    lines.push(
      w.records > 0
        ? `netmon: ${w.records} records waiting in spool ${this.spool.dir} (${w.bytes} bytes)`
        : `netmon: spool ${this.spool.dir} is empty`,
    );
    return lines;
  }

  /**
   * Where every record went: records from earlier runs (waiting at start) plus records
   * accepted now equal shipped + refused as bad + still waiting + dropped after they
   * were accepted (the spool could not store them, the size cap, segments removed or
   * unreadable). Records dropped before acceptance (queue full) are not in `accepted`.
   */
  balance(): {
    earlier: number;
    accepted: number;
    shipped: number;
    dead: number;
    waiting: number;
    dropped: number;
  } {
    const sc = this.spool.counters;
    const lost = Object.values(this.counters.lost).reduce((a, v) => a + v, 0);
    return {
      earlier: this.startWaiting,
      accepted: this.counters.accepted,
      shipped: this.counters.shipped,
      dead: sc.deadRecords,
      waiting: this.spool.waiting.records,
      dropped: lost + sc.droppedAtCap + sc.vanished + sc.unreadable,
    };
  }

  lossProblem(): string | null {
    const lost = Object.entries(this.counters.lost);
    if (lost.length === 0) return null;
    const n = lost.reduce((a, [, v]) => a + v, 0);
    return `${n} accepted records were lost: ${lost.map(([k, v]) => `${v} ${k}`).join(", ")} ` +
      `(spool ${this.spool.dir}; free space or fix the directory)`;
  }
}
