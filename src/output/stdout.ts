/**
 * Buffered line output to stdout: records as JSON lines or human text lines.
 * Each line is encoded straight into one preallocated 1 MiB buffer
 * (`TextEncoder.encodeInto`: no joined string, no per-flush allocation) and the
 * buffer goes out with one `writeSync` when full or on `flush()`, so printing
 * never dominates decoding.
 */
import type { PacketRecord } from "../decode/record.ts";
import { formatRecordLine } from "./text.ts";
import { recordJson } from "./json.ts";
import { escapeControl } from "./escape.ts";

const BUF_SIZE = 1024 * 1024;
const NEWLINE = 0x0a;

export class LineWriter {
  #buf: Uint8Array = new Uint8Array(BUF_SIZE);
  #len = 0;
  readonly #enc = new TextEncoder();
  readonly #out: { writeSync(p: Uint8Array): number };
  #broken = false;

  constructor(out: { writeSync(p: Uint8Array): number } = Deno.stdout) {
    this.#out = out;
  }

  /** True once a write failed (the reader went away, e.g. `| head`). */
  get broken(): boolean {
    return this.#broken;
  }

  line(s: string): void {
    if (this.#broken) return;
    // UTF-8 needs at most 3 bytes per UTF-16 code unit, plus the newline.
    const worst = s.length * 3 + 1;
    if (this.#len + worst > this.#buf.length) {
      this.flush();
      if (worst > this.#buf.length) this.#buf = new Uint8Array(worst);
    }
    const r = this.#enc.encodeInto(s, this.#buf.subarray(this.#len));
    this.#len += r.written;
    this.#buf[this.#len++] = NEWLINE;
  }

  flush(): void {
    if (this.#len === 0 || this.#broken) {
      this.#len = 0;
      return;
    }
    const data = this.#buf.subarray(0, this.#len);
    this.#len = 0;
    try {
      let off = 0;
      while (off < data.length) off += this.#out.writeSync(data.subarray(off));
    } catch {
      // stdout closed (e.g. piped into head): stop printing; the pipeline decides
      // whether anything else still needs the capture (see RecordPrinter.broken).
      this.#broken = true;
    }
  }
}

/** A record output on stdout. */
export interface RecordPrinter {
  write(rec: PacketRecord): void;
  flush(): void;
  /** True once stdout is gone (like tcpdump, a capture printing only to stdout then stops). */
  broken(): boolean;
}

export function jsonPrinter(w = new LineWriter()): RecordPrinter {
  return {
    write: (rec) => w.line(recordJson(rec)),
    flush: () => w.flush(),
    broken: () => w.broken,
  };
}

export function textPrinter(w = new LineWriter()): RecordPrinter {
  return {
    write: (rec) => w.line(escapeControl(formatRecordLine(rec))),
    flush: () => w.flush(),
    broken: () => w.broken,
  };
}
