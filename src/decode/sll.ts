/**
 * Linux cooked capture headers: SLL (LINKTYPE_LINUX_SLL, 113, 16 bytes) and SLL2
 * (LINKTYPE_LINUX_SLL2, 276, 20 bytes), written by libpcap for `-i any` captures.
 * Both become an "SLL" layer (Packet_Type, ARPHRD_Type, Address, Protocol; SLL2 also
 * Interface_Index); the protocol then dispatches through the EtherType table.
 *
 * When the capture file itself did not know the packet type (classic pcap) or the
 * interface index, the AF_Packet layer takes them from this header.
 *
 * References: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
 */
import type { Frame } from "./frame.ts";
import { hex, mac } from "./format.ts";
import { dispatch, ETHERTYPE } from "./registry.ts";
import { LAYER } from "./record.ts";
import { decodeLlc } from "./llc.ts";
import { MIN_ETHERTYPE } from "./ethernet_types.ts";
import { PACKET_TYPE_NAMES } from "./meta.ts";

/** SLL v1 field offsets. */
const SLL = { PKT_TYPE: 0, ARPHRD: 2, ADDR_LEN: 4, ADDR: 6, PROTOCOL: 14 } as const;
export const SLL_HEADER_LEN = 16;
/** SLL2 field offsets. */
const SLL2 = {
  PROTOCOL: 0,
  RESERVED: 2,
  IFINDEX: 4,
  ARPHRD: 8,
  PKT_TYPE: 10,
  ADDR_LEN: 11,
  ADDR: 12,
} as const;
export const SLL2_HEADER_LEN = 20;
/** Room for the link-layer address in both headers. */
const ADDR_FIELD_LEN = 8;
const MAC_LEN = 6;

/** Protocol values below 0x0600 that name a framing instead of an EtherType (if_ether.h). */
const ETH_P_802_3 = 0x0001; // Novell raw 802.3 (IPX), no LLC header
const ETH_P_802_2 = 0x0004; // 802.2 LLC frame

/** The "SLL" layer key (not an Ethernet layer, so not in LAYER). */
export const SLL_LAYER = "SLL";

/** Decodes a Linux SLL (v1) header at `off`. */
export function decodeSll(f: Frame, off: number, end: number): void {
  if (!f.has(off, SLL_HEADER_LEN)) {
    f.truncated(SLL_LAYER, off);
    return;
  }
  const v = f.view;
  const pktType = v.getUint16(off + SLL.PKT_TYPE);
  const addrLen = v.getUint16(off + SLL.ADDR_LEN);
  const protocol = v.getUint16(off + SLL.PROTOCOL);
  f.layer(SLL_LAYER, {
    Packet_Type: packetTypeName(pktType),
    ARPHRD_Type: v.getUint16(off + SLL.ARPHRD),
    Address_Length: addrLen,
    Address: address(f.bytes, off + SLL.ADDR, addrLen),
    Protocol: protocol,
  });
  fillAfPacket(f, pktType, -1);
  next(f, protocol, off + SLL_HEADER_LEN, end);
}

/** Decodes a Linux SLL2 header at `off`. */
export function decodeSll2(f: Frame, off: number, end: number): void {
  if (!f.has(off, SLL2_HEADER_LEN)) {
    f.truncated(SLL_LAYER, off);
    return;
  }
  const v = f.view;
  const b = f.bytes;
  const pktType = b[off + SLL2.PKT_TYPE];
  const addrLen = b[off + SLL2.ADDR_LEN];
  const protocol = v.getUint16(off + SLL2.PROTOCOL);
  const ifIndex = v.getUint32(off + SLL2.IFINDEX);
  f.layer(SLL_LAYER, {
    Packet_Type: packetTypeName(pktType),
    ARPHRD_Type: v.getUint16(off + SLL2.ARPHRD),
    Address_Length: addrLen,
    Address: address(b, off + SLL2.ADDR, addrLen),
    Protocol: protocol,
    Interface_Index: ifIndex,
  });
  fillAfPacket(f, pktType, ifIndex);
  next(f, protocol, off + SLL2_HEADER_LEN, end);
}

/** Name of a PACKET_* value, or the number when it is not one of the five. */
function packetTypeName(t: number): string | number {
  return t < PACKET_TYPE_NAMES.length ? PACKET_TYPE_NAMES[t] : t;
}

/** The link-layer address: MAC form for 6 bytes, else colon hex of at most 8 bytes. */
function address(b: Uint8Array, off: number, len: number): string {
  if (len === MAC_LEN) return mac(b, off);
  const n = Math.min(len, ADDR_FIELD_LEN);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(hex(b, off + i, off + i + 1));
  return parts.join(":"); // join gives a flat string (see format.ts)
}

/** AF_Packet keeps what the capture file said; fill the gaps from the cooked header. */
function fillAfPacket(f: Frame, pktType: number, ifIndex: number): void {
  const af = f.rec[LAYER.AF_PACKET] as Record<string, unknown> | undefined;
  if (af === undefined) return;
  if (af.Packet_Type === null && pktType < PACKET_TYPE_NAMES.length) {
    af.Packet_Type = PACKET_TYPE_NAMES[pktType];
  }
  if (ifIndex > 0 && af.Interface_Index === -1) af.Interface_Index = ifIndex;
}

function next(f: Frame, protocol: number, off: number, end: number): void {
  if (protocol >= MIN_ETHERTYPE) dispatch(ETHERTYPE, protocol, f, off, end);
  else if (protocol === ETH_P_802_2) f.call(decodeLlc, off, end);
  else if (protocol === ETH_P_802_3) f.rest(off, end, "Novell raw 802.3");
  else f.rest(off, end, `Linux SLL protocol 0x${protocol.toString(16).padStart(4, "0")}`);
}
