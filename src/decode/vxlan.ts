/**
 * VXLAN (RFC 7348, UDP 4789 and Linux's default 8472) with the Group Based Policy
 * extension's flags and group policy id as Wireshark shows them, and VXLAN-GPE
 * (draft-ietf-nvo3-vxlan-gpe, UDP 4790) whose next-protocol byte picks the payload:
 * 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS. Plain VXLAN always carries Ethernet.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE } from "./registry.ts";
import { need, u16 } from "./bytes.ts";
import { decodeEthernet } from "./ethernet.ts";
import { registerUdpProtocol, tunnelLayer } from "./tunnel.ts";

export const LAYER_VXLAN = "VXLAN";
export const LAYER_VXLAN_GPE = "VXLAN_GPE";
export const VXLAN_HEADER_LEN = 8;
export const UDP_PORTS_VXLAN = [4789, 8472];
const UDP_PORT_VXLAN_GPE = 4790;

/** VXLAN-GPE next protocols -> the EtherType whose decoder takes them (Ethernet: TEB). */
const GPE_NEXT: Record<number, number> = {
  1: 0x0800,
  2: 0x86dd,
  3: 0x6558,
  4: 0x894f,
  5: 0x8847,
};

export function decodeVxlan(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  if (!need(f, LAYER_VXLAN, off, end, VXLAN_HEADER_LEN, "VXLAN header")) return;
  const vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
  f.layer(LAYER_VXLAN, {
    Flags: u16(b, off),
    Group_Policy_ID: u16(b, off + 2),
    VNI: vni,
    Reserved: b[off + 7],
  });
  tunnelLayer(f, "VXLAN", { VNI: vni });
  const p = off + VXLAN_HEADER_LEN;
  if (p < end) f.call(decodeEthernet, p, end);
}

function decodeVxlanGpe(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_VXLAN_GPE;
  if (!need(f, name, off, end, VXLAN_HEADER_LEN, "VXLAN-GPE header")) return;
  const flags = b[off];
  const next = b[off + 3];
  const vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
  f.layer(name, {
    Flags: flags,
    Version: (flags >> 4) & 3,
    Next_Protocol: next,
    VNI: vni,
    Reserved: b[off + 7],
  });
  tunnelLayer(f, "VXLAN-GPE", { VNI: vni });
  const p = off + VXLAN_HEADER_LEN;
  if (p >= end) return;
  const et = GPE_NEXT[next];
  if (et === undefined) f.rest(p, end, `VXLAN-GPE next protocol ${next}`);
  else dispatch(ETHERTYPE, et, f, p, end);
}

registerUdpProtocol("vxlan", UDP_PORTS_VXLAN, decodeVxlan);
registerUdpProtocol("vxlan-gpe", [UDP_PORT_VXLAN_GPE], decodeVxlanGpe);
