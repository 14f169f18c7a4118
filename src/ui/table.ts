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
