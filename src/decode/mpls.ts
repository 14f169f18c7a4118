/**
 * MPLS label stacks (RFC 3032; EtherTypes 0x8847/0x8848, GRE, IP protocol 137, MPLS over
 * UDP RFC 7510 on port 6635): one `MPLS` layer whose `Stack` lists every entry (label,
 * traffic class, bottom of stack, TTL), top first.
 *
 * What follows the bottom of the stack is chosen as Wireshark 4.0 does (packet-mpls.c,
 * BCP 4928 / RFC 4385): label 13 (GAL) or a first nibble of 1 is a PW associated channel
 * header (version, channel type); 4 is IPv4, 6 is IPv6; 0 is an Ethernet pseudowire,
 * with or without a control word. Wireshark reads it without one when both MAC
 * addresses have a vendor prefix its database knows; netmon has no vendor database and
 * takes "globally administered unicast" (the two low bits of the first byte clear) as
 * known, which agrees with it for the usual locally administered and Xerox-block cases.
 * Anything else is Payload.
 */
import type { Frame } from "./frame.ts";
import { ETHERTYPE, IP_PROTO, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeIpv4 } from "./ipv4.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { decodeEthernet } from "./ethernet.ts";
import { registerUdpProtocol, tunnelLayer, type TunnelType } from "./tunnel.ts";

export const LAYER_MPLS = "MPLS";
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MULTICAST = 0x8848;
const IP_PROTO_MPLS_IN_IP = 137;
export const UDP_PORT_MPLS = 6635;
const LABEL_GAL = 13;
const ENTRY_LEN = 4;
const CW_LEN = 4;
/**
 * Wireshark's test for an Ethernet pseudowire without a control word: 14 bytes or more,
 * and both addresses with a vendor prefix it knows (here: globally administered unicast).
 */
function looksLikePlainEthernet(f: Frame, off: number, end: number): boolean {
  const b = f.bytes;
  return off + 14 <= end && (b[off] & 3) === 0 && (b[off + 6] & 3) === 0;
}

function decodeStack(f: Frame, off: number, end: number, type: TunnelType): void {
  const b = f.bytes;
  const name = LAYER_MPLS;
  const stack: Layer[] = [];
  const m: Layer = { Stack: stack };
  f.layer(name, m);
  let p = off;
  let label = -1;
  // Each entry consumes 4 bytes, so this ends.
  for (;;) {
    if (!need(f, name, p, end, ENTRY_LEN, "MPLS label stack entry")) return;
    const w = u32(b, p);
    label = w >>> 12;
    const bos = (w >> 8) & 1;
    stack.push({ Label: label, Traffic_Class: (w >> 9) & 7, Bottom_Of_Stack: bos, TTL: w & 0xff });
    p += ENTRY_LEN;
    if (bos === 1) break;
    if (p >= end) {
      f.fault(name, "label stack without a bottom entry", p);
      return;
    }
  }
  tunnelLayer(f, type, { Label: label });
  if (p >= end) return;
  if (!f.has(p, 1)) {
    f.truncated(name, p);
    return;
  }
  const nibble = b[p] >> 4;
  if (label === LABEL_GAL || nibble === 1) {
    m.Payload_Type = "PW Associated Channel";
    if (!need(f, name, p, end, 4, "PW associated channel header")) return;
    const ch = u16(b, p + 2);
    m.PW_ACH = { Version: b[p] & 0x0f, Reserved: b[p + 1], Channel_Type: ch };
    f.rest(p + 4, end, `PW channel type 0x${ch.toString(16).padStart(4, "0")}`);
  } else if (nibble === 4) {
    m.Payload_Type = "IPv4";
    f.call(decodeIpv4, p, end);
  } else if (nibble === 6) {
    m.Payload_Type = "IPv6";
    f.call(decodeIpv6, p, end);
  } else if (nibble === 0) {
    if (p + 14 <= end && !f.has(p, 7)) {
      // The choice reads both addresses' first bytes: cut before them, it cannot be made.
      f.truncated(name, p);
      return;
    }
    const cw = !looksLikePlainEthernet(f, p, end);
    if (cw) {
      m.Payload_Type = "Ethernet with control word";
      if (!need(f, name, p, end, CW_LEN, "pseudowire control word")) return;
      m.Control_Word_Sequence_Number = u16(b, p + 2);
      p += CW_LEN;
    } else m.Payload_Type = "Ethernet";
    if (p < end) f.call(decodeEthernet, p, end);
  } else f.rest(p, end);
}

export function decodeMpls(f: Frame, off: number, end: number): void {
  decodeStack(f, off, end, "MPLS");
}

register(ETHERTYPE, ETHERTYPE_MPLS, decodeMpls);
register(ETHERTYPE, ETHERTYPE_MPLS_MULTICAST, decodeMpls);
register(IP_PROTO, IP_PROTO_MPLS_IN_IP, decodeMpls);
registerUdpProtocol(
  "mpls",
  [UDP_PORT_MPLS],
  (f, off, end) => decodeStack(f, off, end, "MPLS-over-UDP"),
);
