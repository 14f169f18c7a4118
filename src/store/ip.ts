/**
 * Addresses as stored: 16 bytes, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`), as ClickHouse's
 * IPv6 type and Akvorado keep them. One column serves both families, byte order is
 * network order, so a CIDR prefix is a byte range (`BETWEEN low AND high`) and a prefix
 * grouping is the first bytes of the value.
 */
import { parseIpv4, parseIpv6 } from "../filter/addr.ts";
import { ipv4 as formatIpv4, ipv6 as formatIpv6 } from "../decode/format.ts";

/** The 12 bytes before an IPv4 address in its IPv4-mapped IPv6 form. */
export const V4_MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

const GROUPS = new Uint16Array(8);

/**
 * Writes the 16-byte form of address text (dotted quad or IPv6 text) into `out`.
 * Returns 4 or 6 (the family of the text), or 0 when the text is not an address.
 *
 * @example
 * ```ts
 * const b = new Uint8Array(16);
 * addressBytes("10.0.0.1", b); // 4; b is ::ffff:10.0.0.1
 * ```
 */
export function addressBytes(text: string, out: Uint8Array): 0 | 4 | 6 {
  const v4 = parseIpv4(text);
  if (v4 >= 0) {
    out.set(V4_MAPPED_PREFIX, 0);
    out[12] = v4 >>> 24;
    out[13] = (v4 >>> 16) & 255;
    out[14] = (v4 >>> 8) & 255;
    out[15] = v4 & 255;
    return 4;
  }
  if (!parseIpv6(text, GROUPS)) return 0;
  for (let g = 0; g < 8; g++) {
    out[2 * g] = GROUPS[g] >>> 8;
    out[2 * g + 1] = GROUPS[g] & 0xff;
  }
  return 6;
}

/** True when the 16 bytes hold an IPv4-mapped address. */
export function isMapped(b: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (b[i] !== V4_MAPPED_PREFIX[i]) return false;
  return true;
}

/**
 * Text of stored address bytes: IPv4-mapped addresses print as the dotted quad, others
 * in RFC 5952 form (as the decoders print them). Fewer than 16 bytes (a prefix key from a
 * grouping query) are padded with zeros.
 */
export function addressText(b: Uint8Array): string {
  let full = b;
  if (b.length < 16) {
    full = new Uint8Array(16);
    full.set(b);
  }
  return isMapped(full) ? formatIpv4(full, 12) : formatIpv6(full, 0);
}

/**
 * The lowest and highest 16-byte values of a CIDR prefix of `bits` (0-128) over the
 * 16-byte form of `base` (host bits ignored).
 */
export function prefixRange(base: Uint8Array, bits: number): [Uint8Array, Uint8Array] {
  const lo = new Uint8Array(16);
  const hi = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    lo[i] = base[i] & mask;
    hi[i] = lo[i] | (~mask & 0xff);
  }
  return [lo, hi];
}

/** Lowercase hex of bytes (for SQL literals). */
export function hexOf(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

/** MAC text (`00:1b:21:3c:9d:f8`) as a 48-bit number, or null. */
export function macNumber(text: string): number | null {
  if (text.length !== 17) return null;
  const n = parseInt(text.replaceAll(":", ""), 16);
  return Number.isNaN(n) ? null : n;
}

/** A 48-bit number as MAC text. */
export function macText(n: number): string {
  const h = n.toString(16).padStart(12, "0");
  return h.match(/../g)!.join(":");
}
