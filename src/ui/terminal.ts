/**
 * Terminal I/O, kept apart from rendering: raw mode, alternate screen, cursor, size,
 * resize and exit signals. Everything else in src/ui is pure.
 *
 * @module
 */

/** Escape sequences used by the view. */
export const ESC = {
  altScreenOn: "\x1b[?1049h",
  altScreenOff: "\x1b[?1049l",
  cursorHide: "\x1b[?25l",
  cursorShow: "\x1b[?25h",
  home: "\x1b[H",
  clearEol: "\x1b[K",
  clearBelow: "\x1b[J",
  reverse: "\x1b[7m",
  bold: "\x1b[1m",
  reset: "\x1b[0m",
} as const;

/** Writes every byte (writeSync may write less than asked). */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/** Terminal size in character cells (80x24 when it cannot be read). */
export function terminalSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 80, rows: 24 };
  }
}

const enc = new TextEncoder();

/** Puts the terminal in raw mode on the alternate screen; returns the function that undoes it. */
export function enterScreen(): () => void {
  Deno.stdin.setRaw(true);
  writeAllSync(
    Deno.stdout,
    enc.encode(ESC.altScreenOn + ESC.cursorHide + ESC.home + ESC.clearBelow),
  );
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      writeAllSync(Deno.stdout, enc.encode(ESC.reset + ESC.cursorShow + ESC.altScreenOff));
    } finally {
      try {
        Deno.stdin.setRaw(false);
      } catch { /* stdin already closed */ }
    }
  };
}

/** Calls `fn` on SIGWINCH; returns the unsubscribe function. */
export function onResize(fn: () => void): () => void {
  Deno.addSignalListener("SIGWINCH", fn);
  return () => Deno.removeSignalListener("SIGWINCH", fn);
}

/** Signals that end the view (the terminal is restored before exiting). */
export const EXIT_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** Calls `fn(signal)` on any exit signal; returns the unsubscribe function. */
export function onExitSignal(fn: (sig: Deno.Signal) => void): () => void {
  const subs = EXIT_SIGNALS.map((s) => {
    const h = () => fn(s);
    Deno.addSignalListener(s, h);
    return () => Deno.removeSignalListener(s, h);
  });
  return () => subs.forEach((u) => u());
}

/** One reader of stdin for the whole process: a pending read cannot be cancelled, so views
 * that run one after another (choose a process, then watch it) share it. */
let stdinListener:
  | ((ev: { bytes: Uint8Array } | { eof: true } | { error: unknown }) => void)
  | null = null;
let stdinBacklog: ({ bytes: Uint8Array } | { eof: true } | { error: unknown })[] = [];
let stdinStarted = false;

/** Calls `fn` with each chunk of stdin (and once at its end); returns the unsubscribe function. */
export function onStdin(
  fn: (ev: { bytes: Uint8Array } | { eof: true } | { error: unknown }) => void,
): () => void {
  stdinListener = fn;
  const backlog = stdinBacklog;
  stdinBacklog = [];
  for (const ev of backlog) fn(ev);
  if (!stdinStarted) {
    stdinStarted = true;
    const deliver = (ev: { bytes: Uint8Array } | { eof: true } | { error: unknown }) => {
      if (stdinListener) stdinListener(ev);
      else stdinBacklog.push(ev);
    };
    (async () => {
      const buf = new Uint8Array(4096);
      for (;;) {
        const n = await Deno.stdin.read(buf);
        if (n === null) return deliver({ eof: true });
        deliver({ bytes: buf.slice(0, n) });
      }
    })().catch((error) => deliver({ error }));
  }
  return () => {
    if (stdinListener === fn) stdinListener = null;
  };
}
