/**
 * TCP (RFC 9293) with options: MSS, window scale, SACK permitted, SACK blocks,
 * timestamps, user timeout, TCP Fast Open; MPTCP (RFC 8684) and AccECN
 * (kinds 172/174) and anything else as kind, length and hex data.
 *
 * Sequence and acknowledgment numbers are absolute (what is on the wire).
 * The AE flag (RFC 9768, formerly NS) is bit 8 of the flags (0x100 in f.sum.tcpFlags).
 * Bytes after the header are recorded as Payload (Length, Captured_Length).
 * Malformed or cut headers and options keep what tshark would show (docs/decoders-l3.md).
 */
import type { Frame } from "./frame.ts";
import { dispatchPort, IP_PROTO, register, TCP_PORT } from "./registry.ts";
import { LAYER, type Layer } from "./record.ts";
import { hex } from "./format.ts";
import { upperChecksum } from "./checksum.ts";
import { u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the header. */
const OFF = {
  SRC_PORT: 0,
  DST_PORT: 2,
  SEQ: 4,
  ACK: 8,
  DATA_OFFSET: 12,
  FLAGS: 13,
  WINDOW: 14,
  CHECKSUM: 16,
  URGENT: 18,
  OPTIONS: 20,
} as const;
export const TCP_HEADER_LEN = 20;
export const IP_PROTO_TCP = 6;

const FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  AE: 0x100,
} as const;

/** Option kinds with their fixed lengths (0 = variable). */
const KIND = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
  USER_TIMEOUT: 28,
  MPTCP: 30,
  FAST_OPEN: 34,
} as const;
const FIXED_LEN: Record<number, number> = { 2: 4, 3: 3, 4: 2, 8: 10, 28: 4 };
const KIND_NAMES: Record<number, string> = {
  0: "End of Option List",
  1: "No-Operation",
  2: "Maximum Segment Size",
  3: "Window Scale",
  4: "SACK Permitted",
  5: "SACK",
  8: "Timestamps",
  19: "MD5 Signature",
  27: "Quick-Start Response",
  28: "User Timeout",
  29: "TCP Authentication",
  30: "Multipath TCP",
  34: "TCP Fast Open Cookie",
  69: "Encryption Negotiation",
  172: "AccECN Order 0",
  174: "AccECN Order 1",
  253: "Experimental",
  254: "Experimental",
};
// Not frozen: a frozen value sends JSON.stringify off its fast path (docs/capture-files.md).
const EOL_OPTION: Readonly<Record<string, unknown>> = { Kind: 0, Name: KIND_NAMES[0] };
const NOP_OPTION: Readonly<Record<string, unknown>> = { Kind: 1, Name: KIND_NAMES[1] };
const NO_OPTIONS: readonly unknown[] = [];

/** Values of an option cut at `cap` whose data starts at `d` (those wholly captured). */
function partialOption(
  b: Uint8Array,
  o: Record<string, unknown>,
  kind: number,
  d: number,
  cap: number,
): void {
  if (kind === KIND.MSS && d + 2 <= cap) o.Value = u16(b, d);
  else if (kind === KIND.WINDOW_SCALE && d + 1 <= cap) o.Shift_Count = b[d];
  else if (kind === KIND.TIMESTAMPS && d + 4 <= cap) o.Value = u32(b, d);
  else if (kind === KIND.SACK) {
    const blocks: Record<string, number>[] = [];
    for (let e = d; e + 4 <= cap; e += 8) {
      blocks.push(
        e + 8 <= cap
          ? { Left_Edge: u32(b, e), Right_Edge: u32(b, e + 4) }
          : { Left_Edge: u32(b, e) },
      );
    }
    o.Blocks = blocks;
  }
}

/**
 * Decodes the options in bytes[off..end) (the option area on the wire) reading no
 * further than `segEnd` (the segment's end) nor the captured data: "truncated" at the
 * first option not fully captured. Like Wireshark, an option too short for its own
 * fields (MSS of length 3, SACK without a whole block) ends the list with a fault.
 */
export function decodeTcpOptions(f: Frame, off: number, end: number, segEnd = end): unknown[] {
  const cap = f.capEnd < segEnd ? f.capEnd : segEnd;
  const b = f.bytes;
  const name = LAYER.TCP;
  const out: unknown[] = [];
  let i = off;
  let afterEol = false;
  while (i < end) {
    if (i + 1 > cap) {
      // Cut by the snap length (a short segment was already recorded as a fault).
      if (cap === f.capEnd && f.capEnd < segEnd) f.truncated(name, i);
      break;
    }
    const kind = b[i];
    if (afterEol && kind !== KIND.EOL) {
      // Zero padding after EOL is listed as more EOLs (as Wireshark lists it); anything
      // else there is a fault and ends the list.
      f.fault(name, "non-zero padding after End of Option List", i);
      break;
    }
    if (kind === KIND.EOL) {
      out.push(EOL_OPTION);
      afterEol = true;
      i++;
      continue;
    }
    if (kind === KIND.NOP) {
      out.push(NOP_OPTION);
      i++;
      continue;
    }
    if (i + 2 > end) {
      f.fault(name, `option ${kind} has no length`, i);
      break;
    }
    if (i + 2 > cap) {
      if (cap === f.capEnd && f.capEnd < segEnd) f.truncated(name, i);
      break;
    }
    const len = b[i + 1];
    if (len < 2 || i + len > end) {
      // Not an option (Wireshark notes it and lists nothing); the list ends.
      f.fault(name, `option ${kind} length ${len} is invalid`, i + 1);
      break;
    }
    const o: Record<string, unknown> = {
      Kind: kind,
      Name: KIND_NAMES[kind] ?? "Unknown",
      Length: len,
    };
    out.push(o);
    if (i + len > cap) {
      partialOption(b, o, kind, i + 2, cap);
      if (cap === f.capEnd && f.capEnd < segEnd) f.truncated(name, i);
      break;
    }
    const d = i + 2;
    const fixed = FIXED_LEN[kind];
    if (fixed !== undefined && len !== fixed) {
      // Wrong length for a fixed-size option: kept as bytes, the list goes on.
      f.fault(name, `option ${kind} length ${len} is not ${fixed}`, i + 1);
      if (len > 2) o.Data = hex(b, d, i + len);
      i += len;
      continue;
    }
    switch (kind) {
      case KIND.MSS:
        o.Value = u16(b, d);
        break;
      case KIND.WINDOW_SCALE:
        o.Shift_Count = b[d];
        o.Multiplier = b[d] <= 14 ? 2 ** b[d] : 2 ** 14;
        break;
      case KIND.SACK_PERMITTED:
        break;
      case KIND.SACK: {
        const blocks: Record<string, number>[] = [];
        const oEnd = i + len;
        let e = d;
        for (; e + 8 <= oEnd; e += 8) {
          blocks.push({ Left_Edge: u32(b, e), Right_Edge: u32(b, e + 4) });
        }
        o.Blocks = blocks;
        if (e < oEnd || blocks.length === 0) {
          // A partial block shows its left edge when whole (tshark alike); a SACK
          // without any edge stops the list (Wireshark fails on it).
          if (e + 4 <= oEnd) blocks.push({ Left_Edge: u32(b, e) });
          f.fault(name, `SACK option length ${len} is not 2 + 8n`, i + 1);
          if (blocks.length === 0) return out;
        }
        break;
      }
      case KIND.TIMESTAMPS:
        o.Value = u32(b, d);
        o.Echo_Reply = u32(b, d + 4);
        break;
      case KIND.USER_TIMEOUT: {
        const v = u16(b, d);
        o.Granularity = v & 0x8000 ? "minutes" : "seconds";
        o.Timeout = v & 0x7fff;
        break;
      }
      case KIND.MPTCP:
        if (len > 2) o.Subtype = b[d] >> 4;
        if (len > 2) o.Data = hex(b, d, i + len);
        break;
      case KIND.FAST_OPEN:
        if (len > 2) o.Cookie = hex(b, d, i + len);
        break;
      default:
        if (len > 2) o.Data = hex(b, d, i + len);
    }
    i += len;
  }
  return out;
}

/**
 * The fields of a header cut after `n` bytes (4 <= n < 20), as Wireshark shows them:
 * it reads the first 16 bytes at once, so below that only the ports, else everything
 * up to the window (and the checksum when captured). f.sum gets what is known. `seg` is
 * the segment's length on the wire.
 */
function partialTcp(f: Frame, off: number, n: number, seg: number): Layer {
  const b = f.bytes;
  const s = f.sum;
  const a: Layer = { Source_Port: u16(b, off + OFF.SRC_PORT) };
  a.Destination_Port = u16(b, off + OFF.DST_PORT);
  s.srcPort = a.Source_Port as number;
  s.dstPort = a.Destination_Port as number;
  if (n < OFF.CHECKSUM) return a;
  const hlen = (b[off + OFF.DATA_OFFSET] >> 4) * 4;
  const flags = ((b[off + OFF.DATA_OFFSET] & 1) << 8) | b[off + OFF.FLAGS];
  a.Sequence_Number = s.tcpSeq = u32(b, off + OFF.SEQ);
  if (hlen < TCP_HEADER_LEN) {
    // Bogus data offset: as for a whole header, nothing after it is shown.
    a.Header_Length = hlen;
    a.Payload_Length = seg - hlen;
    return a;
  }
  a.Acknowledgment_Number = s.tcpAck = u32(b, off + OFF.ACK);
  a.Header_Length = hlen;
  a.Flags = flagsObject(flags);
  a.Reserved = (b[off + OFF.DATA_OFFSET] >> 1) & 7;
  a.Window = u16(b, off + OFF.WINDOW);
  s.tcpFlags = flags;
  if (n >= OFF.URGENT) {
    a.Checksum = u16(b, off + OFF.CHECKSUM);
    a.Checksum_Status = "unverified";
  }
  if (hlen >= TCP_HEADER_LEN && hlen <= seg) a.Payload_Length = s.payloadBytes = seg - hlen;
  return a;
}

function flagsObject(flags: number): Record<string, boolean> {
  return {
    CWR: (flags & FLAG.CWR) !== 0,
    ECE: (flags & FLAG.ECE) !== 0,
    URG: (flags & FLAG.URG) !== 0,
    ACK: (flags & FLAG.ACK) !== 0,
    PSH: (flags & FLAG.PSH) !== 0,
    RST: (flags & FLAG.RST) !== 0,
    SYN: (flags & FLAG.SYN) !== 0,
    FIN: (flags & FLAG.FIN) !== 0,
    AE: (flags & FLAG.AE) !== 0,
  };
}

/** Decodes a TCP segment at `off` whose bytes end at `end` on the wire (the IP payload end). */
export function decodeTcp(f: Frame, off: number, end: number): void {
  const name = LAYER.TCP;
  if (off + TCP_HEADER_LEN > end || !f.has(off, TCP_HEADER_LEN)) {
    // Cut short (by the IP length or the snap length): the fields that fit, as tshark shows.
    const n = f.limit(end) - off;
    if (n >= OFF.SEQ) f.layer(name, partialTcp(f, off, n, end - off));
    if (off + TCP_HEADER_LEN > end) {
      f.fault(name, `segment of ${Math.max(0, end - off)} bytes is shorter than a TCP header`, off);
    } else f.truncated(name, off);
    return;
  }
  const b = f.bytes;
  const hlen = (b[off + OFF.DATA_OFFSET] >> 4) * 4;
  const flags = ((b[off + OFF.DATA_OFFSET] & 1) << 8) | b[off + OFF.FLAGS];
  const srcPort = u16(b, off + OFF.SRC_PORT);
  const dstPort = u16(b, off + OFF.DST_PORT);
  const seq = u32(b, off + OFF.SEQ);
  const ack = u32(b, off + OFF.ACK);
  const s = f.sum;
  s.srcPort = srcPort;
  s.dstPort = dstPort;
  s.tcpFlags = flags;
  s.tcpSeq = seq;
  s.tcpAck = ack;
  if (hlen < TCP_HEADER_LEN) {
    // Like Wireshark: the fields after a bogus data offset are not shown.
    f.layer(name, {
      Source_Port: srcPort,
      Destination_Port: dstPort,
      Sequence_Number: seq,
      Header_Length: hlen,
      Payload_Length: end - off - hlen,
    });
    f.fault(name, `header length ${hlen} is below 20`, off + OFF.DATA_OFFSET);
    return;
  }
  const attrs: Record<string, unknown> = {
    Source_Port: srcPort,
    Destination_Port: dstPort,
    Sequence_Number: seq,
    Acknowledgment_Number: ack,
    Header_Length: hlen,
    Flags: flagsObject(flags),
    Reserved: (b[off + OFF.DATA_OFFSET] >> 1) & 7,
    Window: u16(b, off + OFF.WINDOW),
    Checksum: u16(b, off + OFF.CHECKSUM),
    Checksum_Status: "unverified",
    Urgent_Pointer: u16(b, off + OFF.URGENT),
    Options: NO_OPTIONS,
    Payload_Length: 0,
  };
  f.layer(name, attrs);
  if (off + hlen > end) {
    f.fault(
      name,
      `header length ${hlen} exceeds the segment (${end - off} bytes)`,
      off + OFF.DATA_OFFSET,
    );
    // The checksum still covers the whole segment and the options present are shown;
    // the payload length is unknown (tshark alike).
    attrs.Checksum_Status = upperChecksum(f, off, end, IP_PROTO_TCP);
    delete attrs.Payload_Length;
    attrs.Options = decodeTcpOptions(f, off + OFF.OPTIONS, off + hlen, end);
    return;
  }
  const payload = end - off - hlen;
  attrs.Payload_Length = payload;
  s.payloadBytes = payload;
  attrs.Checksum_Status = upperChecksum(f, off, end, IP_PROTO_TCP);
  if (hlen > TCP_HEADER_LEN) attrs.Options = decodeTcpOptions(f, off + OFF.OPTIONS, off + hlen);
  if (!f.has(off, hlen)) return; // decodeTcpOptions recorded the truncation
  if (payload > 0) dispatchPort(TCP_PORT, srcPort, dstPort, f, off + hlen, end);
}

register(IP_PROTO, IP_PROTO_TCP, decodeTcp);
