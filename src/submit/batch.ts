/**
 * Batches: closed ndjson bodies with their idempotency key, and the batcher that
 * stamps each record with the `Netmon` envelope and closes batches at N records,
 * M bytes or T seconds.
 *
 * A record line is `JSON.stringify(record)` with the envelope appended as the last
 * key: `{...,"Netmon":{"Record_Type":"packet","Agent_ID":"..","Run_ID":"..",
 * "Sequence":7,"Batch":1}}`. Because the envelope carries the batch number, a spool
 * segment (concatenated batch bodies) can be cut back into the very same batches,
 * byte for byte, with the same keys: a closed batch never changes.
 */
import type { PacketRecord } from "../decode/record.ts";
import { recordJson } from "../output/json.ts";

/** A closed batch. `body` is one record per line, each line ending in "\n". */
export interface Batch {
  agent: string;
  run: string;
  /** Batch sequence number within the run (1, 2, ...). */
  batch: number;
  /** "" for a whole batch; "FIRST-LAST" (record sequences) for a part of a split batch. */
  part: string;
  body: Uint8Array;
  records: number;
}

/** Idempotency-Key of a batch: agent id, run id, batch sequence (+ part for split batches). */
export function batchKey(b: Batch): string {
  return `${b.agent}.${b.run}.${b.batch}${b.part === "" ? "" : "." + b.part}`;
}

/** The envelope fields of one record line. */
export interface Envelope {
  Record_Type: string;
  Agent_ID: string;
  Run_ID: string;
  Sequence: number;
  Batch: number;
}

const NL = 0x0a;
const ENVELOPE_MARK = '"Netmon":{';
/** The envelope is short; look for it in this many bytes at the end of a line first. */
const TAIL_BYTES = 320;
const dec = new TextDecoder();
const enc = new TextEncoder();
/** Bytes an envelope can take at most (ids are short; numbers below 2^53). */
const ENVELOPE_MAX = 256;
const MAX_INITIAL_BUFFER = 16 << 20;
const MIN_BUFFER = 64 << 10;

/** Reads the envelope at the end of one record line (bytes without the newline), or null. */
export function parseEnvelope(line: Uint8Array): Envelope | null {
  const tailStart = Math.max(0, line.length - TAIL_BYTES);
  let text = dec.decode(line.subarray(tailStart));
  let at = text.lastIndexOf(ENVELOPE_MARK);
  if (at < 0 && tailStart > 0) {
    text = dec.decode(line);
    at = text.lastIndexOf(ENVELOPE_MARK);
  }
  if (at < 0 || !text.endsWith("}}")) return null;
  try {
    const e = JSON.parse(text.slice(at + ENVELOPE_MARK.length - 1, -1)) as Partial<Envelope>;
    if (
      typeof e.Agent_ID !== "string" || typeof e.Run_ID !== "string" ||
      typeof e.Sequence !== "number" || typeof e.Batch !== "number"
    ) return null;
    return e as Envelope;
  } catch {
    return null;
  }
}

/** Offsets just past each "\n" in a body (the end of each line). */
export function lineEnds(body: Uint8Array): number[] {
  const ends: number[] = [];
  let i = body.indexOf(NL);
  while (i >= 0) {
    ends.push(i + 1);
    i = body.indexOf(NL, i + 1);
  }
  return ends;
}

/** Splits a batch in two halves by lines (for 413). Returns null for a one-record batch. */
export function splitBatch(b: Batch): [Batch, Batch] | null {
  const ends = lineEnds(b.body);
  if (ends.length < 2) return null;
  const mid = Math.floor(ends.length / 2);
  const cut = ends[mid - 1];
  const mk = (body: Uint8Array): Batch => {
    const e = lineEnds(body);
    const first = parseEnvelope(body.subarray(0, e[0] - 1));
    const last = parseEnvelope(
      body.subarray(e.length > 1 ? e[e.length - 2] : 0, e[e.length - 1] - 1),
    );
    const part = first && last ? `${first.Sequence}-${last.Sequence}` : `${e.length}@${cut}`;
    return { agent: b.agent, run: b.run, batch: b.batch, part, body, records: e.length };
  };
  return [mk(b.body.subarray(0, cut)), mk(b.body.subarray(cut))];
}

/** What the spool finds when it cuts a segment back into batches. */
export interface CutResult {
  batches: Batch[];
  /**
   * Byte offset in the segment where each batch starts (same order as `batches`), and
   * where the batch it belongs to starts (the first piece of a batch cut in pieces).
   */
  starts: number[];
  batchStarts: number[];
  /** Lines without a readable envelope (each becomes its own one-line batch). */
  badLines: number;
}

/** FNV-1a over the bytes, 48 bits as 12 hex digits (a name for a line, not a checksum). */
function lineHash(b: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ b.length;
  for (let i = 0; i < b.length; i++) {
    h1 = Math.imul(h1 ^ b[i], 0x01000193);
    h2 = Math.imul(h2 ^ b[i] ^ (h1 >>> 7), 0x01000193);
  }
  return ((h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0"))
    .slice(0, 12);
}

/**
 * Cuts concatenated batch bodies (a spool segment) back into batches: consecutive
 * lines with the same agent, run and batch number form one batch. The bodies are
 * views into `data`, so the bytes are exactly the ones written.
 *
 * Keys stay unique whatever the damage:
 * - a line without a readable envelope becomes a one-line batch keyed
 *   `bad.<segment>.<hash of the line>[.<n>]`: the same line in the same segment gets
 *   the same key on every attempt, a different line (or another spool) another one;
 * - a batch that such a line cuts in pieces sends each piece with its sequence range
 *   as part (`<key>.<first>-<last>`, like the parts of a 413 split), so no two pieces
 *   share a key.
 */
export function cutBatches(data: Uint8Array, segment = "segment"): CutResult {
  const batches: Batch[] = [];
  const starts: number[] = [];
  /** First and last sequence of each batch (0 for bad lines). */
  const seqs: [number, number][] = [];
  const seenBad = new Map<string, number>();
  let badLines = 0;
  let start = 0;
  let cur: Batch | null = null;
  let curStart = 0;
  let curFirst = 0;
  let curLast = 0;
  const close = (end: number) => {
    if (cur === null) return;
    batches.push({ ...cur, body: data.subarray(curStart, end) });
    starts.push(curStart);
    seqs.push([curFirst, curLast]);
    cur = null;
  };
  let i = data.indexOf(NL);
  while (i >= 0) {
    const line = data.subarray(start, i);
    const e = line.length > 0 ? parseEnvelope(line) : null;
    if (e === null) {
      close(start);
      if (line.length > 0) {
        badLines++;
        const h = lineHash(line);
        const n = seenBad.get(h) ?? 0;
        seenBad.set(h, n + 1);
        batches.push({
          agent: "bad",
          run: segment.replace(/\.jsonl$/, ""),
          batch: 0,
          part: n === 0 ? h : `${h}.${n}`,
          body: data.subarray(start, i + 1),
          records: 1,
        });
        starts.push(start);
        seqs.push([0, 0]);
      }
    } else if (cur && cur.agent === e.Agent_ID && cur.run === e.Run_ID && cur.batch === e.Batch) {
      cur.records++;
      curLast = e.Sequence;
    } else {
      close(start);
      cur = { agent: e.Agent_ID, run: e.Run_ID, batch: e.Batch, part: "", body: data, records: 1 };
      curStart = start;
      curFirst = curLast = e.Sequence;
    }
    start = i + 1;
    i = data.indexOf(NL, start);
  }
  close(start);
  // Batches cut in pieces: every piece gets its sequence range as part.
  const first = new Map<string, number>();
  const pieces = new Map<string, number>();
  const batchStarts = starts.slice();
  for (const [k, b] of batches.entries()) {
    if (b.agent === "bad") continue;
    const id = batchKey(b);
    pieces.set(id, (pieces.get(id) ?? 0) + 1);
    if (first.has(id)) batchStarts[k] = starts[first.get(id)!];
    else first.set(id, k);
  }
  for (const [k, b] of batches.entries()) {
    if (b.agent !== "bad" && (pieces.get(batchKey(b)) ?? 0) > 1) {
      b.part = `${seqs[k][0]}-${seqs[k][1]}`;
    }
  }
  return { batches, starts, batchStarts, badLines };
}

/**
 * Reuses batch buffers: a closed batch's body is a view of a buffer of `size` bytes;
 * once the batch was sent or spooled its buffer comes back here. Without this every
 * batch leaves a multi-MiB ArrayBuffer for the garbage collector, which V8 collects
 * only after tens of MiB of them piled up.
 */
export class BufferPool {
  private free: ArrayBuffer[] = [];
  constructor(public size: number, private readonly max = 4) {}

  /** Changes the buffer size handed out (buffers of the old size are let go). */
  resize(size: number): void {
    if (size === this.size) return;
    this.size = size;
    this.free = [];
  }

  take(): Uint8Array {
    const b = this.free.pop();
    return b ? new Uint8Array(b) : new Uint8Array(this.size);
  }

  /** Returns a whole batch's buffer (views into other buffers are ignored). */
  give(body: Uint8Array): void {
    const buf = body.buffer;
    if (!(buf instanceof ArrayBuffer) || buf.byteLength !== this.size || body.byteOffset !== 0) {
      return;
    }
    if (this.free.length < this.max && !this.free.includes(buf)) this.free.push(buf);
  }
}

export interface BatchLimits {
  records: number;
  bytes: number;
  seconds: number;
}

/**
 * Stamps records and groups them into batches. `add` is synchronous and cheap: one
 * JSON.stringify plus string concatenation for the envelope.
 *
 * @example
 * ```ts
 * const closed: Batch[] = [];
 * const b = new Batcher("agent", "run", { records: 2, bytes: 1 << 20, seconds: 60 }, (x) => closed.push(x));
 * b.add({ IPv4: {} }); b.add({ Flow: {} });
 * // closed[0].records === 2, its key is "agent.run.1"
 * ```
 */
export class Batcher {
  /** Last record sequence handed out (sequences start at 1). */
  seq = 0;
  /** Last batch number handed out. */
  batchSeq = 0;
  /** Records in the open batch. */
  openRecords = 0;
  /** The open batch's bytes: lines are UTF-8 encoded straight into this reused buffer. */
  private buf: Uint8Array;
  private len = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly prefixPacket: string;
  private readonly prefixFlow: string;

  constructor(
    readonly agent: string,
    readonly run: string,
    private readonly limits: BatchLimits,
    private readonly onClose: (b: Batch) => void,
    /** Where batch buffers come from; bodies are then views into pool buffers. */
    readonly pool: BufferPool = new BufferPool(MIN_BUFFER, 0),
  ) {
    const ids = `,"Agent_ID":${JSON.stringify(agent)},"Run_ID":${JSON.stringify(run)},"Sequence":`;
    this.prefixPacket = `"Netmon":{"Record_Type":"packet"${ids}`;
    this.prefixFlow = `"Netmon":{"Record_Type":"flow"${ids}`;
    this.buf = this.pool.take();
  }

  /**
   * Buffer size for the next batch: the last batch's size plus an eighth, rounded up to
   * a power of two, between 64 KiB and what a batch closed by bytes needs (max 16 MiB).
   */
  private nextSize(lastLen: number): number {
    const most = Math.min(this.limits.bytes + 64 * 1024, MAX_INITIAL_BUFFER);
    let size = MIN_BUFFER;
    while (size < lastLen + lastLen / 8 && size < most) size *= 2;
    return Math.min(size, most);
  }

  /** Adds one record; returns false when it cannot be serialized (nothing changes then). */
  add(rec: PacketRecord): boolean {
    let json: string;
    try {
      json = recordJson(rec.Netmon === undefined ? rec : { ...rec, Netmon: undefined });
    } catch {
      return false;
    }
    if (typeof json !== "string" || json[0] !== "{") return false;
    // Worst case 3 bytes per UTF-16 unit, plus the envelope and the newline.
    const worst = json.length * 3 + ENVELOPE_MAX;
    if (this.openRecords > 0 && this.len + json.length + ENVELOPE_MAX > this.limits.bytes) {
      this.flush();
    }
    if (this.openRecords === 0) {
      this.batchSeq++;
      const t = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.limits.seconds * 1000);
      Deno.unrefTimer(t);
      this.timer = t;
    }
    const seq = ++this.seq;
    const prefix = rec.Flow !== undefined ? this.prefixFlow : this.prefixPacket;
    const line = (json.length > 2 ? json.slice(0, -1) + "," : "{") + prefix + seq + ',"Batch":' +
      this.batchSeq + "}}\n";
    if (this.len + worst > this.buf.length) this.grow(this.len + worst);
    this.len += enc.encodeInto(line, this.buf.subarray(this.len)).written;
    this.openRecords++;
    if (this.openRecords >= this.limits.records || this.len >= this.limits.bytes) this.flush();
    return true;
  }

  private grow(need: number): void {
    const size = Math.max(need, Math.min(this.buf.length * 2, need + MAX_INITIAL_BUFFER));
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Closes the open batch (if any) and hands it to onClose. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.openRecords === 0) return;
    const b: Batch = {
      agent: this.agent,
      run: this.run,
      batch: this.batchSeq,
      part: "",
      body: this.buf.subarray(0, this.len),
      records: this.openRecords,
    };
    this.pool.resize(this.nextSize(this.len));
    this.buf = this.pool.take();
    this.len = 0;
    this.openRecords = 0;
    this.onClose(b);
  }
}
