/**
 * Text fields of the layer-2 TLV protocols (CDP, LLDP, MST configuration name), read
 * the way Wireshark reads them (ENC_ASCII): the string ends at the first NUL byte, a
 * byte >= 0x80 becomes U+FFFD, control characters are kept (JSON escapes them).
 */
const REPLACEMENT = 0xfffd;
const ASCII_LIMIT = 0x80;
/** Longest run handed to String.fromCharCode at once (argument count limit). */
const CHUNK = 4096;

/** ASCII text of b[off..end), up to the first NUL. */
export function asciiz(b: Uint8Array, off: number, end: number): string {
  let stop = off;
  let plain = true;
  while (stop < end && b[stop] !== 0) {
    if (b[stop] >= ASCII_LIMIT) plain = false;
    stop++;
  }
  if (plain && stop - off <= CHUNK) {
    return String.fromCharCode.apply(null, b.subarray(off, stop) as unknown as number[]);
  }
  let s = "";
  const codes: number[] = [];
  for (let i = off; i < stop; i++) {
    codes.push(b[i] < ASCII_LIMIT ? b[i] : REPLACEMENT);
    if (codes.length === CHUNK) {
      s += String.fromCharCode(...codes);
      codes.length = 0;
    }
  }
  return s + String.fromCharCode(...codes);
}
