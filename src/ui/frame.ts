/**
 * Turns screen lines into one string written with a single write per frame: cursor home,
 * each line overwritten in place and cleared to its end; every row of the screen is written.
 * No full-screen clear, so nothing flickers. Pure.
 *
 * @module
 */
import { ESC } from "./terminal.ts";
import { clip } from "./table.ts";
import { escapeControl } from "../output/escape.ts";

/** One screen line: plain text plus style spans (column ranges in the unclipped text). */
export interface Line {
  text: string;
  /** Whole line in reverse video (title and command lines). */
  inverse?: boolean;
  bold?: boolean;
  /** Column ranges [start, end) shown in reverse video (the selected tab). */
  highlight?: [number, number][];
}

/** The line's escape-coded text, clipped to `cols`, and its visible width. */
function styled(line: Line, cols: number, hscroll: number): [string, number] {
  const text = clip(escapeControl(line.text).slice(hscroll), cols);
  if (line.inverse) return [ESC.reverse + text.padEnd(cols) + ESC.reset, cols];
  let out = "";
  let pos = 0;
  for (const [a0, b0] of line.highlight ?? []) {
    const a = Math.max(pos, a0), b = Math.min(text.length, b0);
    if (a >= b) continue;
    out += text.slice(pos, a) + ESC.reverse + text.slice(a, b) + ESC.reset;
    pos = b;
  }
  out += text.slice(pos);
  return [line.bold ? ESC.bold + out + ESC.reset : out, text.length];
}

/**
 * The bytes of one frame for a `cols` x `rows` terminal.
 *
 * @param scrollable which lines follow the horizontal scroll offset (table lines)
 */
export function composeFrame(
  lines: Line[],
  cols: number,
  rows: number,
  hscroll = 0,
  scrollable: (index: number) => boolean = () => false,
): string {
  let out = ESC.home;
  for (let i = 0; i < rows; i++) {
    const line = lines[i] ?? { text: "" };
    // The last line stops one cell short so the terminal never scrolls or wraps.
    const width = i === rows - 1 ? Math.max(0, cols - 1) : cols;
    const [text, visible] = styled(line, width, scrollable(i) ? hscroll : 0);
    // Clear-to-end-of-line only when the line is shorter than the screen: at the right
    // margin some terminals would erase the last character.
    out += text + (visible < cols ? ESC.clearEol : "");
    if (i < rows - 1) out += "\r\n";
  }
  return out;
}
