/**
 * ndjson batches parsed as they arrive. Body chunks are copied into segments the batch
 * owns (64 KiB growing to 4 MiB, or sized to the declared length); lines are cut with
 * native `indexOf`; a line nested deeper than the depth limit is refused by an iterative
 * byte scan before `JSON.parse` (no recursion, no stack to blow), then lines that are not
 * UTF-8, not JSON or not a JSON object are refused. Per record only where its bytes are
 * and its `Netmon` envelope are kept: a batch costs its body size plus segment slack.
 *
 * The caller asks {@link NdjsonBatch.segmentNeeded} before each {@link NdjsonBatch.push},
 * takes that many bytes of the in-flight budget and calls {@link NdjsonBatch.addSegment};
 * {@link NdjsonBatch.free} hands the segments' memory back at once (no waiting for the GC)
 * when the batch is stored or refused.
 *
 * @example
 * ```ts
 * import { NdjsonBatch } from "./ndjson.ts";
 * const b = new NdjsonBatch(64);
 * for (const c of [enc('{"A":1,"Netmon":{"Sequence":1}}\n{"B":'), enc("2}\n")]) {
 *   const need = b.segmentNeeded(c.length);
 *   if (need > 0) b.addSegment(need);
 *   b.push(c);
 * }
 * b.finish();
 * b.count; // 2
 * b.free();
 * ```
 * @module
 */

/** A body line that is not a record; the message names the line. */
export class BadLine extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadLine";
  }
}

const LF = 10;
const CR = 13;
const FIRST_SEGMENT = 64 * 1024;
const MAX_SEGMENT = 4 * 1024 * 1024;

/**
 * True when the JSON text in `b[from..to)` nests objects/arrays deeper than `limit`.
 * Brackets inside strings do not count. Malformed text is left to JSON.parse.
 */
export function nestedDeeperThan(b: Uint8Array, from: number, to: number, limit: number): boolean {
  // A line of `limit` bytes or fewer cannot open more than `limit` levels.
  if (to - from <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Frees an ArrayBuffer's memory now (detaches it); views of it become empty. */
export function freeBuffer(b: ArrayBufferLike): void {
  if (b instanceof ArrayBuffer && !b.detached) b.transfer(0);
}

/** A parsed batch: record locations and envelopes, columns of equal length. */
export class NdjsonBatch {
  /** Segments the records point into. */
  readonly segments: Uint8Array[] = [];
  readonly segOf: number[] = [];
  readonly startOf: number[] = [];
  readonly endOf: number[] = [];
  readonly agent: (string | null)[] = [];
  readonly run: (string | null)[] = [];
  readonly seq: (number | null)[] = [];
  readonly type: (string | null)[] = [];
  /** Decoded body bytes taken so far. */
  bytes = 0;
  /** Bytes of all segments (what the batch holds in memory). */
  allocated = 0;
  #seg: Uint8Array | null = null;
  #used = 0;
  /** Where the line not yet ended starts in the current segment. */
  #lineStart = 0;
  #line = 0;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  /**
   * @param maxDepth deepest nesting accepted
   * @param expected declared body length if known (segments are sized to it)
   * @param limit largest body (segments never grow past it)
   */
  constructor(
    readonly maxDepth: number,
    readonly expected: number | null = null,
    readonly limit = 2 ** 31,
  ) {}

  get count(): number {
    return this.startOf.length;
  }

  /** The bytes of record `i` (a view into its segment). */
  record(i: number): Uint8Array {
    return this.segments[this.segOf[i]].subarray(this.startOf[i], this.endOf[i]);
  }

  /** Size of the segment to add before pushing `n` bytes (0: they fit). */
  segmentNeeded(n: number): number {
    if (this.#seg !== null && this.#used + n <= this.#seg.length) return 0;
    const partial = this.#used - this.#lineStart;
    const want = partial + n;
    let size = Math.min(MAX_SEGMENT, Math.max(FIRST_SEGMENT, this.allocated));
    // A long line moves to each new segment: double so the copies stay linear in total.
    if (partial * 2 > size) size = 2 * want;
    const rest = (this.expected ?? this.limit) - this.bytes;
    size = Math.min(size, Math.max(0, rest) + partial);
    return Math.max(want, size);
  }

  /**
   * Adds a segment of `size` bytes and moves the unfinished line into it. Returns the bytes
   * given back (a segment left without any record is freed at once).
   */
  addSegment(size: number): number {
    const seg = new Uint8Array(size);
    let freed = 0;
    const old = this.#seg;
    if (old !== null) {
      seg.set(old.subarray(this.#lineStart, this.#used));
      const idx = this.segments.length - 1;
      if (this.segOf.length === 0 || this.segOf[this.segOf.length - 1] !== idx) {
        // No record lives in the old segment.
        this.segments.pop();
        freed = old.length;
        this.allocated -= freed;
        freeBuffer(old.buffer);
      }
    }
    this.#used = old !== null ? this.#used - this.#lineStart : 0;
    this.#lineStart = 0;
    this.#seg = seg;
    this.segments.push(seg);
    this.allocated += size;
    return freed;
  }

  /** Takes the next chunk of the body (copied; the chunk may be reused after); throws {@link BadLine}. */
  push(chunk: Uint8Array): void {
    const seg = this.#seg;
    if (seg === null || this.#used + chunk.length > seg.length) {
      throw new Error("NdjsonBatch.push without room: call segmentNeeded/addSegment first");
    }
    const from = this.#used;
    seg.set(chunk, from);
    this.#used += chunk.length;
    this.bytes += chunk.length;
    const idx = this.segments.length - 1;
    const view = seg.subarray(0, this.#used);
    let nl = view.indexOf(LF, from);
    while (nl >= 0) {
      this.#lineAt(idx, seg, this.#lineStart, nl);
      this.#lineStart = nl + 1;
      nl = view.indexOf(LF, nl + 1);
    }
  }

  /** The body ended: the last line needs no newline. */
  finish(): void {
    if (this.#seg !== null && this.#lineStart < this.#used) {
      this.#lineAt(this.segments.length - 1, this.#seg, this.#lineStart, this.#used);
      this.#lineStart = this.#used;
    }
  }

  /** Frees the segments now; the batch is unusable afterwards. */
  free(): void {
    for (const s of this.segments) freeBuffer(s.buffer);
    this.segments.length = 0;
    this.#seg = null;
    this.allocated = 0;
  }

  #lineAt(idx: number, b: Uint8Array, from: number, to: number): void {
    const lineNo = ++this.#line;
    if (to > from && b[to - 1] === CR) to--;
    let k = from;
    while (k < to && (b[k] === 0x20 || b[k] === 0x09 || b[k] === CR)) k++;
    if (k === to) return; // blank line
    if (nestedDeeperThan(b, from, to, this.maxDepth)) {
      throw new BadLine(`line ${lineNo}: nested deeper than ${this.maxDepth} levels`);
    }
    let text: string;
    try {
      text = this.#decoder.decode(b.subarray(from, to));
    } catch {
      throw new BadLine(`line ${lineNo}: not UTF-8`);
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new BadLine(`line ${lineNo}: not JSON (${(e as Error).message})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new BadLine(`line ${lineNo}: not a JSON object`);
    }
    const env = (v as Record<string, unknown>).Netmon as Record<string, unknown> | undefined;
    const n = this.startOf.length;
    this.segOf.push(idx);
    this.startOf.push(from);
    this.endOf.push(to);
    // Records of one batch share agent, run and type: keep one string for all of them.
    this.agent.push(same(this.agent, n, env?.Agent_ID));
    this.run.push(same(this.run, n, env?.Run_ID));
    this.type.push(same(this.type, n, env?.Record_Type));
    this.seq.push(typeof env?.Sequence === "number" ? env.Sequence : null);
  }
}

function same(col: (string | null)[], n: number, v: unknown): string | null {
  if (typeof v !== "string") return null;
  const prev = n > 0 ? col[n - 1] : null;
  return prev === v ? prev : v;
}
