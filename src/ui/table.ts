/**
 * Plain-text column layout: pads cells to the widest value per column, two spaces between
 * columns, no borders and no escape codes, so the same lines serve the terminal view and
 * piped output. (cli-table3 draws boxes and wraps cells; the view needs fixed single-line
 * rows that it can clip to the terminal width and scroll.)
 *
 * @module
 */

import { escapeControl } from "../output/escape.ts";

export interface Column<R> {
  title: string;
  value: (row: R) => string;
  align?: "left" | "right";
}

/** Display width of a string (the view only prints ASCII and Latin-1 text). */
export function width(s: string): number {
  return s.length;
}

/** Cuts `s` to at most `max` columns. */
export function clip(s: string, max: number): string {
  return width(s) <= max ? s : s.slice(0, Math.max(0, max));
}

/**
 * Header line followed by one line per row.
 *
 * @example
 * ```ts
 * layoutTable([{ title: "Port", value: (r: { p: number }) => String(r.p), align: "right" }], [{ p: 80 }]);
 * // ["Port", "  80"]
 * ```
 */
export function layoutTable<R>(columns: Column<R>[], rows: R[]): string[] {
  const cells = rows.map((r) => columns.map((c) => escapeControl(c.value(r))));
  const widths = columns.map((c, i) =>
    Math.max(width(c.title), ...cells.map((row) => width(row[i])))
  );
  const line = (vals: string[]) =>
    vals.map((v, i) => {
      const pad = " ".repeat(widths[i] - width(v));
      if (i === vals.length - 1 && columns[i].align !== "right") return v;
      return columns[i].align === "right" ? pad + v : v + pad;
    }).join("  ").replace(/\s+$/, "");
  return [line(columns.map((c) => c.title)), ...cells.map(line)];
}

/** Marker drawn where columns are hidden to the left (after the first column) or cut. */
export const CUT_LEFT = "<";
export const CUT_RIGHT = ">";

/** A table laid out for a screen `width` wide, scrolled to column `hcol`. */
export interface ScreenTable {
  header: string;
  lines: string[];
  /** The hcol actually used (clamped). */
  hcol: number;
  /** The largest useful hcol: from there on the last column is fully on screen. */
  maxHcol: number;
}

/**
 * Lays out a table for the view: the first column always shown, then the columns from
 * `hcol` on. Where columns are hidden after the first one a `<` stands in the gap; where a
 * column is cut (or hidden) at the right edge the line ends with `>`. Scrolling right stops
 * once the last column is fully visible.
 *
 * @example
 * ```ts
 * layoutScreenTable([{ title: "A" }, { title: "Long" }, { title: "C" }], [["1", "xxxxxx", "3"]], 8, 1);
 * // header "A  Long>", the "Long" column cut at the right edge
 * ```
 */
export function layoutScreenTable(
  columns: { title: string; align?: "left" | "right" }[],
  cells: string[][],
  width: number,
  hcol: number,
): ScreenTable {
  const n = columns.length;
  if (n === 0) return { header: "", lines: cells.map(() => ""), hcol: 1, maxHcol: 1 };
  cells = cells.map((r) => r.map(escapeControl));
  const w = columns.map((c, i) =>
    Math.max(c.title.length, ...cells.map((r) => (r[i] ?? "").length))
  );
  // Smallest start column from which everything to the right fits after the first column.
  let maxHcol = Math.max(1, n - 1);
  for (let h = 1; h < n; h++) {
    let total = w[0];
    for (let i = h; i < n; i++) total += 2 + w[i];
    if (total <= width) {
      maxHcol = h;
      break;
    }
  }
  if (n === 1) maxHcol = 1;
  const h = Math.max(1, Math.min(hcol, maxHcol));
  const line = (vals: string[]) => {
    const pad = (i: number) => {
      const v = vals[i] ?? "";
      return columns[i].align === "right" ? v.padStart(w[i]) : v.padEnd(w[i]);
    };
    let out = pad(0);
    let cut = false;
    for (let i = h; i < n; i++) {
      const sep = i === h && h > 1 ? " " + CUT_LEFT : "  ";
      const cell = pad(i);
      if (out.length + sep.length + cell.length <= width) {
        out += sep + cell;
        continue;
      }
      // The column that does not fit: as much of it as leaves room for the marker.
      const room = width - out.length - sep.length - CUT_RIGHT.length;
      if (room > 0) out += sep + cell.slice(0, room);
      cut = true;
      break;
    }
    if (cut) out = out.slice(0, Math.max(0, width - CUT_RIGHT.length)) + CUT_RIGHT;
    return out.replace(/\s+$/, "");
  };
  return {
    header: line(columns.map((c) => c.title)),
    lines: cells.map(line),
    hcol: h,
    maxHcol,
  };
}
