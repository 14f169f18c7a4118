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
/** Address bits, and the addresses each operation's summary (Wireshark's Info) reads. */
const SHA = 1, SPA = 2, THA = 4, TPA = 8;
const SUMMARY_NEEDS: Record<number, number> = {
  1: SPA | TPA, // request: who has TPA? tell SPA (and the gratuitous check)
  2: SHA | SPA | TPA, // reply: SPA is at SHA
  3: SHA | THA, // RARP request: who is THA? tell SHA
  4: THA | TPA, // RARP reply: THA is at TPA
  5: SHA | THA, // DRARP request
  6: THA | TPA, // DRARP reply
  8: SHA | THA, // InARP request
  9: SHA | SPA, // InARP reply
};
/** The four addresses in wire order: hardware, protocol, hardware, protocol. */
const ADDRESS_NAMES = [
  "Sender_Hardware_Address",
  "Sender_Protocol_Address",
  "Target_Hardware_Address",
  "Target_Protocol_Address",
] as const;
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
  const v = f.view;
  const b = f.bytes;
  const avail = f.limit(end) - off;
  const arp: Layer = {};
  // Header fields one by one, so a cut header keeps what it has (as in Wireshark).
  if (avail >= OFF.HTYPE + 2) arp.Hardware_Type = v.getUint16(off + OFF.HTYPE);
  if (avail >= OFF.PTYPE + 2) arp.Protocol_Type = v.getUint16(off + OFF.PTYPE);
  if (avail > OFF.HLEN) arp.Hardware_Size = b[off + OFF.HLEN];
  if (avail > OFF.PLEN) arp.Protocol_Size = b[off + OFF.PLEN];
  if (avail >= OFF.OPER + 2) arp.Operation = v.getUint16(off + OFF.OPER);
  if (avail >= OFF.HTYPE + 2) f.layer(LAYER.ARP, arp);
  if (avail < ARP_FIXED_LEN) {
    shortHeader(f, LAYER.ARP, off, end, ARP_FIXED_LEN);
    return;
  }
  const htype = arp.Hardware_Type as number;
  const ptype = arp.Protocol_Type as number;
  const hlen = arp.Hardware_Size as number;
  const plen = arp.Protocol_Size as number;
  // As in Wireshark: addresses that do not fit the packet make it malformed (none is
  // shown). Addresses cut by the snap length are shown up to the cut, except for the
  // ARP/RARP/InARP operations, whose summary needs them all first (then none is shown).
  const total = ARP_FIXED_LEN + 2 * hlen + 2 * plen;
  if (end - off < total) {
    f.fault(LAYER.ARP, `addresses need ${total} bytes, packet has ${end - off}`, off + OFF.HLEN);
    return;
  }
  // Wireshark first reads the addresses its summary line needs; when one of them was
  // not captured it shows no address at all.
  const sha = off + OFF.SHA;
  const spa = sha + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  const need = SUMMARY_NEEDS[arp.Operation as number] ?? 0;
  let needEnd = 0;
  if (need & SHA && hlen > 0) needEnd = Math.max(needEnd, spa);
  if (need & SPA && plen > 0) needEnd = Math.max(needEnd, tha);
  if (need & THA && hlen > 0) needEnd = Math.max(needEnd, tpa);
  if (need & TPA && plen > 0) needEnd = Math.max(needEnd, tpa + plen);
  if (needEnd > f.capEnd) {
    f.truncated(LAYER.ARP, sha);
    return;
  }
  let p = off + OFF.SHA;
  for (let i = 0; i < ADDRESS_NAMES.length; i++) {
    const hw = (i & 1) === 0;
    const len = hw ? hlen : plen;
    if (!f.has(p, len)) {
      f.truncated(LAYER.ARP, p);
      return;
    }
    arp[ADDRESS_NAMES[i]] = hw ? hwAddr(b, p, len, htype) : protoAddr(b, p, len, ptype);
    p += len;
  }
}

register(ETHERTYPE, ETHERTYPE_ARP, decodeArp);
register(ETHERTYPE, ETHERTYPE_RARP, decodeArp);
