/**
 * Cisco Discovery Protocol (SNAP 00000c:2000): a 4-byte header (version, TTL,
 * checksum) and TLVs whose 16-bit length includes the 4-byte TLV header.
 *
 * The checksum is the Internet checksum over the whole PDU with Cisco's odd-length
 * quirk, verified as Wireshark does (packet-cdp.c). Device_ID, Port_ID, Platform,
 * Software_Version, Addresses and Capabilities are always present (null when the
 * TLV is absent); other known TLVs add attributes, unknown ones are listed in
 * Other_TLVs as {Type, Length}.
 */
import type { Frame } from "./frame.ts";
import { finish, onesSum } from "./checksum.ts";
import { hex, ipv4, ipv6 } from "./format.ts";
import { asciiz } from "./l2_text.ts";
import { register, SNAP } from "./registry.ts";
import { LAYER } from "./record.ts";
import type { Layer } from "./record.ts";
import { shortHeader, snapKey } from "./llc.ts";

const OFF = { VERSION: 0, TTL: 1, CHECKSUM: 2 } as const;
const TLV_OFF = { TYPE: 0, LENGTH: 2 } as const;
export const CDP_HEADER_LEN = 4;
const TLV_HEADER_LEN = 4;
export const OUI_CISCO = 0x00000c;
export const PID_CDP = 0x2000;
/** Keep at most this many entries in each list attribute. */
const MAX_ITEMS = 64;

const TLV = {
  DEVICE_ID: 0x0001,
  ADDRESSES: 0x0002,
  PORT_ID: 0x0003,
  CAPABILITIES: 0x0004,
  SOFTWARE_VERSION: 0x0005,
  PLATFORM: 0x0006,
  VTP_DOMAIN: 0x0009,
  NATIVE_VLAN: 0x000a,
  DUPLEX: 0x000b,
  VOIP_VLAN_REPLY: 0x000e,
  POWER: 0x0010,
  MTU: 0x0011,
  TRUST_BITMAP: 0x0012,
  UNTRUSTED_COS: 0x0013,
  SYSTEM_NAME: 0x0014,
  MANAGEMENT_ADDRESSES: 0x0016,
  LOCATION: 0x0017,
} as const;

/** Capability bits of TLV 4, in bit order (also the filter schema's names). */
export const CAPABILITY_NAMES = [
  "Router",
  "Transparent_Bridge",
  "Source_Route_Bridge",
  "Switch",
  "Host",
  "IGMP_Capable",
  "Repeater",
  "VoIP_Phone",
  "Remotely_Managed",
  "CVTA_STP_Dispute",
  "Two_Port_MAC_Relay",
] as const;

/** Address entry: protocol type (1 NLPID, 2 802.2), protocol length, protocol, length, address. */
const ADDR_PROTO_NLPID = 1;
const ADDR_PROTO_8022 = 2;
const NLPID_IP = 0xcc;
/** 802.2 protocol field for IPv6: LLC aa aa 03, SNAP 000000, EtherType 86dd. */
const SNAP_IPV6 = "aaaa0300000086dd";

/** CDP's checksum check: RFC 1071 sum, except an odd last byte is summed as a low-order word. */
function checksumStatus(f: Frame, off: number, end: number): string {
  if (end > f.capEnd) return "unverified";
  const b = f.bytes;
  let sum: number;
  if (((end - off) & 1) === 0) sum = onesSum(b, off, end);
  else {
    let lo = b[end - 1];
    let hi = 0;
    if (lo & 0x80) {
      // Cisco's off-by-one when the byte was added as a signed number.
      lo = lo - 1;
      hi = 0xff;
    }
    sum = onesSum(b, off, end - 1) + ((hi << 8) | lo);
  }
  return finish(sum) === 0 ? "good" : "bad";
}

/** Parses the address list of TLVs 2 and 22 at p..end (count first); stops at the first short entry. */
function addresses(f: Frame, p: number, end: number): string[] {
  const out: string[] = [];
  const b = f.bytes;
  if (end - p < 4) return out;
  let n = f.view.getUint32(p);
  p += 4;
  while (n > 0 && out.length < MAX_ITEMS) {
    if (end - p < 2) break;
    const ptype = b[p];
    const plen = b[p + 1];
    p += 2;
    if (end - p < plen) break;
    const proto = p;
    p += plen;
    if (end - p < 2) break;
    const alen = f.view.getUint16(p);
    p += 2;
    if (end - p < alen) break;
    if (ptype === ADDR_PROTO_NLPID && plen === 1 && b[proto] === NLPID_IP && alen === 4) {
      out.push(ipv4(b, p));
    } else if (
      ptype === ADDR_PROTO_8022 && alen === 16 && hex(b, proto, proto + plen) === SNAP_IPV6
    ) {
      out.push(ipv6(b, p));
    } else out.push(hex(b, p, p + alen));
    p += alen;
    n--;
  }
  return out;
}

function capabilities(v: number): Layer {
  const o: Layer = {};
  for (let i = 0; i < CAPABILITY_NAMES.length; i++) o[CAPABILITY_NAMES[i]] = (v & (1 << i)) !== 0;
  return o;
}

/** Decodes a CDP PDU at `off` ending at `end`. */
export function decodeCdp(f: Frame, off: number, end: number): void {
  const v = f.view;
  const b = f.bytes;
  if (end - off < CDP_HEADER_LEN) {
    shortHeader(f, LAYER.CDP, off, end, CDP_HEADER_LEN);
    return;
  }
  const cdp: Layer = f.layer(LAYER.CDP, {
    Version: f.has(off + OFF.VERSION, 1) ? b[off + OFF.VERSION] : null,
    TTL: f.has(off + OFF.TTL, 1) ? b[off + OFF.TTL] : null,
    Checksum: null,
    Checksum_Status: "unverified",
    Device_ID: null,
    Port_ID: null,
    Platform: null,
    Software_Version: null,
    Addresses: null,
    Capabilities: null,
  });
  if (end > f.capEnd) {
    // Like Wireshark, which verifies the checksum over the whole PDU before anything
    // else: a PDU the snap length cut is not decoded past the TTL.
    f.truncated(LAYER.CDP, Math.min(f.capEnd, off + OFF.CHECKSUM));
    return;
  }
  cdp.Checksum = v.getUint16(off + OFF.CHECKSUM);
  cdp.Checksum_Status = checksumStatus(f, off, end);
  let other: Layer[] | null = null;
  let p = off + CDP_HEADER_LEN;
  while (p < end) {
    if (end - p < TLV_HEADER_LEN) {
      f.fault(LAYER.CDP, "trailing bytes shorter than a TLV header", p);
      return;
    }
    if (!f.has(p, TLV_HEADER_LEN)) {
      f.truncated(LAYER.CDP, p);
      return;
    }
    const type = v.getUint16(p + TLV_OFF.TYPE);
    const len = v.getUint16(p + TLV_OFF.LENGTH);
    if (len < TLV_HEADER_LEN) {
      f.fault(LAYER.CDP, `TLV 0x${type.toString(16)} length ${len} below 4`, p + TLV_OFF.LENGTH);
      return;
    }
    let tlvEnd = p + len;
    if (tlvEnd > end) {
      f.fault(
        LAYER.CDP,
        `TLV 0x${type.toString(16)} length ${len} exceeds the PDU`,
        p + TLV_OFF.LENGTH,
      );
      return;
    }
    // Wireshark's workaround for a device that sent Port ID lengths 3 short.
    if (type === TLV.PORT_ID && end - p >= len + 3 && f.has(tlvEnd, 1) && b[tlvEnd] !== 0) {
      tlvEnd += 3;
    }
    if (tlvEnd > f.capEnd) {
      f.truncated(LAYER.CDP, p);
      return;
    }
    const d = p + TLV_HEADER_LEN;
    const dlen = tlvEnd - d;
    switch (type) {
      case TLV.DEVICE_ID:
        cdp.Device_ID ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.PORT_ID:
        cdp.Port_ID ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.PLATFORM:
        cdp.Platform ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.SOFTWARE_VERSION:
        cdp.Software_Version ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.ADDRESSES:
        cdp.Addresses = addresses(f, d, tlvEnd);
        break;
      case TLV.MANAGEMENT_ADDRESSES:
        cdp.Management_Addresses = addresses(f, d, tlvEnd);
        break;
      case TLV.CAPABILITIES:
        if (dlen >= 4) cdp.Capabilities = capabilities(v.getUint32(d));
        break;
      case TLV.VTP_DOMAIN:
        cdp.VTP_Management_Domain ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.NATIVE_VLAN:
        if (dlen >= 2) cdp.Native_VLAN = v.getUint16(d);
        break;
      case TLV.DUPLEX:
        if (dlen >= 1) cdp.Duplex = b[d] !== 0 ? "Full" : "Half";
        break;
      case TLV.VOIP_VLAN_REPLY:
        if (dlen >= 3) cdp.VoIP_VLAN = v.getUint16(d + 1);
        break;
      case TLV.POWER:
        if (dlen >= 2) cdp.Power_Consumption = v.getUint16(d);
        break;
      case TLV.MTU:
        if (dlen >= 4) cdp.MTU = v.getUint32(d);
        break;
      case TLV.TRUST_BITMAP:
        if (dlen >= 1) cdp.Trust_Bitmap = b[d];
        break;
      case TLV.UNTRUSTED_COS:
        if (dlen >= 1) cdp.Untrusted_Port_CoS = b[d];
        break;
      case TLV.SYSTEM_NAME:
        cdp.System_Name ??= asciiz(b, d, tlvEnd);
        break;
      case TLV.LOCATION:
        if (dlen >= 1) cdp.Location = asciiz(b, d + 1, tlvEnd);
        break;
      default:
        if (other === null) cdp.Other_TLVs = other = [];
        if (other.length < MAX_ITEMS) other.push({ Type: type, Length: len });
        // Wireshark stops at an unknown TLV without a value; so do we.
        if (len === TLV_HEADER_LEN) return;
    }
    p = tlvEnd;
  }
}

register(SNAP, snapKey(OUI_CISCO, PID_CDP), decodeCdp);
