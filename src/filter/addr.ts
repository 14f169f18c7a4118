/**
 * Address text parsing for filters. Compile-time helpers may allocate; the
 * `*Text` readers used while matching records parse straight from the string
 * with `charCodeAt` and write into caller-owned scratch space, so matching a
 * record allocates nothing.
 */
import { ipv6 as formatIpv6 } from "../decode/format.ts";

const CH_0 = 48;
const CH_9 = 57;
const CH_DOT = 46;
const CH_COLON = 58;
const CH_A = 97;
const CH_F = 102;
const CH_UA = 65;
const CH_UF = 70;

function hexVal(c: number): number {
  if (c >= CH_0 && c <= CH_9) return c - CH_0;
  if (c >= CH_A && c <= CH_F) return c - CH_A + 10;
  if (c >= CH_UA && c <= CH_UF) return c - CH_UA + 10;
  return -1;
}

/**
 * Parses dotted-quad IPv4 text in `s[from..to)` into an unsigned 32-bit number, or -1.
 *
 * @example
 * ```ts
 * import { parseIpv4 } from "./src/filter/addr.ts";
 * parseIpv4("10.0.0.1"); // 167772161
 * ```
 */
export function parseIpv4(s: string, from = 0, to = s.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= CH_0 && c <= CH_9) {
      if (digits === 1 && octet === 0) return -1; // leading zero: octal in some tools, refuse
      octet = octet * 10 + (c - CH_0);
      digits++;
      if (digits > 3 || octet > 255) return -1;
    } else if (c === CH_DOT) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/**
 * Reads the first `octets` (1-4) numbers of a record's dotted quad (as the decoders print
 * it) as an unsigned 32-bit value with the rest zero, or -1 when the text does not start
 * like a dotted quad (IPv6 text, hex). A CIDR match needs only the octets its prefix
 * covers, so `10.0.0.0/8` reads 3 characters. The record side is trusted to be
 * canonical (no leading-zero checks); it never throws.
 *
 * @example
 * ```ts
 * import { readIpv4Prefix } from "./src/filter/addr.ts";
 * readIpv4Prefix("10.1.2.3", 1); // 0x0a000000
 * ```
 */
export function readIpv4Prefix(s: string, octets: number): number {
  const n = s.length;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let done = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - CH_0;
    if (d >= 0 && d <= 9) {
      octet = octet * 10 + d;
      if (++digits > 3) return -1;
    } else if (d === CH_DOT - CH_0 && digits > 0 && octet <= 255 && done < 3) {
      value = value * 256 + octet;
      if (++done === octets) return value * IPV4_SHIFT[done];
      octet = 0;
      digits = 0;
    } else return -1;
  }
  if (done !== 3 || digits === 0 || octet > 255) return -1;
  return value * 256 + octet;
}

/** 256^(4-k): moves k octets read to the top of a 32-bit value. */
const IPV4_SHIFT = [0x100000000, 0x1000000, 0x10000, 0x100, 1];

/**
 * Parses IPv6 text (with `::` and an optional dotted IPv4 tail) into 8 16-bit groups
 * in `out`. Returns false when the text is not an IPv6 address. Allocates nothing.
 */
export function parseIpv6(s: string, out: Uint16Array, from = 0, to = s.length): boolean {
  let n = 0; // groups written
  let gap = -1; // group index where "::" was
  let i = from;
  if (to - from < 2) return false;
  if (s.charCodeAt(i) === CH_COLON) {
    if (s.charCodeAt(i + 1) !== CH_COLON) return false;
    gap = 0;
    i += 2;
    if (i === to) {
      out.fill(0);
      return true;
    }
  }
  while (i < to) {
    // one group: up to 4 hex digits, or a dotted IPv4 tail
    let v = 0;
    let digits = 0;
    const groupStart = i;
    while (i < to) {
      const h = hexVal(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      digits++;
      i++;
    }
    if (i < to && s.charCodeAt(i) === CH_DOT) {
      if (n > 6) return false;
      const v4 = parseIpv4(s, groupStart, to);
      if (v4 < 0) return false;
      out[n++] = v4 >>> 16;
      out[n++] = v4 & 0xffff;
      i = to;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    out[n++] = v;
    if (i === to) break;
    if (s.charCodeAt(i) !== CH_COLON) return false;
    i++;
    if (i < to && s.charCodeAt(i) === CH_COLON) {
      if (gap >= 0) return false;
      gap = n;
      i++;
      if (i === to) break;
    } else if (i === to) return false; // trailing single colon
  }
  if (gap < 0) return n === 8;
  if (n === 8) return false; // "::" must stand for at least one group
  const tail = n - gap;
  for (let k = 0; k < tail; k++) out[7 - k] = out[n - 1 - k];
  for (let k = gap; k < 8 - tail; k++) out[k] = 0;
  return true;
}

/** IPv6 groups as 16 bytes. */
export function ipv6Bytes(groups: Uint16Array): Uint8Array {
  const b = new Uint8Array(16);
  for (let g = 0; g < 8; g++) {
    b[2 * g] = groups[g] >>> 8;
    b[2 * g + 1] = groups[g] & 0xff;
  }
  return b;
}

/** Canonical (RFC 5952, as the decoders print it) text of IPv6 text, or null when invalid. */
export function canonicalIpv6(s: string): string | null {
  const g = new Uint16Array(8);
  if (!parseIpv6(s, g)) return null;
  return formatIpv6(ipv6Bytes(g), 0);
}

/** Canonical dotted quad of IPv4 text, or null (leading zeros such as "010.0.0.1" are refused). */
export function canonicalIpv4(s: string): string | null {
  const v = parseIpv4(s);
  if (v < 0) return null;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * MAC address text in any case with `:`, `-`, `.` or no separators
 * (`00-1B-21-3C-9D-F8`, `001b.213c.9df8`, `001b213c9df8`) to the record form
 * `00:1b:21:3c:9d:f8`, or null when it is not 6 bytes of hex.
 */
export function canonicalMac(s: string): string | null {
  const ok = MAC_COLON.test(s) || MAC_DASH.test(s) || MAC_DOT.test(s) || MAC_BARE.test(s);
  if (!ok) return null;
  const hex = s.replace(/[:.-]/g, "").toLowerCase();
  return hex.match(/../g)!.join(":");
}

const MAC_COLON = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const MAC_DASH = /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i;
const MAC_DOT = /^[0-9a-f]{4}(\.[0-9a-f]{4}){2}$/i;
const MAC_BARE = /^[0-9a-f]{12}$/i;
