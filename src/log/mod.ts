/**
 * Logging: one line per event on stderr, optionally also to a file.
 * (Placeholder with the final interface; the file sink lands with issue 8.)
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  close(): Promise<void>;
}

const enc = new TextEncoder();

export function createLogger(level: LogLevel = "info", _file = ""): Logger {
  const min = RANK[level];
  const emit = (lv: LogLevel, msg: string) => {
    if (RANK[lv] < min) return;
    const line = `netmon: ${lv}: ${msg}\n`;
    try {
      Deno.stderr.writeSync(enc.encode(line));
    } catch {
      // stderr closed: nothing sensible to do.
    }
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    close: () => Promise.resolve(),
  };
}
