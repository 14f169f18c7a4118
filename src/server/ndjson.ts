/**
 * An ndjson body collected as it arrives: chunks are copied into segments this object
 * owns (64 KiB growing to 4 MiB, or sized to the declared length), lines are cut with
 * native `indexOf`, and a line nested deeper than the depth limit is refused at once by an
 * iterative byte scan (no recursion, so no stack to blow, and before any `JSON.parse`).
 * The store's parser then reads the lines ({@link NdjsonLines.drain}), which frees each
 * segment once read; {@link NdjsonLines.free} gives all memory back at once (no waiting
 * for the GC).
 *
 * The caller asks {@link NdjsonLines.segmentNeeded} before each {@link NdjsonLines.push},
 * takes that many bytes of the in-flight budget and calls {@link NdjsonLines.addSegment},
 * so the budget counts the memory the body really holds.
 *
 * @example
 * ```ts
 * import { NdjsonLines } from "./ndjson.ts";
 * const b = new NdjsonLines(64);
 * for (const c of [enc('{"A":1}\n{"B":'), enc("2}\n")]) {
 *   const need = b.segmentNeeded(c.length);
 *   if (need > 0) b.addSegment(need);
 *   b.push(c);
 * }
 * b.finish();
 * for (const [bytes, n] of b.drain()) console.log(n, dec(bytes)); // 1 {"A":1}, 2 {"B":2}
 * b.free();
 * ```
 * @module
 */

/** A line nested deeper than the limit; the message names the line. */
export class TooDeep extends Error {
  constructor(readonly line: number, limit: number) {
    super(`line ${line}: nested deeper than ${limit} levels`);
    this.name = "TooDeep";
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

/** The lines of a body, as byte ranges in owned segments. */
export class NdjsonLines {
  readonly #segments: Uint8Array[] = [];
  readonly #segOf: number[] = [];
  readonly #startOf: number[] = [];
  readonly #endOf: number[] = [];
  readonly #lineOf: number[] = [];
  /** Decoded body bytes taken so far. */
  bytes = 0;
  /** Bytes of all segments (what the body holds in memory). */
  allocated = 0;
  #seg: Uint8Array | null = null;
  #used = 0;
  /** Where the line not yet ended starts in the current segment. */
  #lineStart = 0;
  #line = 0;

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

  /** Lines that are not blank. */
  get count(): number {
    return this.#startOf.length;
  }

  /**
   * Each non-blank line (without CR/LF, a view into its segment) and its line number, once.
   * A segment is freed as soon as its last line was taken (valid until the next line is
   * asked for); `onFree` is told how many bytes each time.
   */
  *drain(onFree: (bytes: number) => void = () => {}): Generator<[Uint8Array, number]> {
    let seg = -1;
    for (let i = 0; i < this.#startOf.length; i++) {
      const s = this.#segOf[i];
      if (s !== seg) {
        if (seg >= 0) this.#freeSegment(seg, onFree);
        seg = s;
      }
      yield [this.#segments[s].subarray(this.#startOf[i], this.#endOf[i]), this.#lineOf[i]];
    }
    this.#segOf.length =
      this.#startOf.length =
      this.#endOf.length =
      this.#lineOf.length =
        0;
    for (let k = 0; k < this.#segments.length; k++) this.#freeSegment(k, onFree);
    this.#seg = null;
  }

  #freeSegment(k: number, onFree: (bytes: number) => void): void {
    const seg = this.#segments[k];
    if (seg.buffer.byteLength === 0) return;
    const n = seg.length;
    freeBuffer(seg.buffer);
    this.allocated -= n;
    onFree(n);
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
   * given back (a segment left without any line is freed at once).
   */
  addSegment(size: number): number {
    const seg = new Uint8Array(size);
    let freed = 0;
    const old = this.#seg;
    if (old !== null) {
      seg.set(old.subarray(this.#lineStart, this.#used));
      const idx = this.#segments.length - 1;
      if (this.#segOf.length === 0 || this.#segOf[this.#segOf.length - 1] !== idx) {
        this.#segments.pop();
        freed = old.length;
        this.allocated -= freed;
        freeBuffer(old.buffer);
      }
    }
    this.#used = old !== null ? this.#used - this.#lineStart : 0;
    this.#lineStart = 0;
    this.#seg = seg;
    this.#segments.push(seg);
    this.allocated += size;
    return freed;
  }

  /** Takes the next chunk (copied: the chunk may be reused after); throws {@link TooDeep}. */
  push(chunk: Uint8Array): void {
    const seg = this.#seg;
    if (seg === null || this.#used + chunk.length > seg.length) {
      throw new Error("NdjsonLines.push without room: call segmentNeeded/addSegment first");
    }
    const from = this.#used;
    seg.set(chunk, from);
    this.#used += chunk.length;
    this.bytes += chunk.length;
    const idx = this.#segments.length - 1;
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
      this.#lineAt(this.#segments.length - 1, this.#seg, this.#lineStart, this.#used);
      this.#lineStart = this.#used;
    }
  }

  /** Frees the segments now; the lines are gone afterwards. */
  free(): void {
    for (const s of this.#segments) freeBuffer(s.buffer);
    this.#segments.length = 0;
    this.#segOf.length =
      this.#startOf.length =
      this.#endOf.length =
      this.#lineOf.length =
        0;
    this.#seg = null;
    this.allocated = 0;
  }

  #lineAt(idx: number, b: Uint8Array, from: number, to: number): void {
    const lineNo = ++this.#line;
    if (to > from && b[to - 1] === CR) to--;
    let k = from;
    while (k < to && (b[k] === 0x20 || b[k] === 0x09 || b[k] === CR)) k++;
    if (k === to) return; // blank line
    if (nestedDeeperThan(b, from, to, this.maxDepth)) throw new TooDeep(lineNo, this.maxDepth);
    this.#segOf.push(idx);
    this.#startOf.push(from);
    this.#endOf.push(to);
    this.#lineOf.push(lineNo);
  }
}
