/**
 * Ethernet II and IEEE 802.3 framing.
 * The 16-bit field after the addresses is an EtherType when >= 0x0600 and a
 * length (802.3, followed by 802.2 LLC) when <= 1500.
 */
import type { Frame } from "./frame.ts";
import { mac } from "./format.ts";
import { dispatch, ETHERTYPE, register, SNAP } from "./registry.ts";
import { LAYER } from "./record.ts";
import { decode8023Payload, decodeLlc, ouiText, shortHeader, snapKey } from "./llc.ts";
import { ETHERNET_HEADER_LEN, MAX_8023_LENGTH, MIN_ETHERTYPE } from "./ethernet_types.ts";
import { restoreStrippedTag } from "./vlan.ts";

export { ETHERNET_HEADER_LEN, MAX_8023_LENGTH, MIN_ETHERTYPE };

const OFF = { DST: 0, SRC: 6, TYPE: 12 } as const;
const ETHERTYPE_ZERO = 0x0000;
/** Transparent Ethernet Bridging: an Ethernet frame follows (as in GRE/NVGRE). */
export const ETHERTYPE_TEB = 0x6558;
/** Jumbo frames carrying 802.2 LLC (IEEE 802.3 EPD for LLC). */
export const ETHERTYPE_JUMBO_LLC = 0x8870;
/** Bridged Ethernet over SNAP (RFC 2684 / RFC 2427): OUI 0080c2, PIDs with and without FCS. */
const OUI_IEEE_802_1 = 0x0080c2;
const PID_BRIDGED_ETH_FCS = 0x0001;
const PID_BRIDGED_ETH = 0x0007;
/** Pad bytes before the bridged frame when carried in LLC (Wireshark's bridge_pad). */
const BRIDGE_PAD = 2;
const FCS_LEN = 4;

/** Decodes the Ethernet header at `off` of a frame whose wire data ends at `end`. */
export function decodeEthernet(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  if (!f.has(off, ETHERNET_HEADER_LEN) || end - off < ETHERNET_HEADER_LEN) {
    shortHeader(f, LAYER.ETHERNET, off, end, ETHERNET_HEADER_LEN);
    return;
  }
  const typeOrLen = f.view.getUint16(off + OFF.TYPE);
  if (
    typeOrLen <= MAX_8023_LENGTH && isIslDestination(b, off) && f.strippedTci < 0
  ) {
    decodeIsl(f, off, end);
    return;
  }
  const eth: Record<string, unknown> = {
    Source_Address: mac(b, off + OFF.SRC),
    Destination_Address: mac(b, off + OFF.DST),
  };
  f.layer(LAYER.ETHERNET, eth);
  const next = off + ETHERNET_HEADER_LEN;
  if (f.strippedTci >= 0) {
    // The kernel removed the outer tag; show the frame as it was on the wire.
    eth.EtherType = f.strippedTpid;
    restoreStrippedTag(f, f.strippedTpid, f.strippedTci, typeOrLen, next, end);
    return;
  }
  // Wireshark treats 0x0000 as an (unknown) EtherType, not as an empty 802.3 frame.
  if (typeOrLen >= MIN_ETHERTYPE || typeOrLen === ETHERTYPE_ZERO) {
    eth.EtherType = typeOrLen;
    dispatch(ETHERTYPE, typeOrLen, f, next, end);
  } else if (typeOrLen <= MAX_8023_LENGTH) {
    eth.Length = typeOrLen;
    decode8023Payload(f, LAYER.ETHERNET, typeOrLen, next, end, off + OFF.TYPE);
  } else {
    // 1501-1535 is neither a length nor an EtherType (Wireshark: "Invalid length/type").
    eth.Invalid_Type_Length = typeOrLen;
    f.fault(LAYER.ETHERNET, `invalid type/length 0x${typeOrLen.toString(16)}`, off + OFF.TYPE);
    f.rest(next, end);
  }
}

/** Cisco ISL header (Inter-Switch Link): a 26-byte header, the frame, a 4-byte CRC. */
const ISL_OFF = {
  DST: 0,
  TYPE_USER: 5,
  SRC: 6,
  LENGTH: 12,
  HSA: 17,
  VLAN: 20,
  INDEX: 22,
} as const;
export const ISL_HEADER_LEN = 26;
/** Bytes of the ISL header after the length field, counted in it (as is the CRC). */
const ISL_AFTER_LENGTH = 12;
const ISL_TYPE_ETHERNET = 0;
const LAYER_ISL = "ISL";

/** ISL frames go to 01:00:0c:00:00:xx or 0c:00:0c:00:00:xx (Wireshark's test). */
function isIslDestination(b: Uint8Array, off: number): boolean {
  return (b[off] === 0x01 || b[off] === 0x0c) && b[off + 1] === 0x00 && b[off + 2] === 0x0c &&
    b[off + 3] === 0x00 && b[off + 4] === 0x00;
}

/** Decodes an ISL header as its own layer, then the encapsulated Ethernet frame. */
function decodeIsl(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const v = f.view;
  if (!f.has(off, ISL_OFF.VLAN)) {
    f.truncated(LAYER_ISL, off);
    return;
  }
  const typeUser = b[off + ISL_OFF.TYPE_USER];
  const length = v.getUint16(off + ISL_OFF.LENGTH);
  const type = typeUser >>> 4;
  const isl: Record<string, unknown> = f.layer(LAYER_ISL, {
    Destination_Address: mac(b, off + ISL_OFF.DST),
    Source_Address: mac(b, off + ISL_OFF.SRC),
    Length: length,
    Type: type,
    User: typeUser & 0x0f,
    HSA: ouiText(
      (b[off + ISL_OFF.HSA] << 16) | (b[off + ISL_OFF.HSA + 1] << 8) | b[off + ISL_OFF.HSA + 2],
    ),
  });
  // The ISL length counts the 12 header bytes after it, the frame and the CRC;
  // 0 means "not given" (Wireshark then takes the rest of the frame).
  if (length !== 0 && length < ISL_AFTER_LENGTH) {
    f.fault(LAYER_ISL, `length ${length} below the ISL header`, off + ISL_OFF.LENGTH);
    return;
  }
  if (!f.has(off, ISL_HEADER_LEN)) {
    f.truncated(LAYER_ISL, off + ISL_OFF.VLAN);
    return;
  }
  const vlan = v.getUint16(off + ISL_OFF.VLAN);
  isl.VLAN_ID = vlan >>> 1;
  isl.BPDU = (vlan & 1) === 1;
  isl.Index = v.getUint16(off + ISL_OFF.INDEX);
  if (f.sum.vlanId < 0) f.sum.vlanId = vlan >>> 1;
  const inner = off + ISL_HEADER_LEN;
  if (type !== ISL_TYPE_ETHERNET) {
    f.rest(inner, end, `ISL type ${type}`);
    return;
  }
  // The frame's CRC is dropped only when there is room for a header before it.
  const innerLen = length === 0 ? end - inner : length - ISL_AFTER_LENGTH;
  let innerEnd = inner +
    (innerLen >= ETHERNET_HEADER_LEN + FCS_LEN ? innerLen - FCS_LEN : innerLen);
  if (innerEnd > end) {
    f.fault(LAYER_ISL, `length ${length} exceeds the frame`, off + ISL_OFF.LENGTH);
    innerEnd = end;
  }
  f.call(decodeEthernet, inner, Math.max(inner, innerEnd));
}

/** An Ethernet frame bridged inside SNAP: skip the pad, drop the FCS when it is carried. */
function bridged(withFcs: boolean) {
  return (f: Frame, off: number, end: number): void => {
    const inner = off + BRIDGE_PAD;
    decodeEthernet(f, inner, withFcs ? Math.max(inner, end - FCS_LEN) : end);
  };
}

register(ETHERTYPE, ETHERTYPE_JUMBO_LLC, decodeLlc);
register(ETHERTYPE, ETHERTYPE_TEB, decodeEthernet);
register(SNAP, snapKey(OUI_IEEE_802_1, PID_BRIDGED_ETH), bridged(false));
register(SNAP, snapKey(OUI_IEEE_802_1, PID_BRIDGED_ETH_FCS), bridged(true));
