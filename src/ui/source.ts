/**
 * What the live terminal view shows, as an interface: a source (netmon proc's /proc view,
 * netmon top's per-process traffic) hands the view tables of text cells; the view does
 * tabs, cursor, sorting, search, scrolling, help, pause and the refresh timer. src/ui knows
 * nothing of where the rows come from.
 *
 * @module
 */
import type { Key } from "./keys.ts";

export interface ColumnSpec {
  title: string;
  align?: "left" | "right";
}

/** What a column sorts by: numbers numerically, text alphabetically, null last. */
export type SortKey = number | string | null;

export interface TableRow {
  cells: string[];
  /** Sort keys per column (the cell's text where absent). */
  keys?: SortKey[];
  /** Identity kept across refreshes (the cursor stays on it; sources act on it). */
  id?: string;
}

export interface Table {
  /** Heading above a section (tables after the first). */
  title?: string;
  columns: ColumnSpec[];
  rows: TableRow[];
}

/** One refresh of one tab. */
export interface Screen {
  /** Left part of the title line. */
  title: string;
  /** The line under the tab bar (counts, notes). */
  info: string;
  /** The first table is the one the cursor, sorting and search work on; the rest follow it. */
  tables: Table[];
}

/** One line of the help screen. */
export interface KeyHelp {
  keys: string;
  does: string;
}

/** What a source wants done after a key or command it handled. */
export interface SourceAction {
  /** "quit" ends the view (exit 0), e.g. a choice was made. */
  effect: "none" | "redraw" | "refresh" | "quit";
  /** Switch to this tab. */
  tab?: string;
  /** One line for the bottom of the screen. */
  message?: string;
}

/** Where the cursor is, for a source that acts on rows. */
export interface RowContext {
  tab: string;
  row: TableRow | null;
}

export interface ViewSource {
  readonly tabs: readonly string[];
  /** Keys this source adds, for the help screen. */
  readonly help: readonly KeyHelp[];
  /** Lines of the instructions screen shown before the view starts, or null for none. */
  readonly intro: readonly string[] | null;
  /** Command words this source accepts on the command line (for the error message). */
  readonly commands: readonly string[];
  /** The screen of `tab`; `tick` is true when the refresh timer asks (rates move on then). */
  screen(tab: string, tick: boolean): Screen;
  /** A key the view does not use itself; null when the source does not use it either. */
  key(key: Key, at: RowContext): SourceAction | null;
  /** A command line the view does not know; null when unknown. */
  command(cmd: string, at: RowContext): SourceAction | null;
  /** Why the view must end (checked after each refresh and when `ending` resolves). */
  ended(): string | null;
  /** Resolves as soon as the view must end (the watched process exited), when known. */
  readonly ending?: Promise<void>;
  close(): void;
}
