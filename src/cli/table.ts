/**
 * Plain text tables for terminal listings (cli-table3 without colours, so the output
 * reads the same in a pipe, a log or a terminal).
 *
 * @example
 * ```ts
 * console.log(renderTable(["Name", "MTU"], [["lo", 65536]]));
 * ```
 * @module
 */
import Table from "cli-table3";
import { escapeControl } from "../output/escape.ts";

export type CellValue = string | number | boolean | null;

/**
 * Renders rows under a header; multi-line cells keep their line breaks.
 * `compact` leaves out the rule between rows (for one-line rows).
 */
export function renderTable(
  head: string[],
  rows: CellValue[][],
  opts: { compact?: boolean } = {},
): string {
  const t = new Table({ head, style: { head: [], border: [], compact: opts.compact === true } });
  for (const r of rows) {
    // Line breaks inside a cell are the table's; every other control character is escaped.
    t.push(
      r.map((c) =>
        c === null ? "-" : typeof c === "string" ? c.split("\n").map(escapeControl).join("\n") : c
      ),
    );
  }
  return t.toString();
}
