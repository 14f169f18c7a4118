/**
 * Differential comparison of netmon's decoders with tshark, frame by frame.
 *
 * Every capture is decoded by netmon (the capture file reader and decodeFrame, as
 * tests/helpers/decode_file.ts does) and by `tshark -T fields`, and the fields of
 * {@link TABLE} are compared. Mismatches print as `file#frame field: netmon=X tshark=Y`,
 * then a summary; the exit status is 1 when anything disagrees.
 *
 * Usage:
 *   deno run -A scripts/tshark_diff.ts [--max N] [--quiet] [--explain] [--strict] [--jobs N] \
 *     FILE...
 *     --max N     print at most N mismatch lines per file (default 50; all are counted)
 *     --quiet     print only the per-file summaries
 *     --explain   also list the frames compared leniently (one side decoded deeper) and
 *                 those tshark found malformed where netmon recorded no problem
 *     --strict    no leniency on faulted layers (see CompareOptions)
 *     --jobs N    files compared at the same time (default 4); output stays in file order
 *
 * The comparison rules (see docs/conformance.md for the reasons):
 * - tshark runs with checksum verification on (ip/tcp/udp), absolute TCP sequence
 *   numbers, and IPv4/IPv6 reassembly and TCP desegmentation off: netmon decodes each
 *   frame on its own, so a first fragment is decoded as far as it goes in both.
 * - Values are compared after normalisation: numbers as decimal (tshark prints many
 *   in hex), booleans as 1/0, IPv6 addresses as printed (RFC 5952 text, compared as
 *   is, so a formatting difference shows), checksum status codes
 *   0 bad, 1 good, 2 unverified, 3 "not present" = absent, 4 "illegal" = bad.
 * - Repeated fields (stacked tags, IP in IP, options) are compared as ordered lists.
 * - Protocol chains: netmon's layers (ICMP error quotes counted as the layers they
 *   summarise) are matched against tshark's frame.protocols. Where tshark goes deeper
 *   than netmon (tunnels such as GRE or VXLAN, application payloads, the full quoted
 *   datagram of an ICMP error), only the occurrences netmon has are compared for the
 *   protocols tshark found deeper. Where netmon stops before a protocol it decodes
 *   without having recorded a decode error at that point, that is a `layers` mismatch.
 * - Faulted layers (a netmon Decode_Error, or a tshark exception: _ws.malformed,
 *   _ws.short): only what both sides show is compared; layers netmon decoded past the
 *   point where tshark gave up are not compared.
 * - Besides fields: a frame whose decoder threw (a "decoder error" Decode_Error) is
 *   `netmon.exception`; a record that does not survive JSON.stringify/parse
 *   unchanged (undefined, NaN, bigint, integers past 2^53) is `netmon.json`.
 *
 * @example
 * ```ts
 * const r = await diffCapture("fixtures/pcaps/dns_udp.pcap");
 * console.log(r.frames, r.count);
 * ```
 */
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import type { PacketRecord } from "../src/decode/record.ts";
import { CHECKSUM_PREFS } from "../tests/helpers/tshark.ts";

type L = Record<string, unknown>;

/** How both sides' text is normalised before comparing. */
type Kind = "num" | "text" | "mac" | "ip6" | "bool" | "status" | "hex";

/** One row of the mapping table: a netmon record key and the tshark field that shows it. */
export interface Row {
  /**
   * netmon key: `Layer.Attr[.Sub]`; the layer matches every occurrence (`Layer`,
   * `Layer_2`...); `[]` after a segment flattens a list (`TCP.Options[].Kind`);
   * `a|b` (same layer) takes the values of both, in that order, per occurrence.
   */
  key: string;
  /** tshark field; alternatives `a|b` (per frame the first non-empty one is used). */
  tshark: string;
  kind: Kind;
  /** Turns netmon's value into the compared one (e.g. a flags object into its bits). */
  conv?: (v: unknown, layer: L) => unknown;
  /** Turns tshark's (normalised) text into the compared one. */
  fromTshark?: (v: string) => string;
  /**
   * netmon keeps one value of a TLV that may repeat (CDP, LLDP): tshark lists every copy,
   * so each netmon value only has to be among tshark's.
   */
  oneOfMany?: boolean;
  /** Equality of one netmon value with one tshark value (default: same text). */
  eq?: (ours: string, theirs: string) => boolean;
  /** Attribute of an ICMP/ICMPv6 error's `Quoted` summary holding the same field. */
  quoted?: string;
  /** When false for a layer occurrence, the row is not compared in that frame. */
  when?: (layer: L) => boolean;
  /** Frames where this row is not compared (documented representation differences). */
  skip?: (rec: PacketRecord) => boolean;
}

/** netmon layer key -> the tshark protocol name in frame.protocols. */
export const LAYER_PROTO: Record<string, string> = {
  Ethernet: "eth",
  ISL: "eth", // tshark's eth dissector shows the ISL header as a first "eth"
  SLL: "sll",
  "802.1Q": "vlan",
  "802.1ad": "ieee8021ad",
  LLC: "llc",
  SNAP: "llc",
  STP: "stp",
  ARP: "arp",
  IPv4: "ip",
  IPv6: "ipv6",
  ICMP: "icmp",
  ICMPv6: "icmpv6",
  IGMP: "igmp",
  TCP: "tcp",
  UDP: "udp",
  CDP: "cdp",
  LLDP: "lldp",
  // tunnels and what they carry
  VXLAN: "vxlan",
  VXLAN_GPE: "vxlan",
  Geneve: "geneve",
  GRE: "gre",
  ERSPAN: "erspan",
  MPLS: "mpls",
  PPPoE_Discovery: "pppoed",
  PPPoE_Session: "pppoes",
  PPP: "ppp",
  LCP: "lcp",
  IPCP: "ipcp",
  IPV6CP: "ipv6cp",
  L2TP: "l2tp",
  GTP: "gtp",
  Teredo: "teredo",
  NSH: "nsh",
  MACsec: "macsec",
  PIM: "pim",
  Arista: "avsp",
  Reassembly: "ip",
};
/**
 * Layers whose fields are compared but that are no protocol of tshark's frame.protocols:
 * the reassembly summary (fields of tshark's ip/ipv6), VXLAN-GPE (tshark 4.0 does not
 * list it there).
 */
const SUMMARY_LAYERS = new Set(["Reassembly", "VXLAN_GPE"]);
/** tshark protocol names that are part of a netmon layer rather than a layer of their own. */
const SKIP_PROTOS = new Set([
  "ethertype",
  "ipv6.hopopts",
  "ipv6.routing",
  "ipv6.fraghdr",
  "ipv6.dstopts",
  "ah",
  "esp",
  "_ws.malformed",
  "_ws.short",
  "_ws.expert",
  "_ws.unreassembled",
]);
/** tshark's protocol short names in "[Malformed Packet: X]" -> frame.protocols names. */
const MALFORMED_PROTO: Record<string, string[]> = {
  Ethernet: ["eth"],
  VLAN: ["vlan"],
  "IEEE 802.1AD": ["ieee8021ad"],
  "ARP/RARP": ["arp"],
  IPv4: ["ip"],
  IPv6: ["ipv6"],
  // extension headers are part of netmon's IPv6 layer (AH/ESP of either IP version)
  "IPv6 Hop-by-Hop": ["ipv6"],
  "IPv6 Destination": ["ipv6"],
  "IPv6 Routing": ["ipv6"],
  "IPv6 Fragment": ["ipv6"],
  AH: ["ip", "ipv6"],
  ESP: ["ip", "ipv6"],
};

/** Protocols that cannot directly follow themselves: a repeat in frame.protocols is one layer. */
const ONCE = new Set(["igmp", "llc", "arp", "stp", "cdp", "lldp", "tcp", "udp", "icmp", "icmpv6"]);
/** Extension headers as tshark names them in frame.protocols -> header number. */
const EXT_PROTOS: Record<string, number> = {
  "ipv6.hopopts": 0,
  "ipv6.routing": 43,
  "ipv6.fraghdr": 44,
  "ipv6.dstopts": 60,
  ah: 51,
  esp: 50,
};

// ---- netmon value converters -------------------------------------------------------------

const TCP_BITS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"];
/** TCP.Flags object -> the low 9 bits of tshark's tcp.flags (reserved bits: own row). */
const tcpFlags = (v: unknown) => {
  const fl = v as Record<string, boolean>;
  return TCP_BITS.reduce((a, b, i) => a | (fl[b] ? 1 << i : 0), 0);
};
/** IPv4.Flags object -> tshark's 3-bit ip.flags. */
const ipFlags = (v: unknown) => {
  const f = v as Record<string, boolean>;
  return (f.Reserved ? 4 : 0) | (f.DF ? 2 : 0) | (f.MF ? 1 : 0);
};
/** DSCP and ECN -> the DS field byte. */
const dsfield = (_v: unknown, l: L) => (Number(l.DSCP) << 2) | Number(l.ECN);
/** "prio/ext/mac" bridge ids -> one part. */
const idPart = (i: number) => (v: unknown) => {
  const p = String(v).split("/");
  return i === 2 ? p.slice(2).join("/") : Number(p[i]);
};
/** "00:00:0c" -> number. */
const ouiNum = (v: unknown) => parseInt(String(v).replaceAll(":", ""), 16);
/** tshark shows the text subtypes of the LLDP chassis id (1, 2, 6, 7) as bytes: decode them. */
const utf8OfHex = (v: string) =>
  /^([0-9a-f]{2})+$/i.test(v)
    ? new TextDecoder().decode(new Uint8Array(v.match(/../g)!.map((h) => parseInt(h, 16))))
    : v;
/** LLDP network-address ids of an unknown family: netmon shows hex, tshark raw characters. */
const lldpAddrKnown = (id: string, sub: string) => (l: L) =>
  Number(l[sub]) !== (sub === "Chassis_ID_Subtype" ? 5 : 4) || /[.:]/.test(String(l[id]));
const STP_FLAG_BITS: Record<string, number> = {
  Topology_Change_Ack: 0x80,
  Agreement: 0x40,
  Forwarding: 0x20,
  Learning: 0x10,
  Proposal: 0x02,
  Topology_Change: 0x01,
};
const PORT_ROLES = ["Unknown", "Alternate or Backup", "Root", "Designated"];
/** Config BPDUs define only TC and TCA: the other bits are compared for RST/MST BPDUs. */
const stpFlags = (v: unknown, l: L) => {
  let n = 0;
  const f = v as Record<string, boolean>;
  for (const [k, bit] of Object.entries(STP_FLAG_BITS)) if (f[k]) n |= bit;
  if (typeof l.Port_Role === "string") n |= PORT_ROLES.indexOf(l.Port_Role) << 2;
  return n;
};
/**
 * Text compared without control characters: tshark -T fields writes some raw, escapes
 * others (\\b, \\n...) depending on the field; netmon keeps them as JSON escapes.
 */
const stripControls = (v: string) =>
  [...v.replace(/\\[abfnrtv]/g, "")].filter((c) =>
    c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f
  )
    .join("");

const igmpMember = (l: L) => l.Version !== 0;
/** tshark names the SNAP PID field after the OUI (llc.type for the EtherType OUIs). */
const SNAP_PID_FIELDS = [
  "llc.pid",
  "llc.type",
  "llc.cisco_pid",
  "llc.iana_pid",
  "llc.apple_atalk_pid",
  "llc.apple_awdl_pid",
  "llc.bluetooth_pid",
  "llc.cimetrics_pid",
  "llc.extreme_pid",
  "llc.force10_pid",
  "llc.foundry_pid",
  "llc.hpteam_pid",
  "llc.nortel_pid",
  "llc.wlccp_pid",
].join("|");
/** IPv4 option types tshark 4.0 dissects (packet-ip.c ipopts[]). */
const TSHARK_IPV4_OPTIONS = new Set(
  "0 1 7 11 12 25 68 82 130 131 133 134 136 137 148 149".split(" ").map(Number),
);
/** UDP over a frame cut inside the IP payload: tshark verifies only a fully captured payload. */
function udpCutShort(rec: PacketRecord): boolean {
  const af = rec.AF_Packet as L | undefined;
  if (af === undefined || Number(af.Captured_Length) >= Number(af.Length)) return false;
  const ip = rec.IPv4 as L | undefined;
  const udp = rec.UDP as L | undefined;
  if (ip === undefined || udp === undefined) return false;
  return Number(udp.Length) < Number(ip.Total_Length) - Number(ip.Header_Length);
}
const low9 = (v: string) => /^\d+$/.test(v) ? String(Number(v) & 0x1ff) : v;
const reserved3 = (v: string) => /^\d+$/.test(v) ? String((Number(v) >> 9) & 7) : v;

/**
 * True when an IP header of the frame says the frame is a fragment (MF or an offset) and
 * the frame did not complete a reassembled datagram.
 */
function fragmented(rec: PacketRecord): boolean {
  if (rec.Reassembly !== undefined) return false;
  for (const [k, v] of Object.entries(rec)) {
    const l = v as L;
    if (/^IPv4(_\d+)?$/.test(k)) {
      if ((l.Flags as L | undefined)?.MF || Number(l.Fragment_Offset) > 0) return true;
    } else if (/^IPv6(_\d+)?$/.test(k)) {
      for (const h of (l.Extension_Headers as L[] | undefined) ?? []) {
        if (h.Header_Type === 44 && (h.More_Fragments || Number(h.Fragment_Offset) > 0)) {
          return true;
        }
      }
    }
  }
  return false;
}

/** Tunnels, what they carry, and IP reassembly (issue 15). */
const TUNNEL_ROWS: Row[] = [
  { key: "VXLAN.Flags|VXLAN_GPE.Flags", tshark: "vxlan.flags", kind: "num" },
  { key: "VXLAN.Group_Policy_ID", tshark: "vxlan.gbp", kind: "num" },
  { key: "VXLAN.VNI|VXLAN_GPE.VNI", tshark: "vxlan.vni", kind: "num" },
  { key: "VXLAN.Reserved|VXLAN_GPE.Reserved", tshark: "vxlan.reserved8", kind: "num" },
  { key: "VXLAN_GPE.Next_Protocol", tshark: "vxlan.next_proto", kind: "num" },
  { key: "Geneve.Version", tshark: "geneve.version", kind: "num" },
  {
    key: "Geneve.Options_Length|Geneve.Options[].Length",
    tshark: "geneve.option.length",
    kind: "num",
  },
  { key: "Geneve.OAM", tshark: "geneve.flags.oam", kind: "bool" },
  { key: "Geneve.Critical", tshark: "geneve.flags.critical", kind: "bool" },
  { key: "Geneve.Protocol_Type", tshark: "geneve.proto_type", kind: "num" },
  { key: "Geneve.VNI", tshark: "geneve.vni", kind: "num" },
  { key: "Geneve.Options[].Class", tshark: "geneve.option.class", kind: "num" },
  { key: "Geneve.Options[].Type", tshark: "geneve.option.type", kind: "num" },
  { key: "GRE.Flags_And_Version", tshark: "gre.flags_and_version", kind: "num" },
  { key: "GRE.Protocol_Type", tshark: "gre.proto", kind: "num" },
  { key: "GRE.Checksum", tshark: "gre.checksum", kind: "num" },
  { key: "GRE.Checksum_Status", tshark: "gre.checksum.status", kind: "status" },
  { key: "GRE.Offset", tshark: "gre.offset", kind: "num" },
  { key: "GRE.Key", tshark: "gre.key", kind: "num" },
  { key: "GRE.Payload_Length", tshark: "gre.key.payload_length", kind: "num" },
  { key: "GRE.Call_ID", tshark: "gre.key.call_id", kind: "num" },
  { key: "GRE.Sequence_Number", tshark: "gre.sequence_number", kind: "num" },
  { key: "GRE.Acknowledgment_Number", tshark: "gre.ack_number", kind: "num" },
  { key: "GRE.Routing[].Address_Family", tshark: "gre.routing.address_family", kind: "num" },
  { key: "GRE.Routing[].SRE_Offset", tshark: "gre.routing.sre_offset", kind: "num" },
  { key: "GRE.Routing[].SRE_Length", tshark: "gre.routing.src_length", kind: "num" },
  { key: "GRE.WCCP_Redirect.Service_ID", tshark: "gre.wccp.service_id", kind: "num" },
  { key: "GRE.WCCP_Redirect.Primary_Bucket", tshark: "gre.wccp.primary_bucket", kind: "num" },
  {
    key: "GRE.WCCP_Redirect.Alternative_Bucket",
    tshark: "gre.wccp.alternative_bucket",
    kind: "num",
  },
  { key: "ERSPAN.Version", tshark: "erspan.version", kind: "num" },
  { key: "ERSPAN.VLAN", tshark: "erspan.vlan", kind: "num" },
  { key: "ERSPAN.COS", tshark: "erspan.cos", kind: "num" },
  { key: "ERSPAN.Encapsulation_Type", tshark: "erspan.encap", kind: "num" },
  { key: "ERSPAN.BSO", tshark: "erspan.bso", kind: "num" },
  { key: "ERSPAN.Truncated", tshark: "erspan.truncated", kind: "num" },
  { key: "ERSPAN.Session_ID", tshark: "erspan.spanid", kind: "num" },
  { key: "ERSPAN.Index", tshark: "erspan.index", kind: "num" },
  { key: "ERSPAN.Timestamp", tshark: "erspan.timestamp", kind: "num" },
  { key: "ERSPAN.SGT", tshark: "erspan.sgt", kind: "num" },
  { key: "ERSPAN.Frame_Type", tshark: "erspan.ft", kind: "num" },
  { key: "ERSPAN.Hardware_ID", tshark: "erspan.hw", kind: "num" },
  { key: "ERSPAN.Direction", tshark: "erspan.direction", kind: "num" },
  { key: "ERSPAN.Granularity", tshark: "erspan.gra", kind: "num" },
  { key: "ERSPAN.Optional_Subheader", tshark: "erspan.o", kind: "bool" },
  { key: "MPLS.Stack[].Label", tshark: "mpls.label", kind: "num" },
  { key: "MPLS.Stack[].Traffic_Class", tshark: "mpls.exp", kind: "num" },
  { key: "MPLS.Stack[].Bottom_Of_Stack", tshark: "mpls.bottom", kind: "num" },
  { key: "MPLS.Stack[].TTL", tshark: "mpls.ttl", kind: "num" },
  {
    key: "MPLS.Control_Word_Sequence_Number",
    tshark: "pweth.cw.sequence_number",
    kind: "num",
  },
  { key: "MPLS.PW_ACH.Channel_Type", tshark: "pwach.channel_type", kind: "num" },
  { key: "PPPoE_Discovery.Version|PPPoE_Session.Version", tshark: "pppoe.version", kind: "num" },
  { key: "PPPoE_Discovery.Type|PPPoE_Session.Type", tshark: "pppoe.type", kind: "num" },
  { key: "PPPoE_Discovery.Code|PPPoE_Session.Code", tshark: "pppoe.code", kind: "num" },
  {
    key: "PPPoE_Discovery.Session_ID|PPPoE_Session.Session_ID",
    tshark: "pppoe.session_id",
    kind: "num",
  },
  {
    key: "PPPoE_Discovery.Payload_Length|PPPoE_Session.Payload_Length",
    tshark: "pppoe.payload_length",
    kind: "num",
  },
  { key: "PPP.Address", tshark: "ppp.address", kind: "num" },
  { key: "PPP.Control", tshark: "ppp.control", kind: "num" },
  { key: "PPP.Protocol", tshark: "ppp.protocol", kind: "num" },
  { key: "LCP.Code|IPCP.Code|IPV6CP.Code", tshark: "ppp.code", kind: "num" },
  {
    key: "LCP.Identifier|IPCP.Identifier|IPV6CP.Identifier",
    tshark: "ppp.identifier",
    kind: "num",
  },
  { key: "LCP.Length|IPCP.Length|IPV6CP.Length", tshark: "ppp.length", kind: "num" },
  { key: "LCP.Options[].Type", tshark: "lcp.opt.type", kind: "num" },
  { key: "LCP.Options[].MRU", tshark: "lcp.opt.mru", kind: "num" },
  { key: "IPCP.Options[].Type", tshark: "ipcp.opt.type", kind: "num" },
  { key: "IPCP.Options[].Address", tshark: "ipcp.opt.ip_address", kind: "text" },
  { key: "L2TP.Flags", tshark: "l2tp.flags", kind: "num" },
  { key: "L2TP.Type", tshark: "l2tp.type", kind: "num" },
  { key: "L2TP.Version", tshark: "l2tp.version", kind: "num" },
  { key: "L2TP.Length", tshark: "l2tp.length", kind: "num" },
  { key: "L2TP.Tunnel_ID", tshark: "l2tp.tunnel", kind: "num" },
  { key: "L2TP.Session_ID", tshark: "l2tp.session", kind: "num" },
  { key: "L2TP.Ns", tshark: "l2tp.Ns", kind: "num" },
  { key: "L2TP.Nr", tshark: "l2tp.Nr", kind: "num" },
  { key: "L2TP.AVPs[].Type", tshark: "l2tp.avp.type", kind: "num" },
  { key: "L2TP.AVPs[].Length", tshark: "l2tp.avp.length", kind: "num" },
  { key: "L2TP.AVPs[].Vendor_ID", tshark: "l2tp.avp.vendor_id", kind: "num" },
  { key: "L2TP.AVPs[].Message_Type", tshark: "l2tp.avp.message_type", kind: "num" },
  { key: "GTP.Flags", tshark: "gtp.flags", kind: "num" },
  { key: "GTP.Message_Type", tshark: "gtp.message", kind: "num" },
  { key: "GTP.Length", tshark: "gtp.length", kind: "num" },
  { key: "GTP.TEID", tshark: "gtp.teid", kind: "num" },
  { key: "GTP.Sequence_Number", tshark: "gtp.seq_number", kind: "num" },
  { key: "GTP.N_PDU_Number", tshark: "gtp.npdu_number", kind: "num" },
  {
    key: "GTP.Next_Extension_Header_Type|GTP.Extension_Headers[].Next_Type",
    tshark: "gtp.ext_hdr.next",
    kind: "num",
  },
  { key: "Teredo.Origin_Port", tshark: "teredo.orig.port", kind: "num" },
  { key: "Teredo.Origin_Address", tshark: "teredo.orig.addr", kind: "text" },
  { key: "Teredo.Client_ID_Length", tshark: "teredo.auth.idlen", kind: "num" },
  { key: "Teredo.Auth_Value_Length", tshark: "teredo.auth.aulen", kind: "num" },
  { key: "Teredo.Nonce", tshark: "teredo.auth.nonce", kind: "hex" },
  { key: "Teredo.Confirmation", tshark: "teredo.auth.conf", kind: "num" },
  { key: "NSH.Version", tshark: "nsh.version", kind: "num" },
  { key: "NSH.OAM", tshark: "nsh.Obit", kind: "num" },
  { key: "NSH.C", tshark: "nsh.CBit", kind: "num" },
  { key: "NSH.TTL", tshark: "nsh.ttl", kind: "num" },
  { key: "NSH.Length", tshark: "nsh.length", kind: "num" },
  { key: "NSH.MD_Type", tshark: "nsh.mdtype", kind: "num" },
  { key: "NSH.Next_Protocol", tshark: "nsh.nextproto", kind: "num" },
  { key: "NSH.Service_Path_ID", tshark: "nsh.spi", kind: "num" },
  { key: "NSH.Service_Index", tshark: "nsh.si", kind: "num" },
  { key: "MACsec.TCI", tshark: "macsec.TCI", kind: "num" },
  { key: "MACsec.Association_Number", tshark: "macsec.AN", kind: "num" },
  { key: "MACsec.Short_Length", tshark: "macsec.SL", kind: "num" },
  { key: "MACsec.Packet_Number", tshark: "macsec.PN", kind: "num" },
  { key: "MACsec.SCI_System_Identifier", tshark: "macsec.SCI.system_identifier", kind: "mac" },
  { key: "MACsec.SCI_Port_Identifier", tshark: "macsec.SCI.port_identifier", kind: "num" },
  { key: "MACsec.EtherType", tshark: "macsec.etype", kind: "num" },
  { key: "MACsec.ICV", tshark: "macsec.ICV", kind: "hex" },
  { key: "PIM.Version", tshark: "pim.version", kind: "num" },
  { key: "PIM.Type", tshark: "pim.type", kind: "num" },
  { key: "PIM.Checksum", tshark: "pim.cksum", kind: "num" },
  { key: "PIM.Checksum_Status", tshark: "pim.cksum.status", kind: "status" },
  { key: "PIM.Border", tshark: "pim.register_flag.border", kind: "bool" },
  { key: "PIM.Null_Register", tshark: "pim.register_flag.null_register", kind: "bool" },
  { key: "Arista.Subtype", tshark: "avsp.sub_type", kind: "num" },
  { key: "Arista.Version", tshark: "avsp.ver", kind: "num" },
  { key: "Arista.Timestamp_Seconds", tshark: "avsp.64sec|avsp.48sec", kind: "num" },
  { key: "Arista.Timestamp_Nanoseconds", tshark: "avsp.64ns|avsp.48ns", kind: "num" },
  { key: "Arista.EtherType", tshark: "avsp.etype", kind: "num" },
  {
    key: "Reassembly.Length",
    tshark: "ip.reassembled.length|ipv6.reassembled.length",
    kind: "num",
  },
  {
    key: "Reassembly.Fragment_Count",
    tshark: "ip.fragment.count|ipv6.fragment.count",
    kind: "num",
  },
];

/**
 * THE mapping table: netmon record key -> tshark field. Order is output order.
 * Kinds: num (tshark hex or decimal), text, mac, ip6, bool (1/0), status (checksums).
 */
export const TABLE: Row[] = [
  { key: "Ethernet.Source_Address", tshark: "eth.src", kind: "mac" },
  { key: "Ethernet.Destination_Address", tshark: "eth.dst", kind: "mac" },
  { key: "Ethernet.EtherType", tshark: "eth.type", kind: "num" },
  { key: "Ethernet.Length", tshark: "eth.len", kind: "num" },
  { key: "802.1Q.VLAN_ID", tshark: "vlan.id", kind: "num" },
  { key: "802.1Q.Priority", tshark: "vlan.priority", kind: "num" },
  { key: "802.1Q.DEI", tshark: "vlan.dei", kind: "num" },
  { key: "802.1Q.EtherType", tshark: "vlan.etype", kind: "num" },
  { key: "802.1ad.VLAN_ID", tshark: "ieee8021ad.id", kind: "num" },
  { key: "802.1ad.Priority", tshark: "ieee8021ad.priority", kind: "num" },
  { key: "LLC.DSAP", tshark: "llc.dsap", kind: "num" },
  { key: "LLC.SSAP", tshark: "llc.ssap", kind: "num" },
  { key: "LLC.Control", tshark: "llc.control", kind: "num" },
  { key: "SNAP.OUI", tshark: "llc.oui", kind: "num", conv: ouiNum },
  // tshark names the PID field after the OUI: llc.type (EtherType OUIs), llc.cisco_pid, llc.pid.
  { key: "SNAP.Protocol_ID", tshark: SNAP_PID_FIELDS, kind: "num" },
  { key: "ARP.Hardware_Type", tshark: "arp.hw.type", kind: "num" },
  { key: "ARP.Protocol_Type", tshark: "arp.proto.type", kind: "num" },
  { key: "ARP.Hardware_Size", tshark: "arp.hw.size", kind: "num" },
  { key: "ARP.Protocol_Size", tshark: "arp.proto.size", kind: "num" },
  { key: "ARP.Operation", tshark: "arp.opcode", kind: "num" },
  { key: "ARP.Sender_Hardware_Address", tshark: "arp.src.hw_mac|arp.src.hw", kind: "text" },
  { key: "ARP.Sender_Protocol_Address", tshark: "arp.src.proto_ipv4|arp.src.proto", kind: "text" },
  { key: "ARP.Target_Hardware_Address", tshark: "arp.dst.hw_mac|arp.dst.hw", kind: "text" },
  { key: "ARP.Target_Protocol_Address", tshark: "arp.dst.proto_ipv4|arp.dst.proto", kind: "text" },
  // tshark's ip.version is shown for IPv6 headers too.
  { key: "IPv4.Version|IPv6.Version", tshark: "ip.version", kind: "num", quoted: "Version" },
  { key: "IPv4.Header_Length", tshark: "ip.hdr_len", kind: "num", quoted: "Header_Length" },
  { key: "IPv4.DSCP", tshark: "ip.dsfield", kind: "num", conv: dsfield },
  { key: "IPv4.Total_Length", tshark: "ip.len", kind: "num", quoted: "Total_Length" },
  { key: "IPv4.Identification", tshark: "ip.id", kind: "num", quoted: "Identification" },
  { key: "IPv4.Flags", tshark: "ip.flags", kind: "num", conv: ipFlags },
  { key: "IPv4.Fragment_Offset", tshark: "ip.frag_offset", kind: "num" },
  { key: "IPv4.TTL", tshark: "ip.ttl", kind: "num", quoted: "TTL" },
  { key: "IPv4.Protocol", tshark: "ip.proto", kind: "num", quoted: "Protocol" },
  { key: "IPv4.Checksum", tshark: "ip.checksum", kind: "num" },
  { key: "IPv4.Checksum_Status", tshark: "ip.checksum.status", kind: "status" },
  { key: "IPv4.Source_Address", tshark: "ip.src", kind: "text", quoted: "Source_Address" },
  {
    key: "IPv4.Destination_Address",
    tshark: "ip.dst",
    kind: "text",
    quoted: "Destination_Address",
  },
  // tshark 4.0 shows options of other types only as text (no ip.opt.type).
  {
    key: "IPv4.Options[].Type",
    tshark: "ip.opt.type",
    kind: "num",
    conv: (t) => TSHARK_IPV4_OPTIONS.has(Number(t)) ? t : undefined,
  },
  { key: "IPv6.Version", tshark: "ipv6.version", kind: "num", quoted: "Version" },
  { key: "IPv6.Traffic_Class", tshark: "ipv6.tclass", kind: "num" },
  { key: "IPv6.Flow_Label", tshark: "ipv6.flow", kind: "num" },
  { key: "IPv6.Payload_Length", tshark: "ipv6.plen", kind: "num", quoted: "Payload_Length" },
  { key: "IPv6.Next_Header", tshark: "ipv6.nxt", kind: "num", quoted: "Next_Header" },
  { key: "IPv6.Hop_Limit", tshark: "ipv6.hlim", kind: "num", quoted: "Hop_Limit" },
  { key: "IPv6.Source_Address", tshark: "ipv6.src", kind: "ip6", quoted: "Source_Address" },
  {
    key: "IPv6.Destination_Address",
    tshark: "ipv6.dst",
    kind: "ip6",
    quoted: "Destination_Address",
  },
  { key: "TCP.Source_Port", tshark: "tcp.srcport", kind: "num", quoted: "Source_Port" },
  { key: "TCP.Destination_Port", tshark: "tcp.dstport", kind: "num", quoted: "Destination_Port" },
  // tshark has no tcp.seq_raw in an ICMP quote; tcp.seq is absolute here (prefs).
  {
    key: "TCP.Sequence_Number",
    tshark: "tcp.seq_raw|tcp.seq",
    kind: "num",
    quoted: "Sequence_Number",
  },
  { key: "TCP.Acknowledgment_Number", tshark: "tcp.ack_raw", kind: "num" },
  { key: "TCP.Header_Length", tshark: "tcp.hdr_len", kind: "num" },
  { key: "TCP.Flags", tshark: "tcp.flags", kind: "num", conv: tcpFlags, fromTshark: low9 },
  { key: "TCP.Reserved", tshark: "tcp.flags", kind: "num", fromTshark: reserved3 },
  { key: "TCP.Window", tshark: "tcp.window_size_value", kind: "num" },
  { key: "TCP.Checksum", tshark: "tcp.checksum", kind: "num" },
  { key: "TCP.Checksum_Status", tshark: "tcp.checksum.status", kind: "status" },
  { key: "TCP.Urgent_Pointer", tshark: "tcp.urgent_pointer", kind: "num" },
  // A fragment's TCP payload is not the segment's: tshark does not say (docs/conformance.md).
  { key: "TCP.Payload_Length", tshark: "tcp.len", kind: "num", skip: fragmented },
  { key: "TCP.Options[].Kind", tshark: "tcp.option_kind", kind: "num" },
  { key: "UDP.Source_Port", tshark: "udp.srcport", kind: "num", quoted: "Source_Port" },
  { key: "UDP.Destination_Port", tshark: "udp.dstport", kind: "num", quoted: "Destination_Port" },
  { key: "UDP.Length", tshark: "udp.length", kind: "num" },
  { key: "UDP.Checksum", tshark: "udp.checksum", kind: "num" },
  { key: "UDP.Checksum_Status", tshark: "udp.checksum.status", kind: "status", skip: udpCutShort },
  { key: "ICMP.Type", tshark: "icmp.type", kind: "num", quoted: "Type" },
  { key: "ICMP.Code", tshark: "icmp.code", kind: "num", quoted: "Code" },
  { key: "ICMP.Checksum_Status", tshark: "icmp.checksum.status", kind: "status" },
  { key: "ICMPv6.Type", tshark: "icmpv6.type", kind: "num", quoted: "Type" },
  { key: "ICMPv6.Code", tshark: "icmpv6.code", kind: "num", quoted: "Code" },
  { key: "ICMPv6.Checksum_Status", tshark: "icmpv6.checksum.status", kind: "status" },
  // IGMP Version 0 = not a membership message (DVMRP, PIM v1, mtrace, MRD): tshark hands
  // those to other dissectors with their own fields; they are not compared.
  { key: "IGMP.Version", tshark: "igmp.version", kind: "num", when: igmpMember },
  { key: "IGMP.Type", tshark: "igmp.type", kind: "num", when: igmpMember },
  // IGMPv1 has no Max Resp Time (unused byte): tshark shows none.
  {
    key: "IGMP.Max_Response_Time",
    tshark: "igmp.max_resp",
    kind: "num",
    when: (l) => Number(l.Version) > 1,
  },
  {
    key: "IGMP.Checksum_Status",
    tshark: "igmp.checksum.status",
    kind: "status",
    when: igmpMember,
  },
  {
    key: "IGMP.Group_Address|IGMP.Group_Records[].Multicast_Address",
    tshark: "igmp.maddr",
    kind: "text",
    when: igmpMember,
  },
  { key: "STP.Protocol_Version", tshark: "stp.version", kind: "num" },
  { key: "STP.BPDU_Type", tshark: "stp.type", kind: "num" },
  {
    key: "STP.Flags",
    tshark: "stp.flags",
    kind: "num",
    conv: stpFlags,
    when: (l) => l.BPDU_Type !== 0,
  },
  // tshark's flag fields repeat for each MSTI record after the CIST's.
  {
    key: "STP.Flags.Topology_Change|STP.MST.MSTIs[].Flags.Topology_Change",
    tshark: "stp.flags.tc",
    kind: "bool",
  },
  {
    key: "STP.Flags.Topology_Change_Ack|STP.MST.MSTIs[].Flags.Topology_Change_Ack",
    tshark: "stp.flags.tcack",
    kind: "bool",
  },
  { key: "STP.Root_ID", tshark: "stp.root.prio", kind: "num", conv: idPart(0) },
  { key: "STP.Root_ID", tshark: "stp.root.hw", kind: "mac", conv: idPart(2) },
  { key: "STP.Root_Path_Cost", tshark: "stp.root.cost", kind: "num" },
  { key: "STP.Bridge_ID", tshark: "stp.bridge.prio", kind: "num", conv: idPart(0) },
  { key: "STP.Bridge_ID", tshark: "stp.bridge.hw", kind: "mac", conv: idPart(2) },
  { key: "STP.Port_ID", tshark: "stp.port", kind: "num" },
  {
    key: "LLDP.Chassis_ID",
    oneOfMany: true,
    tshark: "lldp.chassis.id.mac|lldp.chassis.id.ip4|lldp.chassis.id.ip6|lldp.chassis.id",
    kind: "text",
    // Text subtypes: tshark gives the bytes in hex; netmon text, or hex when not text.
    // (up to a NUL byte: both stop showing the text there).
    eq: (ours, theirs) =>
      ours === theirs || ours === stripControls(utf8OfHex(theirs)) ||
      ours === stripControls(utf8OfHex(theirs.replace(/^((?:[0-9a-f]{2})*?)00.*$/i, "$1"))),
    when: lldpAddrKnown("Chassis_ID", "Chassis_ID_Subtype"),
  },
  {
    key: "LLDP.Port_ID",
    oneOfMany: true,
    tshark: "lldp.port.id.mac|lldp.port.id.ip4|lldp.port.id.ip6|lldp.port.id",
    kind: "text",
    when: lldpAddrKnown("Port_ID", "Port_ID_Subtype"),
  },
  { key: "LLDP.TTL", tshark: "lldp.time_to_live", kind: "num", oneOfMany: true },
  { key: "CDP.Device_ID", tshark: "cdp.deviceid", kind: "text", oneOfMany: true },
  { key: "CDP.Port_ID", tshark: "cdp.portid", kind: "text", oneOfMany: true },
  ...TUNNEL_ROWS,
];

/** The IPv6 (and IPv4 IPsec) extension header types, compared with frame.protocols. */
export const EXT_FIELD = "ip.extension_headers";

// ---- netmon side --------------------------------------------------------------------------

/** One layer instance of a record, in decode order; quoted = a summary of an ICMP quote. */
interface Inst {
  layer: string;
  proto: string;
  obj: L;
  quoted: boolean;
}

/** Pseudo-layers for a quote of an ICMP (version 4) or ICMPv6 (version 6) error. */
function quotedInsts(q: L, version: number, out: Inst[]): void {
  // A quote of another IP version is not dissected as IP by tshark.
  if (q.Version !== version) return;
  const hl = Number(q.Header_Length);
  if (version === 4 && (hl < 20 || Number(q.Total_Length) < hl)) {
    // Like a real IPv4 header with a bogus IHL or total length: nothing after it is
    // trusted (tshark: "Bogus IP length"), so only these are compared.
    const obj = { Version: q.Version, Header_Length: q.Header_Length };
    out.push({ layer: "IPv4", proto: "ip", obj, quoted: true });
    return;
  }
  if (version === 4 && hl > 20) {
    // Quoted options (often the bytes of a cut datagram) that tshark cannot parse stop it
    // before the destination and the transport: compare the fields before the options.
    const { Destination_Address: _d, Source_Port: _s, Destination_Port: _p, ...obj } = q;
    out.push({ layer: "IPv4", proto: "ip", obj, quoted: true });
    return;
  }
  if (version === 4) out.push({ layer: "IPv4", proto: "ip", obj: q, quoted: true });
  else out.push({ layer: "IPv6", proto: "ipv6", obj: q, quoted: true });
  // A quoted header that says it carries no payload: tshark dissects none.
  if (version === 4 ? Number(q.Total_Length) <= hl : Number(q.Payload_Length) === 0) return;
  const p = q.Protocol;
  if (q.Source_Port !== undefined && (p === 6 || p === 17)) {
    const layer = p === 6 ? "TCP" : "UDP";
    out.push({ layer, proto: LAYER_PROTO[layer], obj: q, quoted: true });
  } else if (q.ICMP_Type !== undefined) {
    const layer = p === 58 ? "ICMPv6" : "ICMP";
    const obj = { Type: q.ICMP_Type, Code: q.ICMP_Code };
    out.push({ layer, proto: LAYER_PROTO[layer], obj, quoted: true });
  }
}

/** The record's layers in order, ICMP error quotes expanded after their ICMP layer. */
function instances(rec: PacketRecord): Inst[] {
  const out: Inst[] = [];
  for (const [k, v] of Object.entries(rec)) {
    const layer = k.replace(/_\d+$/, "");
    const proto = LAYER_PROTO[layer];
    if (proto === undefined || v === null || typeof v !== "object") continue;
    const obj = v as L;
    out.push({ layer, proto, obj, quoted: false });
    if (layer === "ICMP" || layer === "ICMPv6") {
      const version = layer === "ICMP" ? 4 : 6;
      if (obj.Quoted) quotedInsts(obj.Quoted as L, version, out);
      for (const o of (obj.Options as L[] | undefined) ?? []) {
        if (o.Quoted) quotedInsts(o.Quoted as L, version, out);
      }
    }
  }
  return out;
}

/** `Layer.A.B|Layer2.C` -> [{layer, path}]; layer names may contain dots (802.1Q). */
function parseKey(key: string): { layer: string; path: string[] }[] {
  return key.split("|").map((k) => {
    const layer = Object.keys(LAYER_PROTO).find((l) => k.startsWith(l + "."));
    if (layer === undefined) throw new Error(`unknown layer in table key ${k}`);
    return { layer, path: k.slice(layer.length + 1).split(".") };
  });
}

/** Values at `path` (segments; "x[]" flattens a list) below `obj`. */
function valuesAt(obj: unknown, path: string[], out: unknown[]): void {
  if (obj === undefined || obj === null) return;
  if (path.length === 0) {
    out.push(obj);
    return;
  }
  const [seg, ...rest] = path;
  const flat = seg.endsWith("[]");
  const v = (obj as L)[flat ? seg.slice(0, -2) : seg];
  if (flat) {
    if (Array.isArray(v)) { for (const e of v) valuesAt(e, rest, out); }
  } else valuesAt(v, rest, out);
}

// ---- normalisation ------------------------------------------------------------------------

const STATUS = ["bad", "good", "unverified", "absent", "bad"];

function normTshark(kind: Kind, v: string): string {
  switch (kind) {
    case "num":
      if (/^0x[0-9a-f]+$/i.test(v)) return BigInt(v).toString();
      if (/^-?\d+$/.test(v)) return BigInt(v).toString();
      return v;
    case "bool":
      return v === "True" || v === "1" ? "1" : v === "False" || v === "0" ? "0" : v;
    case "status":
      return STATUS[Number(v)] ?? `status ${v}`;
    case "mac":
      return v.toLowerCase();
    case "text":
      return stripControls(v);
    case "ip6":
      // The text as printed: both sides must write RFC 5952 (lower case, the longest
      // run of zero groups as ::, an embedded IPv4 tail where inet_ntop writes one).
      return v;
    case "hex":
      return v.replaceAll(":", "").toLowerCase();
    default:
      return v;
  }
}

function normNetmon(kind: Kind, v: unknown): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  const s = String(v);
  if (kind === "mac") return s.toLowerCase();
  if (kind === "text") return stripControls(s);
  if (kind === "hex") return s.replaceAll(":", "").toLowerCase();
  if (kind === "num" && /^\d+$/.test(s)) return BigInt(s).toString();
  return s;
}

// ---- the comparison -----------------------------------------------------------------------

export interface Mismatch {
  file: string;
  /** 1-based frame number (0 for file-level problems). */
  frame: number;
  field: string;
  netmon: string;
  tshark: string;
}

export interface DiffResult {
  file: string;
  frames: number;
  tsharkFrames: number;
  /** The first mismatches (up to 100,000); `count` has them all. */
  mismatches: Mismatch[];
  count: number;
  /** Frames where tshark decoded deeper than netmon (tunnels, payloads, full quotes). */
  deeper: number;
  /** Frames where netmon decoded past a fault at which tshark gave up. */
  netmonDeeper: number;
  /** Frames tshark found malformed in a layer where netmon recorded no Decode_Error. */
  tsharkOnlyMalformed: number;
  /**
   * Values tshark showed for the table's fields, and how many netmon showed alike (the
   * rest: deeper than netmon decodes, or a mismatch).
   */
  tsharkValues: number;
  agreedValues: number;
  /** tshark field -> values netmon did not show alike (listed by --explain). */
  unmatched: Map<string, number>;
  /** One line per frame compared leniently (tshark or netmon went deeper), for --explain. */
  explain: string[];
  /** Read errors: netmon's (e.g. file cut off) and tshark's stderr notes. */
  netmonError?: string;
  tsharkError?: string;
}

/**
 * Decodes every frame of `path` with netmon's reader and decoders (as
 * tests/helpers/decode_file.ts does), handing each record to `each`; returns the read
 * error (a file cut off mid-record...) after the frames before it, or undefined.
 */
export async function decodeEach(
  path: string,
  each: (rec: PacketRecord) => void,
): Promise<string | undefined> {
  let src;
  try {
    src = await openCaptureFile(path);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  const dec = newDecoder();
  const ac = new AbortController();
  try {
    await src.run((view, bytes, off, meta) => {
      each(decodeFrame(dec, view, bytes, off, meta));
    }, { signal: ac.signal, ready: () => Promise.resolve() });
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    src.close();
  }
}

/** Decodes every frame of `path`; keeps the records decoded before a read error. */
export async function decodeCapture(
  path: string,
): Promise<{ records: PacketRecord[]; error?: string }> {
  const records: PacketRecord[] = [];
  const error = await decodeEach(path, (rec) => records.push(rec));
  return error === undefined ? { records } : { records, error };
}

/**
 * tshark options: checksums verified, absolute sequence numbers, no TCP desegmentation;
 * IP reassembly on (both sides reassemble); the UDP ports netmon decodes tunnels on that
 * tshark 4.0 does not (VXLAN on Linux's 8472).
 */
export const TSHARK_PREFS = [
  ...CHECKSUM_PREFS,
  "-o",
  "tcp.relative_sequence_numbers:FALSE",
  "-o",
  "tcp.desegment_tcp_streams:FALSE",
  "-d",
  "udp.port==8472,vxlan",
];

const AGG = "\x1f";

/** The tshark fields asked for, in column order (frame.protocols first). */
function tsharkColumns(): string[] {
  const cols = ["frame.protocols", "_ws.malformed", "_ws.short"];
  for (const r of TABLE) {
    for (const f of r.tshark.split("|")) if (!cols.includes(f)) cols.push(f);
  }
  return cols;
}

async function runTshark(
  file: string,
  cols: string[],
): Promise<{ rows: string[][]; error?: string }> {
  const args = ["-n", "-r", file, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"];
  args.push("-E", `aggregator=${AGG}`, "-E", "quote=n");
  for (const c of cols) args.push("-e", c);
  args.push(...TSHARK_PREFS);
  const out = await new Deno.Command("tshark", {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/tmp" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const err = new TextDecoder().decode(out.stderr).split("\n")
    .filter((l) => l.trim() !== "" && !/^Running as user/.test(l)).join(" ");
  if (!out.success && lines.length === 0) throw new Error(`tshark failed on ${file}: ${err}`);
  return { rows: lines.map((l) => l.split("\t")), error: err === "" ? undefined : err };
}

/** Problem with a value for JSON, or null: undefined, non-finite, unsafe integers, bigint. */
function jsonProblem(v: unknown, path: string): string | null {
  if (v === null || typeof v === "string" || typeof v === "boolean") return null;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return `${path} is ${v}`;
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return `${path} is past 2^53`;
    return null;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = jsonProblem(v[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (typeof v === "object") {
    for (const [k, x] of Object.entries(v as L)) {
      const p = jsonProblem(x, `${path}.${k}`);
      if (p) return p;
    }
    return null;
  }
  return `${path} is a ${typeof v}`;
}

/**
 * Extension header types in tshark's frame.protocols: ipv6.* names after an IPv6
 * header (tshark also dissects IP protocol 0 after IPv4 as a Hop-by-Hop header, which
 * netmon leaves as Payload), ah/esp after either IP version.
 */
function tsharkExt(protocols: string): string[] {
  const out: string[] = [];
  let ip = "";
  for (const p of protocols.split(":")) {
    if (p === "ip" || p === "ipv6") ip = p;
    else if (p in EXT_PROTOS) {
      if (ip === "ipv6" || p === "ah" || p === "esp") out.push(String(EXT_PROTOS[p]));
    } else ip = "";
  }
  return out;
}

/** The protocol chain verdict of one frame. */
interface Chain {
  /** Protocols whose extra tshark occurrences (deeper than netmon) are not compared. */
  lenient: Set<string>;
  /** Protocols netmon decoded past a layer where it recorded a fault and tshark gave up. */
  beyond: Set<string>;
  deeper: boolean;
  netmonDeeper: boolean;
  problem?: { netmon: string; tshark: string };
}

function chainOf(
  insts: Inst[],
  protocols: string,
  rec: PacketRecord,
  bad: Set<string>,
): Chain {
  const all = protocols.split(":");
  // tshark lists IGMP twice (igmp:igmp); one layer in netmon.
  const t: { proto: string; idx: number }[] = [];
  all.forEach((p, idx) => {
    if (!Object.values(LAYER_PROTO).includes(p)) return;
    // tshark repeats some protocols that cannot nest (igmp:igmp, llc:llc, arp:arp for AX.25).
    if (ONCE.has(p) && t.length > 0 && t[t.length - 1].proto === p) return;
    t.push({ proto: p, idx });
  });
  // SNAP is part of tshark's llc.
  const n = insts.filter((x, i) =>
    !(x.layer === "SNAP" && insts[i - 1]?.proto === "llc") && !SUMMARY_LAYERS.has(x.layer)
  );
  let c = 0;
  while (c < n.length && c < t.length && n[c].proto === t[c].proto) c++;
  const text = () => ({
    netmon: n.map((x) => x.proto + (x.quoted ? "(quoted)" : "")).join(":"),
    tshark: t.map((x) => x.proto).join(":"),
  });
  const none = new Set<string>();
  // Layers either side found malformed (netmon: Decode_Errors; tshark: an exception).
  const errLayers = [...bad];
  if (c === n.length && c === t.length) {
    return { lenient: none, beyond: none, deeper: false, netmonDeeper: false };
  }
  if (c === n.length) {
    const lenient = new Set(t.slice(c).map((x) => x.proto));
    const last = n[c - 1];
    // What tshark dissected right after netmon's last layer.
    const after = c === 0 ? 0 : t[c - 1].idx + 1;
    const next = all.slice(after).find((p) => !SKIP_PROTOS.has(p));
    // tshark went on with a protocol netmon does not decode
    const explained = next !== t[c].proto ||
      last?.quoted || // netmon summarises quoted datagrams
      (last !== undefined && (last.layer === "ICMP" || last.layer === "ICMPv6") &&
        (last.obj.Quoted !== undefined)) ||
      errLayers.includes(t[c].proto) || (last !== undefined && errLayers.includes(last.proto)) ||
      // netmon said which protocol it does not decode there (e.g. "IGMP type 0x13 (DVMRP)")
      (rec.Payload as L | undefined)?.Unknown_Protocol !== undefined ||
      (c === 0 && errLayers.length > 0);
    const r = { lenient, beyond: none, deeper: true, netmonDeeper: false };
    // Unexplained: every field is compared strictly, so the missing values show too.
    return explained ? r : { ...r, lenient: none, problem: text() };
  }
  if (c === t.length && (errLayers.includes(t[c - 1]?.proto) || errLayers.includes(n[c].proto))) {
    // tshark gave up on a malformed layer (or refused to show a layer netmon keeps with
    // its fault, e.g. IPv6 with version 4): netmon went on.
    const beyond = new Set(n.slice(c).map((x) => x.proto));
    return { lenient: none, beyond, deeper: false, netmonDeeper: true };
  }
  return { lenient: none, beyond: none, deeper: false, netmonDeeper: false, problem: text() };
}

/** Compares one capture file with tshark. */
export async function diffCapture(file: string, opts: CompareOptions = {}): Promise<DiffResult> {
  const ts = await tsharkRows(file);
  const c = new Comparison(file, ts.rows, opts);
  const error = await decodeEach(file, (rec) => c.frame(rec));
  c.finish();
  return {
    file,
    frames: c.frames,
    tsharkFrames: ts.rows.length,
    mismatches: c.mismatches,
    count: c.count,
    deeper: c.deeper,
    netmonDeeper: c.netmonDeeper,
    tsharkOnlyMalformed: c.tsharkOnlyMalformed,
    tsharkValues: c.tsharkValues,
    agreedValues: c.agreedValues,
    unmatched: c.unmatched,
    explain: c.explain,
    netmonError: error,
    tsharkError: ts.error,
  };
}

/** tshark's rows for `file`: one per frame, cells in the column order compareRecords expects. */
export async function tsharkRows(file: string): Promise<{ rows: string[][]; error?: string }> {
  return await runTshark(file, tsharkColumns());
}

export interface CompareOptions {
  /**
   * No leniency on faulted layers: every value tshark shows on a layer netmon recorded
   * a Decode_Error on must be there in netmon too (lists how each side reads malformed
   * data; expect many lines on truncated captures).
   */
  strict?: boolean;
}

/** Mismatches (and --explain lines) kept per file; all are counted. */
const MAX_KEPT = 100_000;

/**
 * Compares netmon's records with tshark's rows one frame at a time (nothing of a frame
 * is kept but its mismatches), then the frame counts ({@link Comparison.finish}).
 */
export class Comparison {
  readonly mismatches: Mismatch[] = [];
  /** Every mismatch, also those past the MAX_KEPT stored. */
  count = 0;
  deeper = 0;
  /** tshark values of the table's fields, and how many of them netmon showed alike. */
  tsharkValues = 0;
  agreedValues = 0;
  /** tshark field -> its values netmon did not show alike. */
  readonly unmatched = new Map<string, number>();
  netmonDeeper = 0;
  /** Frames tshark found malformed in a layer where netmon recorded no problem (info). */
  tsharkOnlyMalformed = 0;
  readonly explain: string[] = [];
  frames = 0;
  readonly #col = new Map(tsharkColumns().map((c, i) => [c, i]));

  constructor(
    readonly file: string,
    readonly rows: string[][],
    readonly opts: CompareOptions = {},
  ) {}

  #add(frame: number, field: string, netmon: string, tshark: string): void {
    this.count++;
    if (this.mismatches.length < MAX_KEPT) {
      this.mismatches.push({ file: this.file, frame, field, netmon, tshark });
    }
  }

  /** Compares the next frame's record with tshark's row for the same frame. */
  frame(rec: PacketRecord): void {
    const i = this.frames++;
    const frame = i + 1;
    const { file, rows, opts } = this;
    const add = (frame: number, field: string, netmon: string, tshark: string) =>
      this.#add(frame, field, netmon, tshark);
    for (const e of (rec.Decode_Errors as L[] | undefined) ?? []) {
      if (String(e.Problem).startsWith("decoder error")) {
        add(frame, "netmon.exception", String(e.Problem), "");
      }
    }
    const jp = jsonProblem(rec, "record");
    if (jp) add(frame, "netmon.json", jp, "");
    else if (JSON.stringify(JSON.parse(JSON.stringify(rec))) !== JSON.stringify(rec)) {
      add(frame, "netmon.json", "does not survive a JSON round trip", "");
    }
    if (i >= rows.length) return;
    const row = rows[i];
    const col = this.#col;
    const cell = (f: string) => row[col.get(f)!] ?? "";
    const insts = instances(rec);
    const errLayers = new Set(
      ((rec.Decode_Errors as L[] | undefined) ?? []).map((e) => LAYER_PROTO[String(e.Layer)]),
    );
    // Where tshark's dissection threw ("[Malformed Packet: IPv4]", "[Packet size limited
    // during capture: ICMP truncated]"): that layer is cut short.
    const tsharkBad = new Set<string>();
    let tsharkOnly = "";
    const thrown = cell("_ws.malformed") + cell("_ws.short");
    for (
      const m of thrown.matchAll(
        /(?:Malformed Packet|limited during capture): ([^\]:]+?)(?: truncated)?[\]:]/g,
      )
    ) {
      for (const p of MALFORMED_PROTO[m[1]] ?? [m[1].toLowerCase()]) {
        tsharkBad.add(p);
        const malformed = m[0].startsWith("Malformed"); // not a snap-length cut
        if (malformed && !errLayers.has(p) && insts.some((x) => x.proto === p && !x.quoted)) {
          tsharkOnly = m[1];
        }
      }
    }
    if (tsharkOnly !== "") {
      this.tsharkOnlyMalformed++;
      if (this.explain.length < MAX_KEPT) {
        this.explain.push(`${file}#${frame} malformed for tshark only: ${tsharkOnly}`);
      }
    }
    const bad = new Set([...errLayers, ...tsharkBad]);
    const chain = chainOf(insts, cell("frame.protocols"), rec, bad);
    if (chain.deeper || chain.netmonDeeper) {
      if (chain.deeper) this.deeper++;
      else this.netmonDeeper++;
      const who = chain.deeper ? "tshark deeper" : "netmon past a fault";
      if (this.explain.length < MAX_KEPT) {
        this.explain.push(`${file}#${frame} ${who}: ${cell("frame.protocols")}`);
      }
    }
    if (chain.problem) add(frame, "layers", chain.problem.netmon, chain.problem.tshark);
    // netmon stopped at a protocol it names as unknown: what tshark finds inside is deeper.
    const unknownStop = (rec.Payload as L | undefined)?.Unknown_Protocol !== undefined;
    for (const r of TABLE) {
      if (r.skip?.(rec)) continue;
      const keys = parseKey(r.key);
      let partial = unknownStop || keys.some((k) => chain.lenient.has(LAYER_PROTO[k.layer]));
      const ours: string[] = [];
      const mine = (inst: Inst) => keys.some((k) => k.layer === inst.layer);
      if (r.when && insts.some((x) => mine(x) && !x.quoted && !r.when!(x.obj))) continue;
      for (const inst of insts) {
        const paths = keys.filter((k) => k.layer === inst.layer).map((k) => k.path);
        if (paths.length === 0) continue;
        const vals: unknown[] = [];
        if (inst.quoted) {
          if (r.quoted === undefined) {
            partial = true;
            continue;
          }
          // A quote cut short lacks the field: tshark may still show it (partially).
          if (inst.obj[r.quoted] === undefined) partial = true;
          valuesAt(inst.obj, [r.quoted], vals);
        } else for (const path of paths) valuesAt(inst.obj, path, vals);
        for (const v of vals) {
          const c = r.conv ? r.conv(v, inst.obj) : v;
          // An empty text (zero-length address or name) is no occurrence for tshark.
          if (c !== undefined && c !== "") ours.push(normNetmon(r.kind, c));
        }
      }
      const alts = r.tshark.split("|");
      const used = alts.find((f) => cell(f) !== "") ?? alts[0];
      const raw = cell(used);
      const theirs = raw === "" ? [] : raw.split(AGG).filter((v) => v !== "").map((v) => {
        const t = normTshark(r.kind, v);
        return r.fromTshark ? r.fromTshark(t) : t;
      });
      // On a layer netmon recorded a fault on, each side may stop earlier than the other
      // (tshark at its first exception, netmon at its fault): compare the common prefix.
      const faulted = !opts.strict &&
        keys.some((k) => bad.has(LAYER_PROTO[k.layer]) || chain.beyond.has(LAYER_PROTO[k.layer]));
      let a = ours;
      let t = theirs;
      if (faulted) {
        const n = Math.min(a.length, t.length);
        a = a.slice(0, n);
        // netmon does not verify a checksum over a layer whose lengths contradict; tshark may.
        t = t.slice(0, n).map((v, i) => r.kind === "status" && a[i] === "unverified" ? a[i] : v);
      } else if (partial && a.length <= t.length) t = t.slice(0, a.length);
      const same = r.oneOfMany && a.length <= t.length
        ? a.every((v) => t.some((x) => r.eq ? r.eq(v, x) : v === x))
        : a.length === t.length && a.every((v, i) => r.eq ? r.eq(v, t[i]) : v === t[i]);
      if (!same) add(frame, used, ours.join(","), theirs.join(","));
      // Coverage: tshark's values of this field, and those netmon showed the same.
      this.tsharkValues += theirs.length;
      const agreed = same ? (r.oneOfMany ? Math.min(a.length, theirs.length) : t.length) : 0;
      this.agreedValues += agreed;
      if (agreed < theirs.length) {
        this.unmatched.set(used, (this.unmatched.get(used) ?? 0) + theirs.length - agreed);
      }
    }
    // Extension headers: tshark's frame.protocols against IPv4/IPv6 Extension_Headers.
    const theirExt = tsharkExt(cell("frame.protocols"));
    const ourExt: string[] = [];
    let extPartial = unknownStop || chain.lenient.has("ipv6") || chain.lenient.has("ip");
    const extFaulted = !opts.strict && (bad.has("ip") || bad.has("ipv6"));
    for (const inst of insts) {
      if (inst.layer !== "IPv4" && inst.layer !== "IPv6") continue;
      if (inst.quoted) {
        extPartial = true;
        continue;
      }
      for (const h of (inst.obj.Extension_Headers as L[] | undefined) ?? []) {
        ourExt.push(String(h.Header_Type));
      }
    }
    const n = extFaulted
      ? Math.min(ourExt.length, theirExt.length)
      : extPartial && ourExt.length <= theirExt.length
      ? ourExt.length
      : -1;
    const same = n < 0
      ? ourExt.join(",") === theirExt.join(",")
      : ourExt.slice(0, n).join(",") === theirExt.slice(0, n).join(",");
    if (!same) {
      add(frame, EXT_FIELD, ourExt.join(","), theirExt.join(","));
    }
  }

  /** After the last frame: a frame count difference is a mismatch (frame 0). */
  finish(): void {
    if (this.rows.length !== this.frames) {
      this.#add(0, "frame.count", String(this.frames), String(this.rows.length));
    }
  }
}

/** Compares netmon's records of `file` with tshark's rows (see {@link tsharkRows}). */
export function compareRecords(
  file: string,
  recs: PacketRecord[],
  rows: string[][],
  opts: CompareOptions = {},
): Comparison {
  const c = new Comparison(file, rows, opts);
  for (const rec of recs) c.frame(rec);
  c.finish();
  return c;
}

/** `file#frame field: netmon=X tshark=Y` */
export function formatMismatch(m: Mismatch): string {
  return `${m.file}#${m.frame} ${m.field}: netmon=${m.netmon} tshark=${m.tshark}`;
}

const USAGE = "usage: deno run -A scripts/tshark_diff.ts [--max N] [--quiet] [--explain] " +
  "[--strict] [--jobs N] FILE...";

async function main(args: string[]): Promise<number> {
  let max = 50;
  let quiet = false;
  let explain = false;
  let strict = false;
  let jobs = 4;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--max") max = Number(args[++i]);
    else if (a === "--quiet") quiet = true;
    else if (a === "--explain") explain = true;
    else if (a === "--strict") strict = true;
    else if (a === "--jobs") jobs = Number(args[++i]);
    else if (a === "-h" || a === "--help") {
      console.log(USAGE);
      return 0;
    } else files.push(a);
  }
  if (files.length === 0 || !Number.isFinite(max) || !(jobs >= 1)) {
    console.error(USAGE);
    return 2;
  }
  let frames = 0;
  let values = 0;
  let agreed = 0;
  let total = 0;
  let bad = 0;
  const byField = new Map<string, number>();
  // Up to `jobs` files at a time (tshark is the slow part); output stays in file order.
  const started: Promise<DiffResult | Error>[] = [];
  const start = (i: number) => {
    if (i < files.length && started[i] === undefined) {
      started[i] = diffCapture(files[i], { strict }).catch((e) =>
        e instanceof Error ? e : new Error(String(e))
      );
    }
  };
  for (let i = 0; i < files.length; i++) {
    for (let j = i; j < i + jobs; j++) start(j);
    const file = files[i];
    const r = await started[i];
    delete started[i];
    if (r instanceof Error) {
      console.log(`${file}#0 error: ${r.message}`);
      bad++;
      continue;
    }
    frames += r.frames;
    values += r.tsharkValues;
    agreed += r.agreedValues;
    total += r.count;
    if (r.count > 0) bad++;
    if (!quiet) { for (const m of r.mismatches.slice(0, max)) console.log(formatMismatch(m)); }
    if (explain) {
      for (const l of r.explain) console.log(l);
      const u = [...r.unmatched].sort((x, y) => y[1] - x[1]).map(([f, n]) => `${f} ${n}`);
      if (u.length > 0) console.log(`${file}#0 tshark values not shown alike: ${u.join(", ")}`);
    }
    for (const m of r.mismatches) byField.set(m.field, (byField.get(m.field) ?? 0) + 1);
    const notes = [
      r.netmonError ? `netmon: ${r.netmonError}` : "",
      r.tsharkError ? `tshark: ${r.tsharkError.slice(0, 300)}` : "",
    ].filter((s) => s !== "").join("; ");
    console.log(
      `# ${file}: ${r.frames} frames, ${r.count} mismatches, ` +
        `${r.deeper} decoded deeper by tshark, ${r.netmonDeeper} by netmon past a fault, ` +
        `${r.tsharkOnlyMalformed} malformed for tshark only, ` +
        `${r.agreedValues} of ${r.tsharkValues} tshark values agree` +
        (notes ? ` (${notes})` : ""),
    );
  }
  const fields = [...byField].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} ${n}`).join(", ");
  console.log(
    `# total: ${files.length} files, ${frames} frames, ${total} mismatches in ${bad} files, ` +
      `${agreed} of ${values} tshark values agree (${
        values > 0 ? (100 * agreed / values).toFixed(2) : "100.00"
      }%)` +
      (fields ? ` (${fields})` : ""),
  );
  return total > 0 || bad > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
