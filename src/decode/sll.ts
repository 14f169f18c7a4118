/** Linux cooked capture v1 (SLL) and v2 (SLL2). (Placeholder until issue 2's file reader lands.) */
import type { Frame } from "./frame.ts";

export function decodeSll(f: Frame, off: number, end: number): void {
  f.rest(off, end, "Linux SLL");
}

export function decodeSll2(f: Frame, off: number, end: number): void {
  f.rest(off, end, "Linux SLL2");
}
