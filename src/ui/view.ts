/**
 * The interactive view as a pure state machine: {@link handleKey} maps a key to a new state
 * and an effect, {@link renderScreen} maps a state and the current tab document to screen
 * lines. src/ui/live.ts does the I/O.
 *
 * @module
 */
import { SOCKET_TABS, TAB_NAMES, type TabDoc, type TabName } from "../proc/tabs.ts";
import type { SocketRow } from "../proc/sockets.ts";
import { tabLines } from "./columns.ts";
import type { Line } from "./frame.ts";
import type { Key } from "./keys.ts";

export interface ViewState {
  tab: TabName;
  ownOnly: boolean;
  /** Seconds between refreshes. */
  interval: number;
  /** First table row shown. */
  scroll: number;
  /** Columns scrolled to the right. */
  hscroll: number;
  /** Text typed on the command line, or null when it is closed. */
  input: string | null;
  /** One-line message on the bottom line (command result, error). */
  message: string | null;
}

/** What the loop must do after a key. */
export type Effect = "none" | "redraw" | "refresh" | "reschedule" | "quit";

export const MIN_INTERVAL = 0.1;
export const MAX_INTERVAL = 3600;

export function initialState(tab: TabName, interval: number, ownOnly: boolean): ViewState {
  return { tab, ownOnly, interval, scroll: 0, hscroll: 0, input: null, message: null };
}

function selectTab(s: ViewState, tab: TabName): [ViewState, Effect] {
  if (tab === s.tab) return [s, "none"];
  return [{ ...s, tab, scroll: 0, hscroll: 0, message: null }, "refresh"];
}

/** Next tab after the current one whose name starts with `ch` (cycles t: tcp -> traffic). */
function tabByLetter(current: TabName, ch: string): TabName | null {
  const start = TAB_NAMES.indexOf(current);
  for (let k = 1; k <= TAB_NAMES.length; k++) {
    const t = TAB_NAMES[(start + k) % TAB_NAMES.length];
    if (t.startsWith(ch)) return t;
  }
  return null;
}

/** Runs a command line (`set 5`, `udp`, `own`, `q`). */
export function runCommand(s: ViewState, line: string): [ViewState, Effect] {
  const cmd = line.trim();
  const base = { ...s, input: null, message: null };
  if (cmd === "") return [base, "redraw"];
  const set = /^set\s+(\S+)$/.exec(cmd);
  if (set) {
    const n = Number(set[1]);
    if (!Number.isFinite(n) || n < MIN_INTERVAL || n > MAX_INTERVAL) {
      return [{
        ...base,
        message: `set: interval must be ${MIN_INTERVAL} to ${MAX_INTERVAL} seconds`,
      }, "redraw"];
    }
    return [{ ...base, interval: n, message: `refresh every ${n}s` }, "reschedule"];
  }
  if (cmd === "q" || cmd === "quit" || cmd === "exit") return [base, "quit"];
  if (cmd === "own") return [{ ...base, ownOnly: !s.ownOnly, scroll: 0 }, "refresh"];
  // A tab name, or a prefix only one tab has (`ro` -> routing; `r` is ambiguous).
  const matches = TAB_NAMES.filter((t) => t.startsWith(cmd));
  const tab = TAB_NAMES.find((t) => t === cmd) ?? (matches.length === 1 ? matches[0] : undefined);
  if (tab) {
    const [next, eff] = selectTab(base, tab);
    return [next, eff === "none" ? "redraw" : eff];
  }
  return [{
    ...base,
    message: `unknown command '${cmd}' (set N, own, q, or a tab: ${TAB_NAMES.join(" ")})`,
  }, "redraw"];
}

/** Applies one key. */
export function handleKey(s: ViewState, key: Key, pageRows = 10): [ViewState, Effect] {
  if (key.name === "ctrl-c" || key.name === "ctrl-d") return [s, "quit"];
  if (s.input !== null) {
    switch (key.name) {
      case "enter":
        return runCommand(s, s.input);
      case "escape":
        return [{ ...s, input: null }, "redraw"];
      case "backspace":
        return s.input === ""
          ? [{ ...s, input: null }, "redraw"]
          : [{ ...s, input: s.input.slice(0, -1) }, "redraw"];
      case "char":
        return [{ ...s, input: s.input + key.ch }, "redraw"];
      default:
        return [s, "none"];
    }
  }
  const i = TAB_NAMES.indexOf(s.tab);
  const n = TAB_NAMES.length;
  switch (key.name) {
    case "tab":
    case "right":
      return selectTab(s, TAB_NAMES[(i + 1) % n]);
    case "backtab":
    case "left":
      return selectTab(s, TAB_NAMES[(i + n - 1) % n]);
    case "down":
      return [{ ...s, scroll: s.scroll + 1 }, "redraw"];
    case "up":
      return [{ ...s, scroll: Math.max(0, s.scroll - 1) }, "redraw"];
    case "pagedown":
      return [{ ...s, scroll: s.scroll + pageRows }, "redraw"];
    case "pageup":
      return [{ ...s, scroll: Math.max(0, s.scroll - pageRows) }, "redraw"];
    case "home":
      return [{ ...s, scroll: 0, hscroll: 0 }, "redraw"];
    case "ctrl-l":
      return [s, "redraw"];
    case "escape":
      return [{ ...s, message: null }, "redraw"];
    case "char": {
      const ch = key.ch ?? "";
      if (ch === "q") return [s, "quit"];
      if (ch === ":" || ch === "/") return [{ ...s, input: "", message: null }, "redraw"];
      if (ch === "o") return [{ ...s, ownOnly: !s.ownOnly, scroll: 0 }, "refresh"];
      if (ch === ">") return [{ ...s, hscroll: s.hscroll + 8 }, "redraw"];
      if (ch === "<") return [{ ...s, hscroll: Math.max(0, s.hscroll - 8) }, "redraw"];
      if (ch >= "1" && ch <= "9") {
        const t = TAB_NAMES[Number(ch) - 1];
        return t ? selectTab(s, t) : [s, "none"];
      }
      const t = tabByLetter(s.tab, ch.toLowerCase());
      return t ? selectTab(s, t) : [s, "none"];
    }
    default:
      return [s, "none"];
  }
}

export interface ScreenInfo {
  pid: number;
  comm: string;
  cols: number;
  rows: number;
  /** Wall-clock time of the last refresh, shown in the title. */
  clock: string;
}

/** Index of the first table line on screen (title, tab bar, info line come first). */
export const TABLE_TOP = 3;

/** The tab bar text and the column span of each tab label. */
export function tabBar(): { text: string; spans: Map<TabName, [number, number]> } {
  let text = "";
  const spans = new Map<TabName, [number, number]>();
  TAB_NAMES.forEach((t, i) => {
    const label = ` ${i + 1} ${t} `;
    spans.set(t, [text.length, text.length + label.length]);
    text += label + " ";
  });
  return { text: text.trimEnd(), spans };
}

/** How many table rows fit on the screen. */
export function pageRows(rows: number): number {
  return Math.max(1, rows - TABLE_TOP - 2);
}

/**
 * Screen lines for `doc` (exactly `info.rows` of them, some possibly empty), plus the
 * state with its scroll clamped to the table.
 */
export function renderScreen(
  s: ViewState,
  doc: TabDoc,
  info: ScreenInfo,
): { lines: Line[]; state: ViewState } {
  const lines: Line[] = [];
  lines.push({
    text: `netmon proc ${info.pid} (${info.comm})  every ${s.interval}s  own only: ${
      s.ownOnly ? "on" : "off"
    }  ${info.clock}`,
    inverse: true,
  });
  const bar = tabBar();
  lines.push({ text: bar.text, highlight: [bar.spans.get(s.tab)!] });
  let infoText = `${doc.tab}: ${doc.rows.length} rows`;
  if (SOCKET_TABS.has(doc.tab)) {
    const own = (doc.rows as SocketRow[]).filter((r) => r.Own).length;
    infoText = `${doc.tab}: ${doc.rows.length} sockets, ${own} held by the process (marked *)` +
      (s.ownOnly ? ", showing only those" : "");
  }
  if (doc.notes?.length) infoText += "  |  " + doc.notes.join("  |  ");
  lines.push({ text: infoText });

  const table = tabLines(doc);
  const body = Math.max(1, info.rows - TABLE_TOP - 1);
  const dataRows = Math.max(0, table.length - 1);
  const visible = Math.max(1, body - 1);
  const scroll = Math.max(0, Math.min(s.scroll, dataRows - visible));
  lines.push({ text: table[0] ?? "", bold: true });
  for (const t of table.slice(1 + scroll, 1 + scroll + visible)) lines.push({ text: t });
  while (lines.length < info.rows - 1) lines.push({ text: "" });

  let bottom: Line;
  if (s.input !== null) bottom = { text: ":" + s.input + "_" };
  else if (s.message) bottom = { text: s.message, inverse: true };
  else {
    const more = dataRows > visible
      ? `  rows ${scroll + 1}-${Math.min(dataRows, scroll + visible)} of ${dataRows}`
      : "";
    bottom = { text: `Tab/arrows/1-9/letter: tab  o: own only  :set N  q: quit${more}` };
  }
  lines.push(bottom);
  return { lines: lines.slice(0, info.rows), state: scroll === s.scroll ? s : { ...s, scroll } };
}
