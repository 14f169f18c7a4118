/**
 * Address decoding for /proc/net files.
 *
 * The socket tables (tcp, udp, raw, icmp and their 6 variants) and /proc/net/route print
 * each 32-bit word of an address with `%08X` in *host* byte order: on a little-endian
 * machine `0100007F` is 127.0.0.1. IPv6 addresses are four such words, each swapped on
 * its own. /proc/net/ipv6_route instead prints the 16 bytes in network order (`%pi6`).
 *
 * @module
 */
import { ipv4, ipv6 } from "../decode/format.ts";

/** True on little-endian hosts (x86, arm64 as configured by Linux distributions). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Bytes of an address printed as `%08X` host-order words (8 hex digits per word).
 * Returns null when the text is not 8 or 32 hex digits.
 */
export function wordsToBytes(hex: string, littleEndian = HOST_LITTLE_ENDIAN): Uint8Array | null {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let w = 0; w < hex.length / 8; w++) {
    for (let i = 0; i < 4; i++) {
      // Digit pair i of a word is its (i)th most significant byte; in memory a
      // little-endian word stores its least significant byte first.
      const pair = parseInt(hex.substr(w * 8 + i * 2, 2), 16);
      out[w * 4 + (littleEndian ? 3 - i : i)] = pair;
    }
  }
  return out;
}

/**
 * Text of a socket-table address: IPv4 dotted quad, IPv6 in RFC 5952 form, and
 * IPv4-mapped IPv6 as `::ffff:a.b.c.d`.
 *
 * @example
 * ```ts
 * procAddress("0100007F", true); // "127.0.0.1"
 * procAddress("0000000000000000FFFF00000100007F", true); // "::ffff:127.0.0.1"
 * ```
 */
export function procAddress(hex: string, littleEndian = HOST_LITTLE_ENDIAN): string | null {
  const b = wordsToBytes(hex, littleEndian);
  if (!b) return null;
  return b.length === 4 ? ipv4(b, 0) : ipv6(b, 0);
}

/** IPv6 address from 32 hex digits in network order (as /proc/net/ipv6_route prints it). */
export function networkOrderIPv6(hex: string): string | null {
  if (hex.length !== 32 || !/^[0-9A-Fa-f]+$/.test(hex)) return null;
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.substr(i * 2, 2), 16);
  return ipv6(b, 0);
}

/** Prefix length of a contiguous IPv4 netmask given as bytes, or null when not contiguous. */
export function maskLength(b: Uint8Array): number | null {
  let n = 0;
  let seenZero = false;
  for (const byte of b) {
    for (let bit = 7; bit >= 0; bit--) {
      if (byte & (1 << bit)) {
        if (seenZero) return null;
        n++;
      } else seenZero = true;
    }
  }
  return n;
}
