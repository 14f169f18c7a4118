/**
 * The interactive view as a pure state machine over any {@link ViewSource}: {@link handleKey}
 * maps a key to a new state and an effect, {@link renderScreen} maps a state and a source's
 * {@link Screen} to screen lines. src/ui/live.ts does the I/O.
 *
 * Keys (see {@link VIEW_KEYS}, shown by `?`): tabs, a cursor, column scrolling with the first
 * column kept, sorting by any column, search, pause, a command line, and typing `set N`
 * without any prefix (the original tool's way to set the refresh interval).
 *
 * @module
 */
import type { Line } from "./frame.ts";
import type { Key } from "./keys.ts";
import type { KeyHelp, RowContext, Screen, SortKey, TableRow, ViewSource } from "./source.ts";
import { layoutScreenTable } from "./table.ts";

export interface Sort {
  col: number;
  desc: boolean;
}

export interface ViewState {
  tab: string;
  /** Seconds between refreshes. */
  interval: number;
  paused: boolean;
  /** Row under the cursor (index in the shown rows) and its id when it has one. */
  cursor: number;
  cursorId: string | null;
  /** First body line shown. */
  scroll: number;
  /** First scrolled column (column 0 always stays). */
  hcol: number;
  /** Sort per tab (none: the source's order). */
  sort: Record<string, Sort>;
  /** Rows shown contain this text (any cell, any case); "" = all. */
  search: string;
  /** The `:` command line or the `/` search line being typed, or null. */
  input: { kind: "command" | "search"; text: string } | null;
  /** A command typed without prefix (`set 6`), or null. */
  typed: string | null;
  /** The tab shown before the typed command began (its first letter may have switched tabs). */
  typedFrom: string | null;
  help: boolean;
  intro: boolean;
  message: string | null;
}

/** What the loop must do after a key. */
export type Effect = "none" | "redraw" | "refresh" | "reschedule" | "quit";

export const MIN_INTERVAL = 0.1;
export const MAX_INTERVAL = 3600;

/** Every key the view itself handles (the help screen lists these, then the source's). */
export const VIEW_KEYS: readonly KeyHelp[] = [
  { keys: "Tab / Shift+Tab", does: "next / previous tab" },
  { keys: "1 .. 9", does: "tab by number" },
  { keys: "Up / Down", does: "move the cursor one row" },
  { keys: "PgUp / PgDn", does: "move the cursor one page" },
  { keys: "Home / End", does: "first / last row" },
  { keys: "Left / Right", does: "scroll the columns (the first column stays)" },
  { keys: "< / >", does: "sort by the previous / next column" },
  { keys: "I", does: "reverse the sort order" },
  { keys: "/", does: "search: show only rows containing the text (Enter keeps, Esc clears)" },
  { keys: ":", does: "command line: set N, a tab name, q" },
  { keys: "set N  Enter", does: "typed as is: refresh every N seconds" },
  { keys: "p", does: "pause / resume refreshing" },
  { keys: "?", does: "this help (any key closes it)" },
  { keys: "Ctrl+L", does: "redraw the screen" },
  { keys: "Esc", does: "close a line being typed, clear the search, close a message" },
  { keys: "q, Ctrl+C, Ctrl+D", does: "quit" },
];

/** Command words typed without a prefix. */
const TYPED_COMMANDS = ["set"];

export function initialState(
  tab: string,
  interval: number,
  opts: { intro?: boolean } = {},
): ViewState {
  return {
    tab,
    interval,
    paused: false,
    cursor: 0,
    cursorId: null,
    scroll: 0,
    hcol: 1,
    sort: {},
    search: "",
    input: null,
    typed: null,
    typedFrom: null,
    help: false,
    intro: opts.intro ?? false,
    message: null,
  };
}

function selectTab(s: ViewState, tab: string): [ViewState, Effect] {
  if (tab === s.tab) return [s, "none"];
  return [{
    ...s,
    tab,
    cursor: 0,
    cursorId: null,
    scroll: 0,
    hcol: 1,
    search: "",
    message: null,
  }, "refresh"];
}

/** The interval from `set N`, or an error message. */
function setInterval_(s: ViewState, arg: string): [ViewState, Effect] {
  const n = Number(arg);
  if (!/^\d+(\.\d+)?$/.test(arg) || n < MIN_INTERVAL || n > MAX_INTERVAL) {
    return [{
      ...s,
      message: `set: interval must be ${MIN_INTERVAL} to ${MAX_INTERVAL} seconds`,
    }, "redraw"];
  }
  return [{ ...s, interval: n, message: `refresh every ${n}s` }, "reschedule"];
}

function apply(s: ViewState, a: ReturnType<ViewSource["key"]>): [ViewState, Effect] {
  if (a === null) return [s, "none"];
  let next = a.message !== undefined ? { ...s, message: a.message } : s;
  let effect: Effect = a.effect;
  if (a.tab !== undefined && a.tab !== next.tab) {
    [next] = selectTab(next, a.tab);
    effect = "refresh";
    if (a.message !== undefined) next = { ...next, message: a.message };
  }
  return [next, effect];
}

/** Runs a command line (`set 5`, `udp`, `q`, or one of the source's). */
export function runCommand(
  s: ViewState,
  line: string,
  src: ViewSource,
  at: RowContext,
): [ViewState, Effect] {
  const cmd = line.trim();
  const base: ViewState = { ...s, input: null, typed: null, typedFrom: null, message: null };
  if (cmd === "") return [base, "redraw"];
  const set = /^set\s+(\S+)$/.exec(cmd);
  if (set) return setInterval_(base, set[1]);
  if (cmd === "set") return [{ ...base, message: "set: give the seconds, e.g. set 5" }, "redraw"];
  if (cmd === "q" || cmd === "quit" || cmd === "exit") return [base, "quit"];
  const own = src.command(cmd, at);
  if (own !== null) return apply(base, own);
  // A tab name, or a prefix only one tab has (`ro` -> routing; `r` is ambiguous).
  const matches = src.tabs.filter((t) => t.startsWith(cmd));
  const tab = src.tabs.find((t) => t === cmd) ?? (matches.length === 1 ? matches[0] : undefined);
  if (tab) {
    const [next, eff] = selectTab(base, tab);
    return [next, eff === "none" ? "redraw" : eff];
  }
  const words = ["set N", ...src.commands, "q"];
  return [{
    ...base,
    message: `unknown command '${cmd}' (${words.join(", ")}, or a tab: ${src.tabs.join(" ")})`,
  }, "redraw"];
}

/** Whether `text` can still become a command typed without prefix (`s`, `se`, `set 1`). */
function typedPrefix(text: string): boolean {
  return TYPED_COMMANDS.some((w) =>
    w.startsWith(text) || (text.startsWith(w + " ") && /^\S+ [\d.]*$/.test(text))
  );
}

/** Applies one key. `rows` is the number of rows shown in the main table, `page` a page. */
export function handleKey(
  s: ViewState,
  key: Key,
  src: ViewSource,
  at: RowContext & { rows: number; page: number },
): [ViewState, Effect] {
  if (key.name === "ctrl-c" || key.name === "ctrl-d") return [s, "quit"];
  if (s.intro) return [{ ...s, intro: false }, "redraw"];
  if (s.help) return [{ ...s, help: false }, "redraw"];
  if (s.input !== null) return lineKey(s, key, src, at);
  if (s.typed !== null) {
    if (key.name === "enter") return runCommand(s, s.typed, src, at);
    if (key.name === "escape") return [{ ...s, typed: null, typedFrom: null }, "redraw"];
    if (key.name === "backspace") {
      const t = s.typed.slice(0, -1);
      return [{ ...s, typed: t === "" ? null : t }, "redraw"];
    }
    if (key.name === "char") {
      const t = s.typed + key.ch;
      if (typedPrefix(t)) {
        // Past its first letter the text is a command, not a tab shortcut: back to the tab.
        const back = s.typedFrom !== null && s.typedFrom !== s.tab && t.length >= 2;
        const next = { ...s, typed: t };
        if (back) {
          const [r] = selectTab(next, s.typedFrom!);
          return [{ ...r, typed: t, typedFrom: s.typedFrom }, "refresh"];
        }
        return [next, "redraw"];
      }
    }
    s = { ...s, typed: null, typedFrom: null }; // not a command after all: the key as usual
  }
  const page = Math.max(1, at.page);
  const last = Math.max(0, at.rows - 1);
  const move = (to: number): [ViewState, Effect] => [
    { ...s, cursor: Math.max(0, Math.min(last, to)), cursorId: null, message: null },
    "redraw",
  ];
  switch (key.name) {
    case "tab":
      return selectTab(s, src.tabs[(src.tabs.indexOf(s.tab) + 1) % src.tabs.length]);
    case "backtab":
      return selectTab(
        s,
        src.tabs[(src.tabs.indexOf(s.tab) + src.tabs.length - 1) % src.tabs.length],
      );
    case "down":
      return move(s.cursor + 1);
    case "up":
      return move(s.cursor - 1);
    case "pagedown":
      return move(s.cursor + page);
    case "pageup":
      return move(s.cursor - page);
    case "home":
      return move(0);
    case "end":
      return move(last);
    case "right":
      return [{ ...s, hcol: s.hcol + 1 }, "redraw"];
    case "left":
      return [{ ...s, hcol: Math.max(1, s.hcol - 1) }, "redraw"];
    case "ctrl-l":
      return [s, "redraw"];
    case "escape": {
      const own = src.key(key, at);
      if (own !== null) return apply(s, own);
      if (s.search !== "") return [{ ...s, search: "", cursor: 0, scroll: 0 }, "redraw"];
      return [{ ...s, message: null }, "redraw"];
    }
    case "char":
      return charKey(s, key.ch ?? "", src, at);
    default: {
      const own = src.key(key, at);
      return own !== null ? apply(s, own) : [s, "none"];
    }
  }
}

function charKey(s: ViewState, ch: string, src: ViewSource, at: RowContext): [ViewState, Effect] {
  if (ch === "q") return [s, "quit"];
  if (ch === "?") return [{ ...s, help: true }, "redraw"];
  if (ch === ":") return [{ ...s, input: { kind: "command", text: "" }, message: null }, "redraw"];
  if (ch === "/") {
    return [{ ...s, input: { kind: "search", text: s.search }, message: null }, "redraw"];
  }
  if (ch === "p") {
    return [{ ...s, paused: !s.paused, message: s.paused ? "resumed" : "paused" }, "reschedule"];
  }
  if (ch === "<" || ch === ">") {
    const cur = s.sort[s.tab];
    const col = cur === undefined ? (ch === ">" ? 0 : -1) : cur.col + (ch === ">" ? 1 : -1);
    return [{ ...s, sort: { ...s.sort, [s.tab]: { col, desc: cur?.desc ?? false } } }, "redraw"];
  }
  if (ch === "I") {
    const cur = s.sort[s.tab] ?? { col: 0, desc: false };
    return [{ ...s, sort: { ...s.sort, [s.tab]: { ...cur, desc: !cur.desc } } }, "redraw"];
  }
  if (ch >= "1" && ch <= "9") {
    const t = src.tabs[Number(ch) - 1];
    return t ? selectTab(s, t) : [s, "none"];
  }
  const own = src.key({ name: "char", ch }, at);
  // A letter that may begin `set N`: remembered, whatever else it did.
  const started = TYPED_COMMANDS.some((w) => w.startsWith(ch))
    ? { typed: ch, typedFrom: s.tab }
    : {};
  const [next, eff] = apply({ ...s, ...started }, own);
  return [next, own === null && started.typed !== undefined ? "redraw" : eff];
}

function lineKey(
  s: ViewState,
  key: Key,
  src: ViewSource,
  at: RowContext,
): [ViewState, Effect] {
  const input = s.input!;
  const search = input.kind === "search";
  switch (key.name) {
    case "enter":
      if (search) return [{ ...s, input: null }, "redraw"];
      return runCommand(s, input.text, src, at);
    case "escape":
      return [
        { ...s, input: null, ...(search ? { search: "", cursor: 0, scroll: 0 } : {}) },
        "redraw",
      ];
    case "backspace": {
      if (input.text === "") return [{ ...s, input: null }, "redraw"];
      const text = input.text.slice(0, -1);
      return [
        { ...s, input: { ...input, text }, ...(search ? { search: text, cursor: 0 } : {}) },
        "redraw",
      ];
    }
    case "char": {
      const text = input.text + key.ch;
      return [
        { ...s, input: { ...input, text }, ...(search ? { search: text, cursor: 0 } : {}) },
        "redraw",
      ];
    }
    default:
      return [s, "none"];
  }
}

// --- rendering -------------------------------------------------------------

export interface ScreenInfo {
  cols: number;
  rows: number;
  /** Wall-clock time of the last refresh, shown in the title. */
  clock: string;
}

/** Rows of the main table as shown: searched, then sorted (stable). */
export function shownRows(s: ViewState, screen: Screen): TableRow[] {
  const t = screen.tables[0];
  if (t === undefined) return [];
  let rows = t.rows;
  if (s.search !== "") {
    const q = s.search.toLowerCase();
    rows = rows.filter((r) => r.cells.some((c) => c.toLowerCase().includes(q)));
  }
  const sort = s.sort[s.tab];
  if (sort !== undefined && t.columns.length > 0) {
    const col = ((sort.col % t.columns.length) + t.columns.length) % t.columns.length;
    const key = (r: TableRow): SortKey => r.keys?.[col] ?? r.cells[col] ?? null;
    rows = rows.map((r, i) => ({ r, i })).sort((a, b) => {
      const x = key(a.r), y = key(b.r);
      let c: number;
      if (x === null || y === null) c = x === y ? 0 : x === null ? 1 : -1;
      else if (typeof x === "number" && typeof y === "number") c = x - y;
      else c = String(x).localeCompare(String(y), undefined, { numeric: true });
      if (sort.desc && x !== null && y !== null) c = -c;
      return c || a.i - b.i;
    }).map((x) => x.r);
  }
  return rows;
}

/** Index of the first body line (title, tab bar, info line come first). */
export function bodyTop(src: ViewSource): number {
  return src.tabs.length > 1 ? 3 : 2;
}

/** How many table rows fit on the screen. */
export function pageRows(rows: number, src: ViewSource): number {
  return Math.max(1, rows - bodyTop(src) - 2);
}

/** The tab bar text and the column span of each tab label. */
export function tabBar(tabs: readonly string[]): {
  text: string;
  spans: Map<string, [number, number]>;
} {
  let text = "";
  const spans = new Map<string, [number, number]>();
  tabs.forEach((t, i) => {
    const label = ` ${i + 1} ${t} `;
    spans.set(t, [text.length, text.length + label.length]);
    text += label + " ";
  });
  return { text: text.trimEnd(), spans };
}

function helpLines(src: ViewSource): string[] {
  const all = [...VIEW_KEYS, ...src.help];
  const w = Math.max(...all.map((k) => k.keys.length));
  return [
    "Keys (any key closes this help)",
    "",
    ...all.map((k) => `  ${k.keys.padEnd(w)}  ${k.does}`),
  ];
}

/**
 * Screen lines for `screen` (exactly `info.rows` of them) plus the state with cursor,
 * scroll and column scroll clamped to what there is, and the cursor's row.
 */
export function renderScreen(
  s: ViewState,
  screen: Screen,
  src: ViewSource,
  info: ScreenInfo,
): { lines: Line[]; state: ViewState; row: TableRow | null; rowCount: number } {
  const lines: Line[] = [];
  const title = `${screen.title}  every ${s.interval}s${s.paused ? "  PAUSED" : ""}  ${info.clock}`;
  lines.push({ text: title, inverse: true });
  if (s.intro && src.intro !== null) {
    for (const l of src.intro) lines.push({ text: l });
    lines.push({ text: "" });
    lines.push({ text: "press any key to start", bold: true });
    while (lines.length < info.rows) lines.push({ text: "" });
    return { lines: lines.slice(0, info.rows), state: s, row: null, rowCount: 0 };
  }
  if (s.help) {
    for (const l of helpLines(src)) lines.push({ text: l });
    while (lines.length < info.rows) lines.push({ text: "" });
    return { lines: lines.slice(0, info.rows), state: s, row: null, rowCount: 0 };
  }
  if (src.tabs.length > 1) {
    const bar = tabBar(src.tabs);
    const span = bar.spans.get(s.tab);
    lines.push({ text: bar.text, highlight: span ? [span] : [] });
  }
  const main = screen.tables[0] ?? { columns: [], rows: [] };
  const rows = shownRows(s, screen);
  const sort = s.sort[s.tab];
  const sortCol = sort === undefined || main.columns.length === 0
    ? -1
    : ((sort.col % main.columns.length) + main.columns.length) % main.columns.length;
  let infoText = screen.info;
  if (s.search !== "") {
    infoText += `  |  search "${s.search}": ${rows.length} of ${main.rows.length}`;
  }
  if (sortCol >= 0) {
    infoText += `  |  sorted by ${main.columns[sortCol].title} ${sort!.desc ? "desc" : "asc"}`;
  }
  lines.push({ text: infoText });

  // Cursor: on the same row id as before when it is still there.
  let cursor = s.cursor;
  if (s.cursorId !== null) {
    const i = rows.findIndex((r) => r.id === s.cursorId);
    if (i >= 0) cursor = i;
  }
  cursor = Math.max(0, Math.min(cursor, rows.length - 1));
  const row = rows[cursor] ?? null;

  const width = info.cols;
  const columns = main.columns.map((c, i) =>
    i === sortCol ? { ...c, title: c.title + (sort!.desc ? "-" : "+") } : c
  );
  const laid = layoutScreenTable(columns, rows.map((r) => r.cells), width, s.hcol);
  const body: Line[] = [];
  for (let i = 0; i < laid.lines.length; i++) {
    body.push(i === cursor ? { text: laid.lines[i], inverse: true } : { text: laid.lines[i] });
  }
  for (const t of screen.tables.slice(1)) {
    body.push({ text: "" });
    if (t.title) body.push({ text: t.title, bold: true });
    const l = layoutScreenTable(t.columns, t.rows.map((r) => r.cells), width, 1);
    body.push({ text: l.header, bold: true });
    for (const x of l.lines) body.push({ text: x });
  }
  const top = lines.length;
  const visible = Math.max(1, info.rows - top - 2); // header line and bottom line
  let scroll = s.scroll;
  if (cursor < scroll) scroll = cursor;
  if (cursor >= scroll + visible && cursor < laid.lines.length) scroll = cursor - visible + 1;
  scroll = Math.max(0, Math.min(scroll, Math.max(0, body.length - visible)));
  lines.push({ text: laid.header, bold: true });
  for (const l of body.slice(scroll, scroll + visible)) lines.push(l);
  while (lines.length < info.rows - 1) lines.push({ text: "" });

  let bottom: Line;
  if (s.input !== null) {
    bottom = { text: (s.input.kind === "search" ? "/" : ":") + s.input.text + "_" };
  } else if (s.typed !== null) bottom = { text: `${s.typed}_   (Enter runs, Esc cancels)` };
  else if (s.message) bottom = { text: s.message, inverse: true };
  else {
    const more = body.length > visible
      ? `  rows ${scroll + 1}-${Math.min(body.length, scroll + visible)} of ${body.length}`
      : "";
    const cut = laid.maxHcol > 1 ? `  cols ${laid.hcol}/${laid.maxHcol} (Left/Right)` : "";
    bottom = { text: `?: help  Tab: tabs  </>: sort  /: search  q: quit${more}${cut}` };
  }
  lines.push(bottom);
  const state: ViewState = {
    ...s,
    cursor,
    cursorId: row?.id ?? null,
    scroll,
    hcol: laid.hcol,
  };
  return { lines: lines.slice(0, info.rows), state, row, rowCount: rows.length };
}
