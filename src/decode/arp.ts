/**
 * ARP and RARP (RFC 826, RFC 903), EtherTypes 0x0806 and 0x8035.
 *
 * The address fields take their sizes from the header. As in Wireshark, a hardware
 * address is shown as a MAC when the hardware type is Ethernet (1) or IEEE 802 (6)
 * and the size is 6, a protocol address as a dotted quad when the protocol type is
 * IPv4 (0x0800, or AX.25's 0xcc) and the size is 4; any other address is lowercase
 * hex without separators, and a zero-size address is "".
 */
import type { Frame } from "./frame.ts";
import { hex, ipv4, mac } from "./format.ts";
import { ETHERTYPE, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import type { Layer } from "./record.ts";
import { shortHeader } from "./llc.ts";

const OFF = { HTYPE: 0, PTYPE: 2, HLEN: 4, PLEN: 5, OPER: 6, SHA: 8 } as const;
export const ARP_FIXED_LEN = 8;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_RARP = 0x8035;
const HTYPE_ETHERNET = 1;
const HTYPE_IEEE802 = 6;
const PTYPE_IPV4 = 0x0800;
const PTYPE_AX25_IP = 0xcc;
const MAC_LEN = 6;
const IPV4_LEN = 4;

function hwAddr(b: Uint8Array, off: number, len: number, htype: number): string {
  if (len === MAC_LEN && (htype === HTYPE_ETHERNET || htype === HTYPE_IEEE802)) {
    return mac(b, off);
  }
  return hex(b, off, off + len);
}

function protoAddr(b: Uint8Array, off: number, len: number, ptype: number): string {
  if (len === IPV4_LEN && (ptype === PTYPE_IPV4 || ptype === PTYPE_AX25_IP)) return ipv4(b, off);
  return hex(b, off, off + len);
}

/** Decodes an ARP packet at `off`; bytes after the addresses (Ethernet padding) are ignored. */
export function decodeArp(f: Frame, off: number, end: number): void {
  if (!f.has(off, ARP_FIXED_LEN) || end - off < ARP_FIXED_LEN) {
    shortHeader(f, LAYER.ARP, off, end, ARP_FIXED_LEN);
    return;
  }
  const v = f.view;
  const b = f.bytes;
  const htype = v.getUint16(off + OFF.HTYPE);
  const ptype = v.getUint16(off + OFF.PTYPE);
  const hlen = b[off + OFF.HLEN];
  const plen = b[off + OFF.PLEN];
  const arp: Layer = f.layer(LAYER.ARP, {
    Hardware_Type: htype,
    Protocol_Type: ptype,
    Hardware_Size: hlen,
    Protocol_Size: plen,
    Operation: v.getUint16(off + OFF.OPER),
  });
  // Like Wireshark, the four addresses are shown only when all of them are there.
  const total = ARP_FIXED_LEN + 2 * hlen + 2 * plen;
  if (end - off < total) {
    f.fault(LAYER.ARP, `addresses need ${total} bytes, packet has ${end - off}`, off + OFF.HLEN);
    return;
  }
  if (!f.has(off, total)) {
    f.truncated(LAYER.ARP, off + OFF.SHA);
    return;
  }
  const spa = off + OFF.SHA + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  arp.Sender_Hardware_Address = hwAddr(b, off + OFF.SHA, hlen, htype);
  arp.Sender_Protocol_Address = protoAddr(b, spa, plen, ptype);
  arp.Target_Hardware_Address = hwAddr(b, tha, hlen, htype);
  arp.Target_Protocol_Address = protoAddr(b, tpa, plen, ptype);
}

register(ETHERTYPE, ETHERTYPE_ARP, decodeArp);
register(ETHERTYPE, ETHERTYPE_RARP, decodeArp);
