/**
 * Buffered line output to stdout: records as JSON lines or human text lines.
 * Writes in large chunks (one syscall per ~64 KiB) so printing never dominates decoding.
 */
import type { PacketRecord } from "../decode/record.ts";
import { formatRecordLine } from "./text.ts";

const FLUSH_AT = 64 * 1024;

export class LineWriter {
  #parts: string[] = [];
  #size = 0;
  readonly #enc = new TextEncoder();
  readonly #out: { writeSync(p: Uint8Array): number };
  #broken = false;

  constructor(out: { writeSync(p: Uint8Array): number } = Deno.stdout) {
    this.#out = out;
  }

  line(s: string): void {
    this.#parts.push(s);
    this.#size += s.length + 1;
    if (this.#size >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.#parts.length === 0 || this.#broken) {
      this.#parts.length = 0;
      this.#size = 0;
      return;
    }
    this.#parts.push("");
    const data = this.#enc.encode(this.#parts.join("\n"));
    this.#parts.length = 0;
    this.#size = 0;
    try {
      let off = 0;
      while (off < data.length) off += this.#out.writeSync(data.subarray(off));
    } catch {
      // stdout closed (e.g. piped into head): stop printing, keep capturing.
      this.#broken = true;
    }
  }
}

/** A record output on stdout. */
export interface RecordPrinter {
  write(rec: PacketRecord): void;
  flush(): void;
}

export function jsonPrinter(w = new LineWriter()): RecordPrinter {
  return { write: (rec) => w.line(JSON.stringify(rec)), flush: () => w.flush() };
}

export function textPrinter(w = new LineWriter()): RecordPrinter {
  return { write: (rec) => w.line(formatRecordLine(rec)), flush: () => w.flush() };
}
