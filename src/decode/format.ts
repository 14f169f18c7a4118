/** Address and byte formatting shared by decoders, filters and outputs. */

const HEX2: string[] = [];
for (let i = 0; i < 256; i++) HEX2.push(i.toString(16).padStart(2, "0"));

/** MAC address as lowercase colon form: `00:1b:21:3c:9d:f8`. Caller checks bounds. */
export function mac(b: Uint8Array, off: number): string {
  return HEX2[b[off]] + ":" + HEX2[b[off + 1]] + ":" + HEX2[b[off + 2]] + ":" +
    HEX2[b[off + 3]] + ":" + HEX2[b[off + 4]] + ":" + HEX2[b[off + 5]];
}

/** Dotted quad. */
export function ipv4(b: Uint8Array, off: number): string {
  return b[off] + "." + b[off + 1] + "." + b[off + 2] + "." + b[off + 3];
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
    if (bestLen === 6) return "::" + ipv4(b, off + 12);
    if (bestLen === 5 && b[off + 10] === 0xff && b[off + 11] === 0xff) {
      return "::ffff:" + ipv4(b, off + 12);
    }
  }
  let s = "";
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      s += "::";
      g += bestLen - 1;
      continue;
    }
    if (s.length > 0 && !s.endsWith(":")) s += ":";
    s += ((b[off + 2 * g] << 8) | b[off + 2 * g + 1]).toString(16);
  }
  return s;
}

/** Lowercase hex of bytes[off..end) without separators. */
export function hex(b: Uint8Array, off: number, end: number): string {
  let s = "";
  for (let i = off; i < end; i++) s += HEX2[b[i]];
  return s;
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
