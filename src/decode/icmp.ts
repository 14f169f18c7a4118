/**
 * ICMP for IPv4 (RFC 792, 950, 1256, 4884, 8335).
 *
 * - Echo / timestamp / information / address mask: Identifier, Sequence_Number and
 *   the message fields; echo data is recorded as Payload.
 * - Errors (destination unreachable, source quench, redirect, time exceeded,
 *   parameter problem): the message fields plus `Quoted`, a summary of the quoted
 *   datagram (addresses, protocol, ports). The quoted datagram is *not* dispatched
 *   to the IPv4/TCP/UDP decoders, so the record's IPv4/TCP/UDP layers and f.sum
 *   always describe the packet itself, never the one it complains about.
 * - Extended echo (RFC 8335): request L bit, reply state and A/4/6 bits, and the
 *   ICMP extension structure with its objects (interface name, index, address).
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { hex, ipv4, ipv6, text } from "./format.ts";
import { isFragmented, verifyPlain } from "./checksum.ts";
import { need, u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the message. */
const OFF = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  ID: 4,
  SEQ: 6,
  REST: 4,
  BODY: 8,
  TS_ORIGINATE: 8,
  TS_RECEIVE: 12,
  TS_TRANSMIT: 16,
  MASK: 8,
  ERR_LENGTH: 5,
  NEXT_HOP_MTU: 6,
  POINTER: 4,
  GATEWAY: 4,
  RA_NUM_ADDRS: 4,
  RA_ENTRY_SIZE: 5,
  RA_LIFETIME: 6,
  XECHO_SEQ: 6,
  XECHO_FLAGS: 7,
} as const;
export const ICMP_HEADER_LEN = 8;
export const IP_PROTO_ICMP = 1;

export const ICMP_TYPE = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  SOURCE_QUENCH: 4,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  ROUTER_ADVERTISEMENT: 9,
  ROUTER_SOLICITATION: 10,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP_REQUEST: 13,
  TIMESTAMP_REPLY: 14,
  INFO_REQUEST: 15,
  INFO_REPLY: 16,
  MASK_REQUEST: 17,
  MASK_REPLY: 18,
  EXT_ECHO_REQUEST: 42,
  EXT_ECHO_REPLY: 43,
} as const;

const TYPE_NAMES: Record<number, string> = {
  0: "Echo Reply",
  3: "Destination Unreachable",
  4: "Source Quench",
  5: "Redirect",
  8: "Echo Request",
  9: "Router Advertisement",
  10: "Router Solicitation",
  11: "Time Exceeded",
  12: "Parameter Problem",
  13: "Timestamp Request",
  14: "Timestamp Reply",
  15: "Information Request",
  16: "Information Reply",
  17: "Address Mask Request",
  18: "Address Mask Reply",
  42: "Extended Echo Request",
  43: "Extended Echo Reply",
};

function isError(type: number): boolean {
  return type === ICMP_TYPE.DEST_UNREACHABLE || type === ICMP_TYPE.SOURCE_QUENCH ||
    type === ICMP_TYPE.REDIRECT || type === ICMP_TYPE.TIME_EXCEEDED ||
    type === ICMP_TYPE.PARAMETER_PROBLEM;
}

/** Transport protocols whose first 4 bytes are source and destination ports. */
function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 33 || proto === 132 || proto === 136;
}

/**
 * Summary of the IPv4 datagram quoted by an ICMP error at bytes[off..end): header
 * fields and the transport ports (or inner ICMP type/code) when captured. Reads only
 * what was captured; a quoted datagram is routinely cut short, which is no fault.
 */
export function quotedIpv4(f: Frame, off: number, end: number): Record<string, unknown> {
  const b = f.bytes;
  const cap = f.limit(end);
  const q: Record<string, unknown> = { Length: Math.max(0, end - off) };
  // A cut header keeps the fields that were captured (tshark shows those too).
  const hlen = (b[off] & 0x0f) * 4;
  const proto = b[off + 9];
  if (off + 1 <= cap) {
    q.Version = b[off] >> 4;
    q.Header_Length = hlen;
  }
  if (off + 4 <= cap) q.Total_Length = u16(b, off + 2);
  if (off + 6 <= cap) q.Identification = u16(b, off + 4);
  if (off + 9 <= cap) q.TTL = b[off + 8];
  if (off + 10 <= cap) q.Protocol = proto;
  if (off + 16 <= cap) q.Source_Address = ipv4(b, off + 12);
  if (off + 20 > cap) return q;
  q.Destination_Address = ipv4(b, off + 16);
  const t = off + hlen;
  if (q.Version !== 4 || hlen < 20 || (u16(b, off + 6) & 0x1fff) !== 0) return q;
  if (hasPorts(proto) && t + 4 <= cap) {
    q.Source_Port = u16(b, t);
    q.Destination_Port = u16(b, t + 2);
    if (proto === 6 && t + 8 <= cap) q.Sequence_Number = u32(b, t + 4);
  } else if (proto === IP_PROTO_ICMP && t + 2 <= cap) {
    q.ICMP_Type = b[t];
    q.ICMP_Code = b[t + 1];
    if (t + 6 <= cap && (b[t] === 0 || b[t] === 8)) q.ICMP_Identifier = u16(b, t + 4);
  }
  return q;
}

/** Extension object classes (RFC 4884 registry) and RFC 8335 C-Types. */
const EXT_CLASS = { INTERFACE_IDENT: 3 } as const;
const EXT_HEADER_LEN = 4;
const EXT_OBJ_HEADER_LEN = 4;

/**
 * ICMP extension structure (RFC 4884 section 7) at bytes[off..end): version,
 * checksum and objects. Objects of the Interface Identification class (RFC 8335)
 * are decoded; others keep class, C-Type and hex data.
 */
export function icmpExtensions(
  f: Frame,
  layer: string,
  off: number,
  end: number,
): Record<string, unknown> | null {
  if (!need(f, layer, off, end, EXT_HEADER_LEN, "extension header")) return null;
  const b = f.bytes;
  const x: Record<string, unknown> = {
    Version: b[off] >> 4,
    Checksum: u16(b, off + 2),
    Checksum_Status: verifyPlain(b, off, end, f.capEnd),
  };
  const objs: unknown[] = [];
  x.Objects = objs;
  const cap = f.limit(end);
  let p = off + EXT_HEADER_LEN;
  while (p < end) {
    if (!need(f, layer, p, end, EXT_OBJ_HEADER_LEN, "extension object")) break;
    const len = u16(b, p);
    const cls = b[p + 2];
    const ctype = b[p + 3];
    const o: Record<string, unknown> = { Length: len, Class: cls, C_Type: ctype };
    objs.push(o);
    if (len < EXT_OBJ_HEADER_LEN) {
      f.fault(layer, `extension object length ${len} is below 4`, p);
      break;
    }
    const d = p + EXT_OBJ_HEADER_LEN;
    const oEnd = p + len;
    if (oEnd > end) {
      f.fault(layer, `extension object length ${len} exceeds the message`, p);
      o.Data = hex(b, d, cap);
      break;
    }
    if (oEnd > cap) {
      f.truncated(layer, d);
      break;
    }
    if (cls === EXT_CLASS.INTERFACE_IDENT && ctype === 1) o.Name = text(b, d, oEnd);
    else if (cls === EXT_CLASS.INTERFACE_IDENT && ctype === 2 && len === 8) {
      o.Interface_Index = u32(b, d);
    } else if (cls === EXT_CLASS.INTERFACE_IDENT && ctype === 3 && len >= 8) {
      const afi = u16(b, d);
      const alen = b[d + 2];
      o.AFI = afi;
      o.Address_Length = alen;
      if (d + 4 + alen <= oEnd) {
        if (afi === 1 && alen === 4) o.Address = ipv4(b, d + 4);
        else if (afi === 2 && alen === 16) o.Address = ipv6(b, d + 4);
        else o.Address = hex(b, d + 4, d + 4 + alen);
      } else f.fault(layer, `address length ${alen} exceeds its object`, d + 2);
    } else if (len > EXT_OBJ_HEADER_LEN) o.Data = hex(b, d, oEnd);
    p = oEnd;
  }
  return x;
}

/** Decodes an ICMP message at `off`; `end` is where the IP payload ends on the wire. */
/**
 * RFC 8335 extended echo request/reply, the same layout in ICMP and ICMPv6: identifier,
 * 8-bit sequence, flags (request: L bit; reply: state, A, 4, 6), then for a request the
 * extension structure naming the probed interface.
 */
export function decodeExtendedEcho(
  f: Frame,
  name: string,
  attrs: Record<string, unknown>,
  off: number,
  end: number,
  request: boolean,
): void {
  const b = f.bytes;
  if (!need(f, name, off, end, ICMP_HEADER_LEN, "extended echo header")) return;
  const id = u16(b, off + OFF.ID);
  attrs.Identifier = id;
  attrs.Sequence_Number = b[off + OFF.XECHO_SEQ];
  f.sum.icmpId = id;
  const fl = b[off + OFF.XECHO_FLAGS];
  if (request) {
    attrs.Local = (fl & 1) !== 0;
    if (end > off + ICMP_HEADER_LEN) {
      const x = icmpExtensions(f, name, off + ICMP_HEADER_LEN, end);
      if (x !== null) attrs.Extensions = x;
    }
  } else {
    attrs.State = fl >> 5;
    attrs.Active = (fl & 4) !== 0;
    attrs.IPv4 = (fl & 2) !== 0;
    attrs.IPv6 = (fl & 1) !== 0;
  }
}

export function decodeIcmp(f: Frame, off: number, end: number): void {
  const name = LAYER.ICMP;
  const b = f.bytes;
  // Nothing is shown of a message shorter than type, code and checksum (tshark alike).
  if (!need(f, name, off, end, 4, "ICMP header")) return;
  const type = b[off + OFF.TYPE];
  const code = b[off + OFF.CODE];
  if (
    (off + ICMP_HEADER_LEN > end && isError(type)) ||
    (off + ICMP_HEADER_LEN > f.limit(end) &&
      (type === ICMP_TYPE.EXT_ECHO_REQUEST || type === ICMP_TYPE.EXT_ECHO_REPLY))
  ) {
    // Nothing shown, as in Wireshark: an error shorter than its 8-byte header, or an
    // extended echo whose header was not captured whole.
    need(f, name, off, end, ICMP_HEADER_LEN, "ICMP header");
    return;
  }
  const attrs: Record<string, unknown> = {
    Type: type,
    Code: code,
    Type_Name: TYPE_NAMES[type] ?? "Unknown",
    Checksum: u16(b, off + OFF.CHECKSUM),
    Checksum_Status: isFragmented(f) ? "unverified" : verifyPlain(b, off, end, f.capEnd),
  };
  f.layer(name, attrs);
  const s = f.sum;
  s.icmpType = type;
  s.icmpCode = code;
  s.payloadBytes = Math.max(0, end - off - ICMP_HEADER_LEN);
  const T = ICMP_TYPE;
  switch (type) {
    case T.ECHO_REPLY:
    case T.ECHO_REQUEST:
    case T.INFO_REQUEST:
    case T.INFO_REPLY:
    case T.TIMESTAMP_REQUEST:
    case T.TIMESTAMP_REPLY:
    case T.MASK_REQUEST:
    case T.MASK_REPLY: {
      if (!need(f, name, off, end, OFF.SEQ, "ICMP header")) return;
      const id = u16(b, off + OFF.ID);
      attrs.Identifier = id;
      s.icmpId = id;
      if (!need(f, name, off, end, ICMP_HEADER_LEN, "ICMP header")) return;
      attrs.Sequence_Number = u16(b, off + OFF.SEQ);
      if (type === T.TIMESTAMP_REQUEST || type === T.TIMESTAMP_REPLY) {
        if (!need(f, name, off, end, 20, "timestamp message")) return;
        attrs.Originate_Timestamp = u32(b, off + OFF.TS_ORIGINATE);
        attrs.Receive_Timestamp = u32(b, off + OFF.TS_RECEIVE);
        attrs.Transmit_Timestamp = u32(b, off + OFF.TS_TRANSMIT);
      } else if (type === T.MASK_REQUEST || type === T.MASK_REPLY) {
        if (!need(f, name, off, end, 12, "address mask message")) return;
        attrs.Address_Mask = ipv4(b, off + OFF.MASK);
      } else if (end > off + ICMP_HEADER_LEN) f.rest(off + ICMP_HEADER_LEN, end);
      return;
    }
    case T.DEST_UNREACHABLE:
    case T.SOURCE_QUENCH:
    case T.REDIRECT:
    case T.TIME_EXCEEDED:
    case T.PARAMETER_PROBLEM: {
      if (!need(f, name, off, end, ICMP_HEADER_LEN, "ICMP header")) return;
      if (type === T.DEST_UNREACHABLE && code === 4) {
        attrs.Next_Hop_MTU = u16(b, off + OFF.NEXT_HOP_MTU);
      }
      if (type === T.REDIRECT) attrs.Gateway_Address = ipv4(b, off + OFF.GATEWAY);
      if (type === T.PARAMETER_PROBLEM) attrs.Pointer = b[off + OFF.POINTER];
      let qEnd = end;
      if (type === T.DEST_UNREACHABLE || type === T.TIME_EXCEEDED || type === T.PARAMETER_PROBLEM) {
        // RFC 4884: length of the original datagram in 32-bit words, extensions after it.
        // A datagram with extensions is padded to at least 128 bytes (5.5); a shorter
        // length is not that layout, and the bytes after the header are all quote
        // (as tshark reads them).
        const words = b[off + OFF.ERR_LENGTH];
        if (words > 0) {
          attrs.Original_Datagram_Length = words * 4;
          const extOff = off + ICMP_HEADER_LEN + words * 4;
          if (extOff < end && words * 4 >= 128) {
            qEnd = extOff;
            const x = icmpExtensions(f, name, extOff, end);
            if (x !== null) attrs.Extensions = x;
          }
        }
      }
      attrs.Quoted = quotedIpv4(f, off + ICMP_HEADER_LEN, qEnd);
      return;
    }
    case T.ROUTER_ADVERTISEMENT: {
      if (!need(f, name, off, end, ICMP_HEADER_LEN, "ICMP header")) return;
      const n = b[off + OFF.RA_NUM_ADDRS];
      const size = b[off + OFF.RA_ENTRY_SIZE];
      attrs.Number_Of_Addresses = n;
      attrs.Address_Entry_Size = size;
      attrs.Lifetime = u16(b, off + OFF.RA_LIFETIME);
      const entries: unknown[] = [];
      attrs.Entries = entries;
      if (size < 2) {
        if (n > 0) f.fault(name, `address entry size ${size} is below 2`, off + OFF.RA_ENTRY_SIZE);
        return;
      }
      let p = off + ICMP_HEADER_LEN;
      for (let i = 0; i < n; i++, p += size * 4) {
        if (!need(f, name, p, end, 8, "router address entry")) return;
        entries.push({ Router_Address: ipv4(b, p), Preference: u32(b, p + 4) | 0 });
      }
      return;
    }
    case T.ROUTER_SOLICITATION:
      return;
    case T.EXT_ECHO_REQUEST:
    case T.EXT_ECHO_REPLY:
      decodeExtendedEcho(f, name, attrs, off, end, type === T.EXT_ECHO_REQUEST);
      return;
    default:
      if (end > off + 4) f.rest(off + 4, end);
  }
}

register(IP_PROTO, IP_PROTO_ICMP, decodeIcmp);
