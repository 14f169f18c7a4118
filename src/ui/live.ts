/**
 * The interactive loop of a live view: one queue of events (keys, refresh timer, resize,
 * signals, end of input, the source ending) handled in order inside a try/finally that
 * always restores the terminal. Rendering is delegated to the pure view.ts and frame.ts;
 * the data comes from a {@link ViewSource}.
 *
 * @module
 */
import { RuntimeFailure } from "../errors.ts";
import { composeFrame } from "./frame.ts";
import { parseKeys } from "./keys.ts";
import type { Screen, TableRow, ViewSource } from "./source.ts";
import {
  type Effect,
  handleKey,
  initialState,
  pageRows,
  renderScreen,
  type ViewState,
} from "./view.ts";
import {
  enterScreen,
  onExitSignal,
  onResize,
  onStdin,
  terminalSize,
  writeAllSync,
} from "./terminal.ts";

type Event =
  | { type: "keys"; bytes: Uint8Array }
  | { type: "tick" }
  | { type: "resize" }
  | { type: "signal"; signal: Deno.Signal }
  | { type: "eof" }
  | { type: "ended" }
  | { type: "error"; error: unknown };

/** A minimal async FIFO: push from callbacks, await next() in the loop. */
class EventQueue<T> {
  #items: T[] = [];
  #waiter: ((v: T) => void) | null = null;
  push(v: T): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = null;
      w(v);
    } else this.#items.push(v);
  }
  next(): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((r) => this.#waiter = r);
  }
}

const SIGNAL_EXIT: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGQUIT: 131,
  SIGTERM: 143,
};

const enc = new TextEncoder();

/** Strongest effect wins: quit > refresh > reschedule > redraw > none. */
const RANK: Record<Effect, number> = { none: 0, redraw: 1, reschedule: 2, refresh: 3, quit: 4 };

export interface LiveOptions {
  tab: string;
  interval: number;
  /** Show the source's instructions screen first. */
  intro: boolean;
  /** The failure message prefix when the source ends (e.g. "proc"). */
  name: string;
}

/**
 * Runs the view until the user quits (0), a signal arrives (128+n) or the source ends
 * (RuntimeFailure, exit 1).
 */
export async function runLive(src: ViewSource, o: LiveOptions): Promise<number> {
  const queue = new EventQueue<Event>();
  let state: ViewState = initialState(o.tab, o.interval, { intro: o.intro && src.intro !== null });
  let screen: Screen | null = null;
  let row: TableRow | null = null;
  let rowCount = 0;
  let gone: string | null = null;
  let clock = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    clearTimeout(timer);
    if (!state.paused) {
      timer = setTimeout(() => queue.push({ type: "tick" }), state.interval * 1000);
    }
  };
  const update = (tick: boolean) => {
    screen = src.screen(state.tab, tick);
    gone = src.ended();
    clock = new Date().toTimeString().slice(0, 8);
  };
  const draw = () => {
    if (!screen) return;
    const { columns, rows } = terminalSize();
    const out = renderScreen(state, screen, src, { cols: columns, rows, clock });
    state = out.state;
    row = out.row;
    rowCount = out.rowCount;
    const frame = composeFrame(out.lines, columns, rows, 0, () => false);
    writeAllSync(Deno.stdout, enc.encode(frame));
  };

  const restore = enterScreen();
  const stopResize = onResize(() => queue.push({ type: "resize" }));
  const stopSignals = onExitSignal((signal) => queue.push({ type: "signal", signal }));
  src.ending?.then(() => queue.push({ type: "ended" }));
  const stopStdin = onStdin((ev) => {
    if ("bytes" in ev) queue.push({ type: "keys", bytes: ev.bytes });
    else if ("eof" in ev) queue.push({ type: "eof" });
    else queue.push({ type: "error", error: ev.error });
  });

  let code = 0;
  try {
    update(true);
    draw();
    schedule();
    loop: for (;;) {
      if (gone) {
        state = { ...state, message: `${gone}; netmon exits` };
        draw();
        break;
      }
      const ev = await queue.next();
      switch (ev.type) {
        case "keys": {
          const page = pageRows(terminalSize().rows, src);
          let effect: Effect = "none";
          for (const key of parseKeys(ev.bytes)) {
            const [next, e] = handleKey(state, key, src, {
              tab: state.tab,
              row,
              rows: rowCount,
              page,
            });
            state = next;
            if (e === "quit") break loop;
            if (RANK[e] > RANK[effect]) effect = e;
          }
          if (effect === "refresh") update(false);
          if (effect === "reschedule") schedule();
          if (effect !== "none") draw();
          break;
        }
        case "tick":
          update(true);
          draw();
          schedule();
          break;
        case "resize":
          draw();
          break;
        case "ended":
          gone = src.ended() ?? "the source ended";
          break;
        case "signal":
          code = SIGNAL_EXIT[ev.signal] ?? 1;
          break loop;
        case "eof":
          break loop;
        case "error":
          throw ev.error;
      }
    }
  } finally {
    clearTimeout(timer);
    stopStdin();
    stopResize();
    stopSignals();
    restore();
    src.close();
  }
  if (gone) throw new RuntimeFailure(`${o.name}: ${gone}`);
  return code;
}
