/**
 * The packet record: a JSON object whose keys are layer names in decode order,
 * each holding an object of attributes in Title_Snake_Case. The names are the
 * ones filters match on (see src/filter/schema.ts), so one word means one thing
 * from decoder to filter to spool to server.
 *
 * A layer that appears twice in one frame (stacked 802.1Q tags, IP in IP) keeps
 * its plain key for the first occurrence and gets `_2`, `_3`, ... after it.
 *
 * Extra top-level keys (never layers):
 * - `Decode_Errors`: list of {@link DecodeError}, present only when a fault was seen.
 * - `Payload`: bytes left undecoded ({@link PayloadLayer}), when decoding stopped at an
 *   unknown protocol number or an undecoded application payload.
 * - `Netmon`: envelope added by the submitter (record type, agent id, sequence).
 * - `Flow`: the body of a flow record (record type "flow").
 */
export type Layer = Record<string, unknown>;
export type PacketRecord = Record<string, unknown>;

/** One problem met while decoding. Offset is from the start of the frame. */
export interface DecodeError {
  Layer: string;
  Problem: string;
  Offset: number;
}

/** Where decoding stopped with bytes left over. */
export interface PayloadLayer {
  /** Bytes on the wire after the last decoded header (may exceed captured bytes). */
  Length: number;
  /** Bytes of it actually captured. */
  Captured_Length: number;
  /** Why decoding stopped, e.g. "EtherType 0x88b5", "SNAP 00000c:2004". Absent for plain data. */
  Unknown_Protocol?: string;
}

/** Layer keys used by the decoders. Filters validate against these. */
export const LAYER = {
  AF_PACKET: "AF_Packet",
  ETHERNET: "Ethernet",
  VLAN: "802.1Q",
  QINQ: "802.1ad",
  LLC: "LLC",
  SNAP: "SNAP",
  STP: "STP",
  ARP: "ARP",
  IPV4: "IPv4",
  IPV6: "IPv6",
  ICMP: "ICMP",
  ICMPV6: "ICMPv6",
  IGMP: "IGMP",
  TCP: "TCP",
  UDP: "UDP",
  CDP: "CDP",
  LLDP: "LLDP",
} as const;
