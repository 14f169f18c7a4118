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
  let p = off + OFF.SHA;
  const fields = [
    "Sender_Hardware_Address",
    "Sender_Protocol_Address",
    "Target_Hardware_Address",
    "Target_Protocol_Address",
  ];
  for (let i = 0; i < fields.length; i++) {
    const hw = (i & 1) === 0;
    const len = hw ? hlen : plen;
    if (p + len > end) {
      f.fault(LAYER.ARP, `${fields[i]} (${len} bytes) beyond the end of the packet`, p);
      return;
    }
    if (!f.has(p, len)) {
      f.truncated(LAYER.ARP, p);
      return;
    }
    arp[fields[i]] = hw ? hwAddr(b, p, len, htype) : protoAddr(b, p, len, ptype);
    p += len;
  }
}

register(ETHERTYPE, ETHERTYPE_ARP, decodeArp);
register(ETHERTYPE, ETHERTYPE_RARP, decodeArp);
