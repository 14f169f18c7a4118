/**
 * ICMPv6 (RFC 4443) with Neighbor Discovery (RFC 4861: RS, RA, NS, NA, redirect and
 * their options: link-layer addresses, prefix information, redirected header, MTU,
 * nonce (RFC 3971), route information (RFC 4191), RDNSS and DNSSL (RFC 8106),
 * PREF64 (RFC 8781)), MLDv1 (RFC 2710), MLDv2 (RFC 9777) and extended echo (RFC 8335).
 *
 * Errors carry `Quoted`, a summary of the invoking packet; it is not dispatched to
 * the IPv6/TCP/UDP decoders, so those layers and f.sum describe this packet only.
 * The checksum covers the IPv6 pseudo-header (final destination of a routing header).
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { hex, ipv6, mac } from "./format.ts";
import { upperChecksum } from "./checksum.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeExtendedEcho, icmpExtensions } from "./icmp.ts";

/** Field offsets from the start of the message. */
const OFF = {
  TYPE: 0,
  CODE: 1,
  CHECKSUM: 2,
  BODY: 4,
  ERR_LENGTH: 4,
  MTU: 4,
  POINTER: 4,
  ID: 4,
  SEQ: 6,
  INVOKING: 8,
  MLD_MAX_RESP: 4,
  MLD_ADDRESS: 8,
  MLD2_FLAGS: 24,
  MLD2_QQIC: 25,
  MLD2_NUM_SOURCES: 26,
  MLD2_SOURCES: 28,
  MLD2R_NUM_RECORDS: 6,
  MLD2R_RECORDS: 8,
  RA_HOP_LIMIT: 4,
  RA_FLAGS: 5,
  RA_LIFETIME: 6,
  RA_REACHABLE: 8,
  RA_RETRANS: 12,
  RA_OPTIONS: 16,
  RS_OPTIONS: 8,
  NA_FLAGS: 4,
  TARGET: 8,
  NS_OPTIONS: 24,
  REDIRECT_DST: 24,
  REDIRECT_OPTIONS: 40,
  XECHO_SEQ: 6,
  XECHO_FLAGS: 7,
} as const;
export const ICMPV6_HEADER_LEN = 8;
export const IP_PROTO_ICMPV6 = 58;
const MLD_LEN = 24;
const MLD2_QUERY_LEN = 28;
const MLD2_RECORD_HEADER_LEN = 20;

export const ICMPV6_TYPE = {
  DEST_UNREACHABLE: 1,
  PACKET_TOO_BIG: 2,
  TIME_EXCEEDED: 3,
  PARAMETER_PROBLEM: 4,
  ECHO_REQUEST: 128,
  ECHO_REPLY: 129,
  MLD_QUERY: 130,
  MLD_REPORT: 131,
  MLD_DONE: 132,
  ROUTER_SOLICITATION: 133,
  ROUTER_ADVERTISEMENT: 134,
  NEIGHBOR_SOLICITATION: 135,
  NEIGHBOR_ADVERTISEMENT: 136,
  REDIRECT: 137,
  MLD2_REPORT: 143,
  EXT_ECHO_REQUEST: 160,
  EXT_ECHO_REPLY: 161,
} as const;

const TYPE_NAMES: Record<number, string> = {
  1: "Destination Unreachable",
  2: "Packet Too Big",
  3: "Time Exceeded",
  4: "Parameter Problem",
  128: "Echo Request",
  129: "Echo Reply",
  130: "Multicast Listener Query",
  131: "Multicast Listener Report",
  132: "Multicast Listener Done",
  133: "Router Solicitation",
  134: "Router Advertisement",
  135: "Neighbor Solicitation",
  136: "Neighbor Advertisement",
  137: "Redirect",
  143: "Multicast Listener Report v2",
  160: "Extended Echo Request",
  161: "Extended Echo Reply",
};

/** Neighbor Discovery option types. */
const ND = {
  SOURCE_LLA: 1,
  TARGET_LLA: 2,
  PREFIX_INFO: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
  NONCE: 14,
  ROUTE_INFO: 24,
  RDNSS: 25,
  DNSSL: 31,
  PREF64: 38,
} as const;
const ND_NAMES: Record<number, string> = {
  1: "Source Link-Layer Address",
  2: "Target Link-Layer Address",
  3: "Prefix Information",
  4: "Redirected Header",
  5: "MTU",
  7: "Advertisement Interval",
  8: "Home Agent Information",
  14: "Nonce",
  24: "Route Information",
  25: "Recursive DNS Server",
  31: "DNS Search List",
  38: "PREF64",
};
/** PREF64 Prefix Length Code -> prefix length (RFC 8781 4). */
const PREF64_LENGTHS = [96, 64, 56, 48, 40, 32];

/** Scratch buffer for prefixes shorter than 128 bits (zero-filled before use). */
const PREFIX = new Uint8Array(16);

/** An IPv6 prefix of `n` bytes at `p`, zero-extended to a full address. */
function prefixText(b: Uint8Array, p: number, n: number): string {
  PREFIX.fill(0);
  for (let i = 0; i < n && i < 16; i++) PREFIX[i] = b[p + i];
  return ipv6(PREFIX, 0);
}

/** Domain names of a DNSSL option (uncompressed DNS labels, zero padding at the end). */
function domainNames(b: Uint8Array, p: number, end: number): string[] | null {
  const out: string[] = [];
  let name = "";
  while (p < end) {
    const l = b[p];
    if (l === 0) {
      if (name !== "") out.push(name);
      name = "";
      p++;
      continue;
    }
    if (l > 63 || p + 1 + l > end) return null;
    let label = "";
    for (let i = p + 1; i <= p + l; i++) label += String.fromCharCode(b[i]);
    name = name === "" ? label : name + "." + label;
    p += 1 + l;
  }
  if (name !== "") return null;
  return out;
}

/** Decodes ND options in bytes[off..end); the list is returned even when cut short. */
function ndOptions(f: Frame, off: number, end: number): unknown[] {
  const name = LAYER.ICMPV6;
  const b = f.bytes;
  const out: unknown[] = [];
  let p = off;
  while (p < end) {
    if (!need(f, name, p, end, 2, "option")) break;
    const type = b[p];
    const len = b[p + 1] * 8;
    const o: Record<string, unknown> = {
      Type: type,
      Name: ND_NAMES[type] ?? "Unknown",
      Length: len,
    };
    out.push(o);
    if (len === 0) {
      f.fault(name, `option ${type} has length 0`, p + 1);
      break;
    }
    if (!need(f, name, p, end, len, `option ${type}`)) break;
    const d = p + 2;
    const oEnd = p + len;
    switch (type) {
      case ND.SOURCE_LLA:
      case ND.TARGET_LLA:
        o.Link_Layer_Address = len === 8 ? mac(b, d) : hex(b, d, oEnd);
        break;
      case ND.PREFIX_INFO:
        if (len !== 32) {
          f.fault(name, `prefix information length ${len} is not 32`, p + 1);
          if (len < 32) break;
        }
        o.Prefix_Length = b[d];
        o.Flags = {
          L: (b[d + 1] & 0x80) !== 0,
          A: (b[d + 1] & 0x40) !== 0,
          R: (b[d + 1] & 0x20) !== 0,
        };
        o.Valid_Lifetime = u32(b, d + 2);
        o.Preferred_Lifetime = u32(b, d + 6);
        o.Prefix = ipv6(b, p + 16);
        break;
      case ND.REDIRECTED_HEADER:
        if (len > 8) o.Quoted = quotedIpv6(f, p + 8, oEnd);
        break;
      case ND.MTU:
        if (len === 8) o.MTU = u32(b, p + 4);
        break;
      case ND.NONCE:
        o.Nonce = hex(b, d, oEnd);
        break;
      case ND.ROUTE_INFO: {
        const pl = b[d];
        o.Prefix_Length = pl;
        o.Preference = (b[d + 1] >> 3) & 3;
        o.Route_Lifetime = u32(b, d + 2);
        o.Prefix = prefixText(b, p + 8, len - 8);
        break;
      }
      case ND.RDNSS: {
        o.Lifetime = u32(b, p + 4);
        const servers: string[] = [];
        for (let a = p + 8; a + 16 <= oEnd; a += 16) servers.push(ipv6(b, a));
        o.Servers = servers;
        break;
      }
      case ND.DNSSL: {
        o.Lifetime = u32(b, p + 4);
        const names = domainNames(b, p + 8, oEnd);
        if (names === null) f.fault(name, "DNS search list is malformed", p + 8);
        else o.Domains = names;
        break;
      }
      case ND.PREF64: {
        if (len !== 16) {
          f.fault(name, `PREF64 length ${len} is not 16`, p + 1);
          break;
        }
        const v = u16(b, d);
        const plc = v & 7;
        o.Scaled_Lifetime = v >> 3;
        o.PLC = plc;
        if (plc < PREF64_LENGTHS.length) o.Prefix_Length = PREF64_LENGTHS[plc];
        else f.fault(name, `PREF64 prefix length code ${plc} is invalid`, d + 1);
        o.Prefix = prefixText(b, p + 4, 12);
        break;
      }
      default:
        o.Data = hex(b, d, oEnd);
    }
    p = oEnd;
  }
  return out;
}

/** IPv6 extension headers skipped when looking for the quoted packet's transport header. */
function isExt(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 60;
}

/**
 * Summary of the IPv6 packet quoted by an ICMPv6 error (or a redirected header) at
 * bytes[off..end): header fields and transport ports when captured.
 */
export function quotedIpv6(f: Frame, off: number, end: number): Record<string, unknown> {
  const b = f.bytes;
  const cap = f.limit(end);
  const q: Record<string, unknown> = { Length: Math.max(0, end - off) };
  // A cut header keeps the fields that were captured (tshark shows those too).
  if (off + 1 <= cap) q.Version = b[off] >> 4;
  if (off + 6 <= cap) q.Payload_Length = u16(b, off + 4);
  if (off + 7 <= cap) q.Next_Header = b[off + 6];
  if (off + 8 <= cap) q.Hop_Limit = b[off + 7];
  if (off + 24 <= cap) q.Source_Address = ipv6(b, off + 8);
  if (off + 40 > cap) return q;
  let nh = b[off + 6];
  q.Destination_Address = ipv6(b, off + 24);
  let p = off + 40;
  // Each header consumes at least 8 bytes, so this ends.
  while (isExt(nh) && p + 2 <= cap) {
    nh = b[p];
    p += (b[p + 1] + 1) * 8;
  }
  if (isExt(nh)) return q;
  q.Protocol = nh;
  if ((nh === 6 || nh === 17 || nh === 132 || nh === 33) && p + 4 <= cap) {
    q.Source_Port = u16(b, p);
    q.Destination_Port = u16(b, p + 2);
  } else if (nh === IP_PROTO_ICMPV6 && p + 2 <= cap) {
    q.ICMPv6_Type = b[p];
    q.ICMPv6_Code = b[p + 1];
  }
  return q;
}

/** Expands the MLDv2 Maximum Response Code (RFC 9777 5.1.3) to milliseconds. */
function mldMaxResp(c: number): number {
  return c < 32768 ? c : ((c & 0x0fff) | 0x1000) << (((c >> 12) & 7) + 3);
}

/** Expands an MLDv2 QQIC (RFC 9777 5.1.9) to seconds. */
function qqic(c: number): number {
  return c < 128 ? c : ((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3);
}

function addressList(f: Frame, p: number, end: number, n: number, what: string): string[] | null {
  if (!need(f, LAYER.ICMPV6, p, end, n * 16, what)) return null;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(ipv6(f.bytes, p + i * 16));
  return out;
}

/** Decodes an ICMPv6 message at `off`; `end` is where the IPv6 payload ends on the wire. */
export function decodeIcmpv6(f: Frame, off: number, end: number): void {
  const name = LAYER.ICMPV6;
  const b = f.bytes;
  if (off + 4 > end || !f.has(off, 4)) {
    // Cut short: type and code when they fit (tshark alike).
    const n = f.limit(end) - off;
    if (n >= 1) f.layer(name, n >= 2 ? { Type: b[off], Code: b[off + 1] } : { Type: b[off] });
    need(f, name, off, end, 4, "ICMPv6 header");
    return;
  }
  const type = b[off + OFF.TYPE];
  const code = b[off + OFF.CODE];
  const attrs: Record<string, unknown> = {
    Type: type,
    Code: code,
    Type_Name: TYPE_NAMES[type] ?? "Unknown",
    Checksum: u16(b, off + OFF.CHECKSUM),
    Checksum_Status: upperChecksum(f, off, end, IP_PROTO_ICMPV6),
  };
  f.layer(name, attrs);
  const s = f.sum;
  s.icmpType = type;
  s.icmpCode = code;
  s.payloadBytes = Math.max(0, end - off - ICMPV6_HEADER_LEN);
  const T = ICMPV6_TYPE;
  switch (type) {
    case T.DEST_UNREACHABLE:
    case T.PACKET_TOO_BIG:
    case T.TIME_EXCEEDED:
    case T.PARAMETER_PROBLEM: {
      if (!need(f, name, off, end, ICMPV6_HEADER_LEN, "ICMPv6 error header")) return;
      if (type === T.PACKET_TOO_BIG) attrs.MTU = u32(b, off + OFF.MTU);
      if (type === T.PARAMETER_PROBLEM) attrs.Pointer = u32(b, off + OFF.POINTER);
      let qEnd = end;
      if (type === T.DEST_UNREACHABLE || type === T.TIME_EXCEEDED) {
        // RFC 4884: original datagram length in 64-bit words, extensions after it.
        const words = b[off + OFF.ERR_LENGTH];
        if (words > 0) {
          attrs.Original_Datagram_Length = words * 8;
          const extOff = off + ICMPV6_HEADER_LEN + words * 8;
          if (extOff < end) {
            qEnd = extOff;
            const x = icmpExtensions(f, name, extOff, end);
            if (x !== null) attrs.Extensions = x;
          }
        }
      }
      attrs.Quoted = quotedIpv6(f, off + OFF.INVOKING, qEnd);
      return;
    }
    case T.ECHO_REQUEST:
    case T.ECHO_REPLY: {
      if (!need(f, name, off, end, ICMPV6_HEADER_LEN, "echo header")) return;
      const id = u16(b, off + OFF.ID);
      attrs.Identifier = id;
      attrs.Sequence_Number = u16(b, off + OFF.SEQ);
      s.icmpId = id;
      if (end > off + ICMPV6_HEADER_LEN) f.rest(off + ICMPV6_HEADER_LEN, end);
      return;
    }
    case T.MLD_QUERY:
    case T.MLD_REPORT:
    case T.MLD_DONE: {
      if (!need(f, name, off, end, MLD_LEN, "MLD message")) return;
      const v2 = type === T.MLD_QUERY && end - off >= MLD2_QUERY_LEN;
      const mrc = u16(b, off + OFF.MLD_MAX_RESP);
      attrs.MLD_Version = v2 ? 2 : 1;
      attrs.Maximum_Response_Delay = v2 ? mldMaxResp(mrc) : mrc;
      attrs.Multicast_Address = ipv6(b, off + OFF.MLD_ADDRESS);
      if (!v2) return;
      if (!need(f, name, off, end, MLD2_QUERY_LEN, "MLDv2 query")) return;
      const fl = b[off + OFF.MLD2_FLAGS];
      const n = u16(b, off + OFF.MLD2_NUM_SOURCES);
      attrs.Suppress_Router_Processing = (fl & 8) !== 0;
      attrs.QRV = fl & 7;
      attrs.QQIC = qqic(b[off + OFF.MLD2_QQIC]);
      attrs.Number_Of_Sources = n;
      const src = addressList(f, off + OFF.MLD2_SOURCES, end, n, "source list");
      if (src !== null) attrs.Sources = src;
      return;
    }
    case T.MLD2_REPORT: {
      if (!need(f, name, off, end, ICMPV6_HEADER_LEN, "MLDv2 report")) return;
      const n = u16(b, off + OFF.MLD2R_NUM_RECORDS);
      attrs.MLD_Version = 2;
      attrs.Number_Of_Records = n;
      const records: unknown[] = [];
      attrs.Records = records;
      let p = off + OFF.MLD2R_RECORDS;
      for (let i = 0; i < n; i++) {
        if (!need(f, name, p, end, MLD2_RECORD_HEADER_LEN, "multicast address record")) return;
        const aux = b[p + 1] * 4;
        const nsrc = u16(b, p + 2);
        const r: Record<string, unknown> = {
          Record_Type: b[p],
          Aux_Data_Length: aux,
          Number_Of_Sources: nsrc,
          Multicast_Address: ipv6(b, p + 4),
        };
        records.push(r);
        const src = addressList(f, p + MLD2_RECORD_HEADER_LEN, end, nsrc, "source list");
        if (src === null) return;
        r.Sources = src;
        const auxOff = p + MLD2_RECORD_HEADER_LEN + nsrc * 16;
        // Auxiliary data past the message: the fault is where it starts, inside the frame.
        if (auxOff + aux > end) {
          f.fault(name, `auxiliary data: needs ${aux} bytes, ${end - auxOff} left`, auxOff);
          return;
        }
        p = auxOff + aux;
      }
      return;
    }
    case T.ROUTER_SOLICITATION:
      if (!need(f, name, off, end, OFF.RS_OPTIONS, "router solicitation")) return;
      attrs.Options = ndOptions(f, off + OFF.RS_OPTIONS, end);
      return;
    case T.ROUTER_ADVERTISEMENT: {
      if (!need(f, name, off, end, OFF.RA_OPTIONS, "router advertisement")) return;
      const fl = b[off + OFF.RA_FLAGS];
      attrs.Cur_Hop_Limit = b[off + OFF.RA_HOP_LIMIT];
      attrs.Flags = {
        Managed: (fl & 0x80) !== 0,
        Other: (fl & 0x40) !== 0,
        Home_Agent: (fl & 0x20) !== 0,
        Preference: (fl >> 3) & 3,
        Proxy: (fl & 0x04) !== 0,
      };
      attrs.Router_Lifetime = u16(b, off + OFF.RA_LIFETIME);
      attrs.Reachable_Time = u32(b, off + OFF.RA_REACHABLE);
      attrs.Retrans_Timer = u32(b, off + OFF.RA_RETRANS);
      attrs.Options = ndOptions(f, off + OFF.RA_OPTIONS, end);
      return;
    }
    case T.NEIGHBOR_SOLICITATION:
    case T.NEIGHBOR_ADVERTISEMENT: {
      if (!need(f, name, off, end, OFF.NS_OPTIONS, "neighbor discovery message")) return;
      if (type === T.NEIGHBOR_ADVERTISEMENT) {
        const fl = b[off + OFF.NA_FLAGS];
        attrs.Flags = {
          Router: (fl & 0x80) !== 0,
          Solicited: (fl & 0x40) !== 0,
          Override: (fl & 0x20) !== 0,
        };
      }
      attrs.Target_Address = ipv6(b, off + OFF.TARGET);
      attrs.Options = ndOptions(f, off + OFF.NS_OPTIONS, end);
      return;
    }
    case T.REDIRECT:
      if (!need(f, name, off, end, OFF.REDIRECT_OPTIONS, "redirect")) return;
      attrs.Target_Address = ipv6(b, off + OFF.TARGET);
      attrs.Destination_Address = ipv6(b, off + OFF.REDIRECT_DST);
      attrs.Options = ndOptions(f, off + OFF.REDIRECT_OPTIONS, end);
      return;
    case T.EXT_ECHO_REQUEST:
    case T.EXT_ECHO_REPLY:
      decodeExtendedEcho(f, name, attrs, off, end, type === T.EXT_ECHO_REQUEST);
      return;
    default:
      if (end > off + 4) f.rest(off + 4, end);
  }
}

register(IP_PROTO, IP_PROTO_ICMPV6, decodeIcmpv6);
