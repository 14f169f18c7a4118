/**
 * Ethernet II and IEEE 802.3 framing.
 * The 16-bit field after the addresses is an EtherType when >= 0x0600 and a
 * length (802.3, followed by 802.2 LLC) when <= 1500.
 */
import type { Frame } from "./frame.ts";
import { mac } from "./format.ts";
import { dispatch, ETHERTYPE } from "./registry.ts";
import { LAYER } from "./record.ts";
import { decodeLlc } from "./llc.ts";
import { ETHERNET_HEADER_LEN, MAX_8023_LENGTH, MIN_ETHERTYPE } from "./ethernet_types.ts";
import { restoreStrippedTag } from "./vlan.ts";

export { ETHERNET_HEADER_LEN, MAX_8023_LENGTH, MIN_ETHERTYPE };

const OFF = { DST: 0, SRC: 6, TYPE: 12 } as const;

/** Decodes the Ethernet header at `off` of a frame whose wire data ends at `end`. */
export function decodeEthernet(f: Frame, off: number, end: number): void {
  if (!f.has(off, ETHERNET_HEADER_LEN)) {
    f.truncated(LAYER.ETHERNET, off);
    return;
  }
  const b = f.bytes;
  const typeOrLen = f.view.getUint16(off + OFF.TYPE);
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
  if (typeOrLen >= MIN_ETHERTYPE) {
    eth.EtherType = typeOrLen;
    dispatch(ETHERTYPE, typeOrLen, f, next, end);
  } else if (typeOrLen <= MAX_8023_LENGTH) {
    eth.Length = typeOrLen;
    let llcEnd = next + typeOrLen;
    if (llcEnd > end) {
      f.fault(LAYER.ETHERNET, `802.3 length ${typeOrLen} exceeds frame`, off + OFF.TYPE);
      llcEnd = end;
    }
    f.call(decodeLlc, next, llcEnd);
  } else {
    eth.EtherType = typeOrLen;
    f.fault(LAYER.ETHERNET, `invalid type/length 0x${typeOrLen.toString(16)}`, off + OFF.TYPE);
    f.rest(next, end);
  }
}
