/**
 * IEEE 802.1Q VLAN tags and 802.1ad (QinQ) service tags, stacked to any depth
 * (bounded by Frame.call's depth limit). Layer key "802.1ad" for TPID 0x88a8 and
 * "802.1Q" for 0x8100 and the pre-standard QinQ TPID 0x9100 (Wireshark, too, shows a
 * 0x9100 tag as an 802.1Q tag, vlan.id). A tag followed by a length (<= 1500) carries
 * 802.2 LLC, as after the Ethernet addresses.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { decode8023Payload } from "./llc.ts";
import { MAX_8023_LENGTH, MIN_ETHERTYPE } from "./ethernet_types.ts";

const OFF = { TCI: 0, TYPE: 2 } as const;
export const VLAN_TAG_LEN = 4;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
export const TPID_QINQ_OLD = 0x9100;

function layerName(tpid: number): string {
  return tpid === TPID_8021AD ? LAYER.QINQ : LAYER.VLAN;
}

/**
 * After an 802.1Q tag, like after the Ethernet addresses, a value up to 1500 is an
 * 802.3 length (LLC follows). Wireshark's 802.1ad dissector always takes an EtherType.
 */
function isLength(layer: string, type: number): boolean {
  return layer === LAYER.VLAN && type <= MAX_8023_LENGTH;
}

function tagAttrs(layer: string, tci: number, type: number): Record<string, unknown> {
  const attrs: Record<string, unknown> = {
    Priority: tci >>> 13,
    DEI: (tci >>> 12) & 1,
    VLAN_ID: tci & 0x0fff,
  };
  if (isLength(layer, type)) attrs.Length = type;
  else attrs.EtherType = type;
  return attrs;
}

/** Dispatches on the type/length field after a tag (an 802.3 length is legal after a tag too). */
function next(
  f: Frame,
  layer: string,
  type: number,
  off: number,
  end: number,
  typeOff: number,
): void {
  // Everything else is an EtherType (1501-1535 too, as in Wireshark's tag dissectors).
  if (isLength(layer, type)) decode8023Payload(f, layer, type, off, end, typeOff);
  else dispatch(ETHERTYPE, type, f, off, end);
}

function makeTagDecoder(tpid: number) {
  const name = layerName(tpid);
  return (f: Frame, off: number, end: number): void => {
    if (!f.has(off, VLAN_TAG_LEN)) {
      // Keep the TCI when only it was captured, as Wireshark does for 802.1Q tags.
      if (f.has(off, 2) && name === LAYER.VLAN) {
        const t = f.view.getUint16(off + OFF.TCI);
        const attrs = tagAttrs(name, t, MIN_ETHERTYPE);
        delete attrs.EtherType;
        f.layer(name, attrs);
      }
      f.truncated(name, off);
      return;
    }
    const tci = f.view.getUint16(off + OFF.TCI);
    const type = f.view.getUint16(off + OFF.TYPE);
    if (f.sum.vlanId < 0) f.sum.vlanId = tci & 0x0fff;
    f.layer(name, tagAttrs(name, tci, type));
    next(f, name, type, off + VLAN_TAG_LEN, end, off + OFF.TYPE);
  };
}

/**
 * Adds the tag the kernel stripped (tp_vlan_tci) as a layer and continues with the
 * EtherType that followed the addresses. Called by the Ethernet decoder.
 */
export function restoreStrippedTag(
  f: Frame,
  tpid: number,
  tci: number,
  type: number,
  off: number,
  end: number,
): void {
  const name = layerName(tpid);
  if (f.sum.vlanId < 0) f.sum.vlanId = tci & 0x0fff;
  const attrs = tagAttrs(name, tci, type);
  attrs.Restored = true;
  f.layer(name, attrs);
  next(f, name, type, off, end, off - 2);
}

register(ETHERTYPE, TPID_8021Q, makeTagDecoder(TPID_8021Q));
register(ETHERTYPE, TPID_8021AD, makeTagDecoder(TPID_8021AD));
register(ETHERTYPE, TPID_QINQ_OLD, makeTagDecoder(TPID_QINQ_OLD));
