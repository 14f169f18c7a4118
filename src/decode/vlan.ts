/**
 * IEEE 802.1Q VLAN tags and 802.1ad (QinQ) service tags, stacked to any depth
 * (bounded by Frame.call's depth limit). Layer key "802.1Q" for TPID 0x8100,
 * "802.1ad" for 0x88a8 and the pre-standard 0x9100.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { decodeLlc } from "./llc.ts";
import { MAX_8023_LENGTH, MIN_ETHERTYPE } from "./ethernet_types.ts";

const OFF = { TCI: 0, TYPE: 2 } as const;
export const VLAN_TAG_LEN = 4;
export const TPID_8021Q = 0x8100;
export const TPID_8021AD = 0x88a8;
export const TPID_QINQ_OLD = 0x9100;

function layerName(tpid: number): string {
  return tpid === TPID_8021Q ? LAYER.VLAN : LAYER.QINQ;
}

function tagAttrs(tci: number, type: number): Record<string, unknown> {
  return {
    Priority: tci >>> 13,
    DEI: (tci >>> 12) & 1,
    VLAN_ID: tci & 0x0fff,
    EtherType: type,
  };
}

/** Dispatches on the type/length field after a tag (an 802.3 length is legal after a tag too). */
function next(f: Frame, layer: string, type: number, off: number, end: number, typeOff: number): void {
  if (type >= MIN_ETHERTYPE) dispatch(ETHERTYPE, type, f, off, end);
  else if (type <= MAX_8023_LENGTH) {
    let llcEnd = off + type;
    if (llcEnd > end) {
      f.fault(layer, `802.3 length ${type} exceeds frame`, typeOff);
      llcEnd = end;
    }
    f.call(decodeLlc, off, llcEnd);
  } else {
    f.fault(layer, `invalid type/length 0x${type.toString(16)}`, typeOff);
    f.rest(off, end);
  }
}

function makeTagDecoder(tpid: number) {
  const name = layerName(tpid);
  return (f: Frame, off: number, end: number): void => {
    if (!f.has(off, VLAN_TAG_LEN)) {
      f.truncated(name, off);
      return;
    }
    const tci = f.view.getUint16(off + OFF.TCI);
    const type = f.view.getUint16(off + OFF.TYPE);
    if (f.sum.vlanId < 0) f.sum.vlanId = tci & 0x0fff;
    f.layer(name, tagAttrs(tci, type));
    next(f, name, type, off + VLAN_TAG_LEN, end, off + OFF.TYPE);
  };
}

/**
 * Adds the tag the kernel stripped (tp_vlan_tci) as a layer and continues with the
 * EtherType that followed the addresses. Called by the Ethernet decoder.
 */
export function restoreStrippedTag(f: Frame, tpid: number, tci: number, type: number, off: number, end: number): void {
  const name = layerName(tpid);
  if (f.sum.vlanId < 0) f.sum.vlanId = tci & 0x0fff;
  const attrs = tagAttrs(tci, type);
  attrs.Restored = true;
  f.layer(name, attrs);
  next(f, name, type, off, end, off - 2);
}

register(ETHERTYPE, TPID_8021Q, makeTagDecoder(TPID_8021Q));
register(ETHERTYPE, TPID_8021AD, makeTagDecoder(TPID_8021AD));
register(ETHERTYPE, TPID_QINQ_OLD, makeTagDecoder(TPID_QINQ_OLD));
