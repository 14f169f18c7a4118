/**
 * Logging: one line per event, `TIMESTAMP LEVEL netmon: message`, on stderr and optionally
 * appended to a file.
 *
 * Never blocks capture: stderr gets one small synchronous write per event (a terminal or
 * the journal; a line is far below the pipe buffer), the file gets lines through a bounded
 * in-memory queue drained by asynchronous writes. When the file cannot keep up the queue
 * drops the newest lines and a later line says how many were lost. `close()` waits for the
 * queue to drain.
 *
 * @example
 * ```ts
 * import { createLogger } from "./mod.ts";
 * const log = createLogger("debug", "/tmp/netmon.log");
 * log.info("capture started on eth0");
 * await log.close();
 * ```
 * @module
 */
import { errorText, UsageError } from "../errors.ts";
import { escapeControl } from "../output/escape.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  close(): Promise<void>;
}

/** Lines queued for the file before new ones are dropped. */
const FILE_QUEUE_LINES = 10_000;

const enc = new TextEncoder();

/** One log line (with its newline): ISO timestamp, level padded to 5, message on one line. */
export function formatLine(level: LogLevel, msg: string, now = new Date()): string {
  const oneLine = escapeControl(msg.replace(/\r?\n/g, " | "));
  return `${now.toISOString()} ${level.toUpperCase().padEnd(5)} netmon: ${oneLine}\n`;
}

/** Appends lines to a file with asynchronous writes, never waiting in the caller. */
class FileSink {
  #file: Deno.FsFile;
  #queue: string[] = [];
  #dropped = 0;
  #writing: Promise<void> | null = null;
  #failed = false;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  push(line: string): void {
    if (this.#failed) return;
    if (this.#queue.length >= FILE_QUEUE_LINES) {
      this.#dropped++;
      return;
    }
    if (this.#dropped > 0) {
      this.#queue.push(
        formatLine("warn", `${this.#dropped} log lines dropped (log file too slow)`),
      );
      this.#dropped = 0;
    }
    this.#queue.push(line);
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const bytes = enc.encode(this.#queue.join(""));
        this.#queue = [];
        let off = 0;
        while (off < bytes.length) off += await this.#file.write(bytes.subarray(off));
      }
    } catch (e) {
      this.#failed = true;
      this.#queue = [];
      writeStderr(
        formatLine("error", `log file: write failed, file logging stopped: ${errorText(e)}`),
      );
    } finally {
      this.#writing = null;
    }
  }

  async close(): Promise<void> {
    while (this.#writing) await this.#writing;
    if (this.#dropped > 0 && !this.#failed) {
      this.#queue.push(
        formatLine("warn", `${this.#dropped} log lines dropped (log file too slow)`),
      );
      this.#dropped = 0;
      await this.#drain();
    }
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}

function writeStderr(line: string): void {
  try {
    Deno.stderr.writeSync(enc.encode(line));
  } catch {
    // stderr closed: nothing sensible to do.
  }
}

/**
 * Creates a logger that drops events below `level`. `file` ("" = none) is opened for
 * appending now, so a bad path is a {@link UsageError} before capture starts.
 */
export function createLogger(level: LogLevel = "info", file = ""): Logger {
  const min = RANK[level] ?? RANK.info;
  let sink: FileSink | null = null;
  if (file !== "") {
    try {
      sink = new FileSink(Deno.openSync(file, { append: true, create: true }));
    } catch (e) {
      throw new UsageError(`log file ${file}: cannot open: ${errorText(e)}`);
    }
  }
  const emit = (lv: LogLevel, msg: string) => {
    if (RANK[lv] < min) return;
    const line = formatLine(lv, msg);
    writeStderr(line);
    sink?.push(line);
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    close: () => sink ? sink.close() : Promise.resolve(),
  };
}
