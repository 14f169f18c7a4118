/**
 * The interactive loop of `netmon proc`: one queue of events (keys, refresh timer, resize,
 * signals, end of input) handled in order inside a try/finally that always restores the
 * terminal. Rendering is delegated to the pure view.ts and frame.ts.
 *
 * @module
 */
import { RuntimeFailure } from "../errors.ts";
import { refresh } from "../proc/run.ts";
import type { ProcOptions } from "../proc/run.ts";
import type { ProcStat } from "../proc/stat.ts";
import { type TabDoc, TabModel } from "../proc/tabs.ts";
import { composeFrame } from "./frame.ts";
import { parseKeys } from "./keys.ts";
import {
  type Effect,
  handleKey,
  initialState,
  pageRows,
  renderScreen,
  TABLE_TOP,
  type ViewState,
} from "./view.ts";
import { enterScreen, onExitSignal, onResize, terminalSize, writeAllSync } from "./terminal.ts";

type Event =
  | { type: "keys"; bytes: Uint8Array }
  | { type: "tick" }
  | { type: "resize" }
  | { type: "signal"; signal: Deno.Signal }
  | { type: "eof" }
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

/** Runs the view until the user quits (0), a signal arrives (128+n) or the process exits (1). */
export async function runLive(o: ProcOptions, start: ProcStat): Promise<number> {
  const model = new TabModel();
  const queue = new EventQueue<Event>();
  let state: ViewState = initialState(o.tab, o.interval, o.ownOnly);
  let doc: TabDoc | null = null;
  let gone: string | null = null;
  let clock = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => queue.push({ type: "tick" }), state.interval * 1000);
  };
  const update = () => {
    const r = refresh(o.pid, start, state.tab, model, { ownOnly: state.ownOnly, withRates: true });
    doc = r.doc;
    gone = r.gone;
    clock = new Date().toTimeString().slice(0, 8);
  };
  const draw = () => {
    if (!doc) return;
    const { columns, rows } = terminalSize();
    const out = renderScreen(state, doc, {
      pid: o.pid,
      comm: start.comm,
      cols: columns,
      rows,
      clock,
    });
    state = out.state;
    const frame = composeFrame(out.lines, columns, rows, state.hscroll, (i) => i >= TABLE_TOP);
    writeAllSync(Deno.stdout, enc.encode(frame));
  };

  const restore = enterScreen();
  const stopResize = onResize(() => queue.push({ type: "resize" }));
  const stopSignals = onExitSignal((signal) => queue.push({ type: "signal", signal }));
  (async () => {
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return queue.push({ type: "eof" });
      queue.push({ type: "keys", bytes: buf.slice(0, n) });
    }
  })().catch((error) => queue.push({ type: "error", error }));

  let code = 0;
  try {
    update();
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
          const page = pageRows(terminalSize().rows);
          let effect: Effect = "none";
          for (const key of parseKeys(ev.bytes)) {
            const [next, e] = handleKey(state, key, page);
            state = next;
            if (e === "quit") break loop;
            // Strongest effect wins: refresh > reschedule > redraw > none.
            const rank: Record<Effect, number> = {
              none: 0,
              redraw: 1,
              reschedule: 2,
              refresh: 3,
              quit: 4,
            };
            if (rank[e] > rank[effect]) effect = e;
          }
          if (effect === "refresh" || effect === "reschedule") {
            update();
            schedule();
          }
          if (effect !== "none") draw();
          break;
        }
        case "tick":
          update();
          draw();
          schedule();
          break;
        case "resize":
          draw();
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
    stopResize();
    stopSignals();
    restore();
  }
  if (gone) throw new RuntimeFailure(`proc: ${gone}`);
  return code;
}
