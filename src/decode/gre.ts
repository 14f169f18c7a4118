/**
 * GRE (RFC 2784, key and sequence number RFC 2890, source routing RFC 1701, enhanced
 * GRE of PPTP RFC 2637) as Wireshark's packet-gre.c shows it: flags and version, the
 * protocol type, checksum (verified over the whole GRE packet when it is all captured)
 * and offset, key (version 1: payload length and call id), sequence and acknowledgment
 * numbers, the routing entries (SREs), the WCCPv2 redirect header (protocol 0x883e when
 * the payload does not start like IPv4), and the NVGRE split of the key (RFC 7637:
 * VSID and flow id) for Transparent Ethernet Bridging with a key.
 *
 * The payload goes by protocol type: ERSPAN (0x88be, 0x22eb), WCCP, PPP (0x880b), and
 * otherwise the EtherType table (IPv4, IPv6, TEB 0x6558, MPLS, ...).
 */
import type { Decoder, Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, IP_PROTO, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { hex } from "./format.ts";
import { finish, onesSum } from "./checksum.ts";
import { need, u16, u32 } from "./bytes.ts";
import { tunnelLayer, type TunnelType } from "./tunnel.ts";
import { decodeIpv4 } from "./ipv4.ts";

export const LAYER_GRE = "GRE";
export const IP_PROTO_GRE = 47;
const F = {
  CHECKSUM: 0x8000,
  ROUTING: 0x4000,
  KEY: 0x2000,
  SEQUENCE: 0x1000,
  STRICT_ROUTE: 0x0800,
  RECURSION: 0x0700,
  ACK: 0x0080,
  VERSION: 0x0007,
} as const;
export const GRE_ERSPAN_II = 0x88be;
export const GRE_ERSPAN_III = 0x22eb;
/** GRE_TYPES key of ERSPAN type I: protocol 0x88be without a GRE sequence number. */
export const GRE_ERSPAN_I_KEY = 0x188be;
const GRE_WCCP = 0x883e;
export const GRE_PPP = 0x880b;
const GRE_TEB = 0x6558;
const WCCP_HEADER_LEN = 4;

/** GRE protocol types decoded by something other than the EtherType table. */
const GRE_TYPES = new Map<number, Decoder>();

/** Registers the decoder of a GRE protocol type that is not an EtherType's (ERSPAN, PPP). */
export function registerGreType(type: number, dec: Decoder): void {
  GRE_TYPES.set(type, dec);
}

/** Decodes a GRE header at `off` (IP protocol 47). */
export function decodeGre(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_GRE;
  if (!need(f, name, off, end, 4, "GRE header")) return;
  const fv = u16(b, off);
  const type = u16(b, off + 2);
  const version = fv & F.VERSION;
  // Enhanced GRE (PPTP): the key is payload length and call id, an acknowledgment may
  // follow; Wireshark reads it so for PPP with any version but 0.
  const pptp = type === GRE_PPP && version !== 0;
  const g: Layer = {
    Flags_And_Version: fv,
    Flags: {
      Checksum: (fv & F.CHECKSUM) !== 0,
      Routing: (fv & F.ROUTING) !== 0,
      Key: (fv & F.KEY) !== 0,
      Sequence_Number: (fv & F.SEQUENCE) !== 0,
      Strict_Source_Route: (fv & F.STRICT_ROUTE) !== 0,
      Acknowledgment: pptp && (fv & F.ACK) !== 0,
    },
    Recursion_Control: (fv & F.RECURSION) >> 8,
    Version: version,
    Protocol_Type: type,
  };
  f.layer(name, g);
  let p = off + 4;
  if ((fv & (F.CHECKSUM | F.ROUTING)) !== 0) {
    if (!need(f, name, p, end, 4, "GRE checksum and offset")) return;
    g.Checksum = u16(b, p);
    g.Checksum_Status = "unverified";
    if ((fv & F.CHECKSUM) !== 0 && end <= f.capEnd) {
      g.Checksum_Status = finish(onesSum(b, off, end)) === 0 ? "good" : "bad";
    }
    g.Offset = u16(b, p + 2);
    p += 4;
  }
  let key = -1;
  if ((fv & F.KEY) !== 0) {
    if (!need(f, name, p, end, 4, "GRE key")) return;
    if (pptp) {
      g.Payload_Length = u16(b, p);
      g.Call_ID = u16(b, p + 2);
    } else {
      key = u32(b, p);
      g.Key = key;
      if (type === GRE_TEB) {
        g.VSID = key >>> 8;
        g.Flow_ID = key & 0xff;
      }
    }
    p += 4;
  }
  if ((fv & F.SEQUENCE) !== 0) {
    if (!need(f, name, p, end, 4, "GRE sequence number")) return;
    g.Sequence_Number = u32(b, p);
    p += 4;
  }
  if (pptp && (fv & F.ACK) !== 0) {
    if (!need(f, name, p, end, 4, "GRE acknowledgment number")) return;
    g.Acknowledgment_Number = u32(b, p);
    p += 4;
  }
  if ((fv & F.ROUTING) !== 0) {
    const sres: Layer[] = [];
    g.Routing = sres;
    // Each entry consumes at least 4 bytes, so this ends.
    for (;;) {
      if (!need(f, name, p, end, 4, "GRE routing entry")) return;
      const af = u16(b, p);
      const len = b[p + 3];
      const sre: Layer = { Address_Family: af, SRE_Offset: b[p + 2], SRE_Length: len };
      sres.push(sre);
      p += 4;
      if (af === 0 && len === 0) break;
      if (!need(f, name, p, end, len, "GRE routing information")) return;
      sre.Information = hex(b, p, p + len);
      p += len;
    }
  }
  if (type === GRE_WCCP && f.has(p, 1) && (b[p] & 0xf0) !== 0x40) {
    if (!need(f, name, p, end, WCCP_HEADER_LEN, "WCCP redirect header")) return;
    g.WCCP_Redirect = {
      Dynamic_Service: (b[p] & 0x01) !== 0,
      Alternative_Bucket_Used: (b[p] & 0x02) !== 0,
      Valid: (b[p] & 0x04) === 0,
      Service_ID: b[p + 1],
      Alternative_Bucket: b[p + 2],
      Primary_Bucket: b[p + 3],
    };
    p += WCCP_HEADER_LEN;
  }
  const tt: TunnelType | null = type === GRE_ERSPAN_II || type === GRE_ERSPAN_III
    ? null // the ERSPAN decoder adds its own summary, with the session id
    : pptp
    ? "PPTP"
    : type === GRE_WCCP
    ? "WCCP"
    : type === GRE_TEB && key >= 0
    ? "NVGRE"
    : "GRE";
  if (tt === "NVGRE") tunnelLayer(f, tt, { VNI: key >>> 8, Key: key });
  else if (tt === "PPTP") {
    tunnelLayer(f, tt, g.Call_ID !== undefined ? { Session_ID: g.Call_ID } : null);
  } else if (tt !== null) tunnelLayer(f, tt, key >= 0 ? { Key: key } : null);
  if (p >= end) return;
  const dec = type === GRE_WCCP
    ? decodeIpv4
    : GRE_TYPES.get(type === GRE_ERSPAN_II && (fv & F.SEQUENCE) === 0 ? GRE_ERSPAN_I_KEY : type);
  if (dec !== undefined) f.call(dec, p, end);
  else dispatch(ETHERTYPE, type, f, p, end);
}

register(IP_PROTO, IP_PROTO_GRE, decodeGre);
