/**
 * IGMP v1 (RFC 1112), v2 (RFC 2236) and v3 (RFC 9776: queries and reports with
 * group records).
 *
 * Version, as Wireshark decides it: a query (0x11) whose message is at least 12
 * bytes is v3, else v1 when Max Resp Time is 0, else v2; report 0x12 is v1,
 * 0x16/0x17 are v2, 0x22 is v3. Types that carry other protocols (DVMRP, PIM v1,
 * IGAP, RGMP) end the decode with Payload "IGMP type 0x13 (DVMRP)"; multicast
 * traceroute gets Type, Hops, Checksum and Group_Address; any other type only Type
 * (tshark alike); the rest is Payload.
 *
 * Max_Response_Time is in tenths of a second (as on the wire for v2; the v3 code
 * is expanded, RFC 9776 4.1.1), like tshark's igmp.max_resp. It is null where the
 * byte is unused (v1) or reserved (v3 reports).
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { hex, hexNum, ipv4 } from "./format.ts";
import { isFragmented, verifyPlain } from "./checksum.ts";
import { need, u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the message. */
const OFF = {
  TYPE: 0,
  MAX_RESP: 1,
  CHECKSUM: 2,
  GROUP: 4,
  Q_FLAGS: 8,
  Q_QQIC: 9,
  Q_NUM_SOURCES: 10,
  Q_SOURCES: 12,
  R_NUM_RECORDS: 6,
  R_RECORDS: 8,
} as const;
export const IGMP_HEADER_LEN = 8;
export const IGMPV3_QUERY_LEN = 12;
export const IP_PROTO_IGMP = 2;
const RECORD_HEADER_LEN = 8;

export const IGMP_TYPE = {
  QUERY: 0x11,
  V1_REPORT: 0x12,
  V2_REPORT: 0x16,
  V2_LEAVE: 0x17,
  V3_REPORT: 0x22,
} as const;

const TYPE_NAMES: Record<number, string> = {
  0x11: "Membership Query",
  0x12: "Membership Report v1",
  0x16: "Membership Report v2",
  0x17: "Leave Group",
  0x1e: "Traceroute Response",
  0x1f: "Traceroute Query",
  0x22: "Membership Report v3",
  0x30: "Multicast Router Advertisement",
  0x31: "Multicast Router Solicitation",
  0x32: "Multicast Router Termination",
};

/** RFC 988 (IGMPv0): types 1-8 (type 0 is dissected the same way by Wireshark). */
const IGMPV0_LAST_TYPE = 0x08;
const IGMPV0_NAMES = [
  "Unknown",
  "Create Group Request",
  "Create Group Reply",
  "Join Group Request",
  "Join Group Reply",
  "Leave Group Request",
  "Leave Group Reply",
  "Confirm Group Request",
  "Confirm Group Reply",
];
/** RFC 988 message: type, code, checksum, identifier, group address, access key. */
const V0 = { CODE: 1, CHECKSUM: 2, IDENTIFIER: 4, GROUP: 8, ACCESS_KEY: 12, LEN: 20 } as const;

const TYPE_MTRACE_RESPONSE = 0x1e;
const TYPE_MTRACE_QUERY = 0x1f;

/** Types that carry other protocols; Wireshark decodes them as those protocols, not IGMP. */
const OTHER_PROTOCOLS: Record<number, string> = {
  0x13: "DVMRP",
  0x14: "PIM v1",
  0x40: "IGAP",
  0x41: "IGAP",
  0x42: "IGAP",
  0xfc: "RGMP",
  0xfd: "RGMP",
  0xfe: "RGMP",
  0xff: "RGMP",
};

/** Expands an 8-bit v3 code (Max Resp Code, QQIC): below 128 literal, else mantissa/exponent. */
export function igmpCode(c: number): number {
  return c < 128 ? c : ((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3);
}

/** Reads `n` IPv4 addresses from `p`; returns null (after recording why) when they do not fit. */
function sources(f: Frame, p: number, end: number, n: number): string[] | null {
  if (!need(f, LAYER.IGMP, p, end, n * 4, "source list")) return null;
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(ipv4(f.bytes, p + i * 4));
  return out;
}

/** Decodes an IGMP message at `off`; `end` is where the IP payload ends on the wire. */
export function decodeIgmp(f: Frame, off: number, end: number): void {
  const name = LAYER.IGMP;
  if (!need(f, name, off, end, 1, "IGMP message")) return;
  const b = f.bytes;
  const avail = f.limit(end) - off;
  const type = b[off + OFF.TYPE];
  const other = OTHER_PROTOCOLS[type];
  if (other !== undefined) {
    // Another protocol carried in IGMP (Wireshark hands these to their own dissectors).
    f.rest(off, end, `IGMP type ${hexNum(type, 2)} (${other})`);
    return;
  }
  const len = end - off;
  const maxResp = len > 1 && off + 1 < f.capEnd ? b[off + OFF.MAX_RESP] : 0;
  let version = 0;
  if (type === IGMP_TYPE.QUERY) version = len >= IGMPV3_QUERY_LEN ? 3 : maxResp === 0 ? 1 : 2;
  else if (type === IGMP_TYPE.V1_REPORT) version = 1;
  else if (type === IGMP_TYPE.V2_REPORT || type === IGMP_TYPE.V2_LEAVE) version = 2;
  else if (type === IGMP_TYPE.V3_REPORT) version = 3;
  if (version === 0) {
    if (type === TYPE_MTRACE_RESPONSE || type === TYPE_MTRACE_QUERY) {
      // Multicast traceroute: type, hops, checksum, group; the rest as Payload.
      if (!need(f, name, off, end, IGMP_HEADER_LEN, "traceroute message")) return;
      f.layer(name, {
        Type: type,
        Type_Name: TYPE_NAMES[type],
        Hops: maxResp,
        Checksum: u16(b, off + OFF.CHECKSUM),
        Checksum_Status: isFragmented(f) ? "unverified" : verifyPlain(b, off, end, f.capEnd),
        Group_Address: ipv4(b, off + OFF.GROUP),
      });
      if (end > off + IGMP_HEADER_LEN) f.rest(off + IGMP_HEADER_LEN, end);
      return;
    }
    if (type <= IGMPV0_LAST_TYPE) {
      decodeIgmpV0(f, name, off, end, type);
      return;
    }
    // Unknown type: only the type is known to mean anything (as in tshark).
    f.layer(name, { Type: type, Type_Name: TYPE_NAMES[type] ?? "Unknown" });
    if (end > off + 1) f.rest(off + 1, end);
    return;
  }
  if (avail < IGMP_HEADER_LEN) {
    // Cut short: the fields that fit (tshark alike).
    const a: Record<string, unknown> = {
      Version: version,
      Type: type,
      Type_Name: TYPE_NAMES[type],
    };
    if (avail >= 2 && version !== 1) {
      a.Max_Response_Time = version === 2
        ? maxResp
        : type === IGMP_TYPE.QUERY
        ? igmpCode(maxResp)
        : null;
    }
    if (avail >= 4) {
      a.Checksum = u16(b, off + OFF.CHECKSUM);
      a.Checksum_Status = "unverified";
    }
    f.layer(name, a);
    need(f, name, off, end, IGMP_HEADER_LEN, "IGMP message");
    return;
  }
  const attrs: Record<string, unknown> = {
    Version: version,
    Type: type,
    Type_Name: TYPE_NAMES[type],
    Max_Response_Time: version === 1
      ? null
      : version === 2
      ? maxResp
      : type === IGMP_TYPE.QUERY
      ? igmpCode(maxResp)
      : null,
    Checksum: u16(b, off + OFF.CHECKSUM),
    // v1/v2 messages are 8 bytes: the checksum covers those (Wireshark too), v3 all.
    Checksum_Status: isFragmented(f)
      ? "unverified"
      : verifyPlain(b, off, version === 3 ? end : off + IGMP_HEADER_LEN, f.capEnd),
    Group_Address: type === IGMP_TYPE.V3_REPORT ? null : ipv4(b, off + OFF.GROUP),
  };
  f.layer(name, attrs);
  if (version !== 3) return;
  if (type === IGMP_TYPE.QUERY) {
    if (!need(f, name, off, end, IGMPV3_QUERY_LEN, "IGMPv3 query")) return;
    const fl = b[off + OFF.Q_FLAGS];
    const n = u16(b, off + OFF.Q_NUM_SOURCES);
    attrs.Suppress_Router_Processing = (fl & 8) !== 0;
    attrs.QRV = fl & 7;
    attrs.QQIC = igmpCode(b[off + OFF.Q_QQIC]);
    attrs.Number_Of_Sources = n;
    const src = sources(f, off + OFF.Q_SOURCES, end, n);
    if (src !== null) attrs.Sources = src;
    return;
  }
  // v3 report
  const n = u16(b, off + OFF.R_NUM_RECORDS);
  attrs.Number_Of_Group_Records = n;
  const records: unknown[] = [];
  attrs.Group_Records = records;
  let p = off + OFF.R_RECORDS;
  for (let i = 0; i < n; i++) {
    if (!need(f, name, p, end, RECORD_HEADER_LEN, "group record")) return;
    const auxWords = b[p + 1];
    const nsrc = u16(b, p + 2);
    const r: Record<string, unknown> = {
      Record_Type: b[p],
      Aux_Data_Length: auxWords * 4,
      Number_Of_Sources: nsrc,
      Multicast_Address: ipv4(b, p + 4),
    };
    records.push(r);
    const src = sources(f, p + RECORD_HEADER_LEN, end, nsrc);
    if (src === null) return;
    r.Sources = src;
    p += RECORD_HEADER_LEN + nsrc * 4 + auxWords * 4;
  }
}

/**
 * IGMPv0 (RFC 988): the fields that fit. The checksum covers the whole message; the
 * required IGMP attributes are all present (Max_Response_Time is null: v0 has none).
 */
function decodeIgmpV0(f: Frame, name: string, off: number, end: number, type: number): void {
  const b = f.bytes;
  const avail = f.limit(end) - off;
  const a: Record<string, unknown> = {
    Version: 0,
    Type: type,
    Type_Name: IGMPV0_NAMES[type],
    Max_Response_Time: null,
    Code: avail > V0.CODE ? b[off + V0.CODE] : null,
    Checksum: avail >= V0.CHECKSUM + 2 ? u16(b, off + V0.CHECKSUM) : null,
    Checksum_Status: avail < V0.CHECKSUM + 2
      ? "unverified"
      : isFragmented(f)
      ? "unverified"
      : verifyPlain(b, off, end, f.capEnd),
    Group_Address: avail >= V0.GROUP + 4 ? ipv4(b, off + V0.GROUP) : null,
  };
  if (avail >= V0.IDENTIFIER + 4) a.Identifier = u32(b, off + V0.IDENTIFIER);
  if (avail >= V0.LEN) a.Access_Key = hex(b, off + V0.ACCESS_KEY, off + V0.LEN);
  f.layer(name, a);
  if (avail < V0.LEN) need(f, name, off, end, V0.LEN, "IGMPv0 message");
  else if (end > off + V0.LEN) f.rest(off + V0.LEN, end);
}

register(IP_PROTO, IP_PROTO_IGMP, decodeIgmp);
