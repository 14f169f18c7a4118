/** Address and byte formatting shared by decoders, filters and outputs. */

/*
 * Performance note: the address texts are built from character codes with
 * String.fromCharCode, never with `+` chains. A `+` chain of 13 or more characters is
 * a rope (V8 cons string): slower to build, and JSON.stringify leaves its fast path for
 * it, so records full of ropes serialise about 30 % slower (bench/decode.ts).
 */
/** Character codes of the hex digits and of each byte value in decimal. */
const HEXC: number[] = Array.from("0123456789abcdef", (c) => c.charCodeAt(0));
const DECC: number[][] = [];
for (let i = 0; i < 256; i++) DECC.push(Array.from(String(i), (c) => c.charCodeAt(0)));
const COLON = 0x3a;
const DOT = 0x2e;
/** Scratch for character codes; `codesText(n)` turns the first n into a flat string. */
const CODES: number[] = [];

function codesText(n: number): string {
  CODES.length = n;
  return String.fromCharCode.apply(null, CODES);
}

function putDec(n: number, byte: number): number {
  const d = DECC[byte];
  for (let j = 0; j < d.length; j++) CODES[n++] = d[j];
  return n;
}

/** Appends a 16-bit group in hex without leading zeros. */
function putGroup(n: number, w: number): number {
  let shift = 12;
  while (shift > 0 && (w >> shift) === 0) shift -= 4;
  for (; shift >= 0; shift -= 4) CODES[n++] = HEXC[(w >> shift) & 15];
  return n;
}

/** MAC address as lowercase colon form: `00:1b:21:3c:9d:f8`. Caller checks bounds. */
export function mac(b: Uint8Array, off: number): string {
  const b0 = b[off], b1 = b[off + 1], b2 = b[off + 2], b3 = b[off + 3], b4 = b[off + 4];
  const b5 = b[off + 5];
  return String.fromCharCode(
    HEXC[b0 >> 4],
    HEXC[b0 & 15],
    COLON,
    HEXC[b1 >> 4],
    HEXC[b1 & 15],
    COLON,
    HEXC[b2 >> 4],
    HEXC[b2 & 15],
    COLON,
    HEXC[b3 >> 4],
    HEXC[b3 & 15],
    COLON,
    HEXC[b4 >> 4],
    HEXC[b4 & 15],
    COLON,
    HEXC[b5 >> 4],
    HEXC[b5 & 15],
  );
}

function putIpv4(n: number, b: Uint8Array, off: number): number {
  n = putDec(n, b[off]);
  CODES[n++] = DOT;
  n = putDec(n, b[off + 1]);
  CODES[n++] = DOT;
  n = putDec(n, b[off + 2]);
  CODES[n++] = DOT;
  return putDec(n, b[off + 3]);
}

/** Dotted quad. */
export function ipv4(b: Uint8Array, off: number): string {
  return codesText(putIpv4(0, b, off));
}

/**
 * IPv6 address in RFC 5952 canonical text (lowercase, no leading zeros, longest run of
 * two or more zero groups as ::, the first on ties), with embedded IPv4 in dotted form
 * like inet_ntop. Caller checks bounds.
 *
 * @example
 * ```ts
 * ipv6(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]), 0); // "2001:db8::1"
 * ```
 */
export function ipv6(b: Uint8Array, off: number): string {
  // find longest run of zero groups
  let bestStart = -1, bestLen = 0, curStart = -1, curLen = 0;
  for (let g = 0; g < 8; g++) {
    const w = (b[off + 2 * g] << 8) | b[off + 2 * g + 1];
    if (w === 0) {
      if (curStart < 0) {
        curStart = g;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestLen = curLen;
        bestStart = curStart;
      }
    } else curStart = -1;
  }
  if (bestLen < 2) bestStart = -1;
  // Embedded IPv4 keeps the dotted tail, as glibc's inet_ntop (and so Wireshark, tcpdump,
  // iproute2) prints it: IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5) and the
  // deprecated IPv4-compatible ::a.b.c.d (first 96 bits zero, 7th group not zero).
  if (bestStart === 0) {
    if (bestLen === 6) {
      CODES[0] = COLON;
      CODES[1] = COLON;
      return codesText(putIpv4(2, b, off + 12));
    }
    if (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff) {
      let n = 0;
      for (const c of "::ffff:") CODES[n++] = c.charCodeAt(0);
      return codesText(putIpv4(n, b, off + 12));
    }
  }
  let n = 0;
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      CODES[n++] = COLON;
      CODES[n++] = COLON;
      g += bestLen - 1;
      continue;
    }
    if (n > 0 && CODES[n - 1] !== COLON) CODES[n++] = COLON;
    n = putGroup(n, (b[off + 2 * g] << 8) | b[off + 2 * g + 1]);
  }
  return codesText(n);
}

/** Bytes per String.fromCharCode call in hex() (keeps the argument list small). */
const HEX_PIECE = 1024;

/** Lowercase hex of bytes[off..end) without separators. */
export function hex(b: Uint8Array, off: number, end: number): string {
  if (end - off > HEX_PIECE) {
    const pieces: string[] = [];
    for (let p = off; p < end; p += HEX_PIECE) pieces.push(hex(b, p, Math.min(end, p + HEX_PIECE)));
    return pieces.join("");
  }
  let n = 0;
  for (let i = off; i < end; i++) {
    const v = b[i];
    CODES[n++] = HEXC[v >> 4];
    CODES[n++] = HEXC[v & 15];
  }
  return codesText(n);
}

/** `0x0800` style rendering of a number with `digits` hex digits. */
export function hexNum(v: number, digits: number): string {
  return "0x" + v.toString(16).padStart(digits, "0");
}

/** Printable text of bytes (latin1/UTF-8 best effort), for TLV strings. Control chars dropped. */
const UTF8 = new TextDecoder("utf-8", { fatal: false });
export function text(b: Uint8Array, off: number, end: number): string {
  // deno-lint-ignore no-control-regex
  return UTF8.decode(b.subarray(off, end)).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "");
}
