/** 802.2 LLC and SNAP. (Placeholder: the full decoder lands with issue 2.) */
import type { Frame } from "./frame.ts";

export function decodeLlc(f: Frame, off: number, end: number): void {
  f.rest(off, end, "LLC");
}
