/**
 * Internet checksum helpers (RFC 1071), shared by every protocol.
 * Sums are kept as unfolded 32-bit-ish numbers and folded at the end.
 */

/** Adds the 16-bit big-endian words of bytes[off..end) to `sum` (odd tail padded with 0). */
export function onesSum(bytes: Uint8Array, off: number, end: number, sum = 0): number {
  let i = off;
  const last = end - 1;
  for (; i < last; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  // fold periodically is unnecessary: JS numbers hold 2^53 exactly.
  return sum;
}

/** Folds a sum to 16 bits and returns its one's complement (the checksum value). */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Sum of the IPv4 pseudo-header for an upper-layer protocol. */
export function pseudo4(
  bytes: Uint8Array,
  srcOff: number,
  dstOff: number,
  proto: number,
  len: number,
): number {
  let s = onesSum(bytes, srcOff, srcOff + 4);
  s = onesSum(bytes, dstOff, dstOff + 4, s);
  return s + proto + len;
}

/** Sum of the IPv6 pseudo-header (RFC 8200 8.1). */
export function pseudo6(
  bytes: Uint8Array,
  srcOff: number,
  dstOff: number,
  proto: number,
  len: number,
): number {
  let s = onesSum(bytes, srcOff, srcOff + 16);
  s = onesSum(bytes, dstOff, dstOff + 16, s);
  return s + Math.floor(len / 0x10000) + (len & 0xffff) + proto;
}

export type ChecksumStatus = "good" | "bad" | "unverified" | "absent";

/**
 * Verifies an upper-layer checksum over bytes[off..end) plus the pseudo-header of the
 * frame's current IP header (from f.sum). Returns "unverified" when not all bytes were
 * captured or when the kernel marked the checksum as not ready (offload).
 */
export function verifyUpper(
  bytes: Uint8Array,
  off: number,
  end: number,
  capEnd: number,
  csumNotReady: boolean,
  ipVersion: number,
  srcOff: number,
  dstOff: number,
  proto: number,
): ChecksumStatus {
  if (csumNotReady || end > capEnd || ipVersion === 0) return "unverified";
  const len = end - off;
  const ps = ipVersion === 4
    ? pseudo4(bytes, srcOff, dstOff, proto, len)
    : pseudo6(bytes, srcOff, dstOff, proto, len);
  return finish(onesSum(bytes, off, end, ps)) === 0 ? "good" : "bad";
}

/**
 * Facts about the innermost IP header of the frame being decoded that upper-layer
 * checksums need beyond f.sum: whether the packet is a fragment (then the transport
 * checksum covers bytes we do not have: "unverified", as Wireshark does) and where
 * the pseudo-header destination is (IPv6 with a routing header uses the final
 * destination, RFC 8200 8.1). Tied to the record object so a new frame never sees
 * the previous frame's values; no allocation.
 */
interface IpContext {
  rec: unknown;
  fragmented: boolean;
  pseudoDstOff: number;
}
const ipCtx: IpContext = { rec: null, fragmented: false, pseudoDstOff: 0 };

/** Called by the IP decoders before dispatching the upper layer. */
export function setIpContext(
  f: { rec: unknown },
  fragmented: boolean,
  pseudoDstOff: number,
): void {
  // Fragmentation of an outer header also makes inner checksums unverifiable.
  ipCtx.fragmented = fragmented || (ipCtx.rec === f.rec && ipCtx.fragmented);
  ipCtx.rec = f.rec;
  ipCtx.pseudoDstOff = pseudoDstOff;
}

/** After reassembly: the datagram is whole, its upper-layer checksums can be verified. */
export function resetIpContext(f: { rec: unknown }, pseudoDstOff: number): void {
  ipCtx.rec = f.rec;
  ipCtx.fragmented = false;
  ipCtx.pseudoDstOff = pseudoDstOff;
}

/** True when the frame's innermost IP packet (or an outer one) is a fragment. */
export function isFragmented(f: { rec: unknown }): boolean {
  return ipCtx.rec === f.rec && ipCtx.fragmented;
}

/** Minimal view of a Frame used by {@link upperChecksum} (avoids an import cycle). */
interface FrameLike {
  rec: unknown;
  bytes: Uint8Array;
  capEnd: number;
  csumNotReady: boolean;
  sum: { ipVersion: number; srcAddrOff: number; dstAddrOff: number };
}

/**
 * Status of a TCP/UDP/ICMPv6 checksum over bytes[off..end) with the pseudo-header of
 * the frame's innermost IP header (f.sum and the IP context).
 */
export function upperChecksum(
  f: FrameLike,
  off: number,
  end: number,
  proto: number,
): ChecksumStatus {
  const s = f.sum;
  if (s.ipVersion === 0) return "unverified";
  const current = ipCtx.rec === f.rec;
  if (current && ipCtx.fragmented) return "unverified";
  const dst = current ? ipCtx.pseudoDstOff : s.dstAddrOff;
  return verifyUpper(
    f.bytes,
    off,
    end,
    f.capEnd,
    f.csumNotReady,
    s.ipVersion,
    s.srcAddrOff,
    dst,
    proto,
  );
}

/** Verifies a checksum with no pseudo-header (IPv4 header, ICMP, IGMP). */
export function verifyPlain(
  bytes: Uint8Array,
  off: number,
  end: number,
  capEnd: number,
): ChecksumStatus {
  if (end > capEnd) return "unverified";
  return finish(onesSum(bytes, off, end)) === 0 ? "good" : "bad";
}
