/**
 * Field-by-field comparison of netmon's layer-3/4 records with tshark (the oracle):
 * tshark field -> what netmon reports for it, and `compare(file)` listing every
 * disagreement. Used by tshark_diff_test.ts (fixtures) and fuzz_diff_test.ts
 * (corrupted frames).
 *
 * tshark runs with checksum checks on, IP reassembly off (so a first fragment is
 * dissected on its own, as netmon does) and absolute TCP sequence numbers. netmon
 * summarises the datagram quoted by an ICMP error (`Quoted`: addresses, lengths, TTL,
 * protocol, ports) where tshark dissects it fully. Every value tshark reports is
 * accounted for: the fields netmon's summary carries are compared with all of tshark's
 * occurrences, and for the others the occurrences from inside the quote (the protocols
 * tshark's JSON nests under the ICMP layer) are set aside and all the rest compared. A
 * field netmon drops (say ICMP's Next_Hop_MTU) fails.
 */
import { FIXTURES, PCAPS } from "../../helpers/run.ts";
import { decodeFile } from "../../helpers/decode_file.ts";
import { CHECKSUM_PREFS, tsharkFields, tsharkJson } from "../../helpers/tshark.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";

type L = Record<string, unknown>;
type Extract = (r: PacketRecord) => unknown[];

/** The layers stored under `key`, `key_2`, `key_3`... in decode order. */
function layers(r: PacketRecord, key: string): L[] {
  const out: L[] = [];
  for (const k of Object.keys(r)) {
    if (k === key || (k.startsWith(key + "_") && /^\d+$/.test(k.slice(key.length + 1)))) {
      out.push(r[k] as L);
    }
  }
  return out;
}

function attr(key: string, name: string): Extract {
  return (r) => layers(r, key).map((l) => l[name]).filter((v) => v !== undefined && v !== null);
}

function quoted(r: PacketRecord): L[] {
  const q: L[] = [];
  for (const l of [...layers(r, "ICMP"), ...layers(r, "ICMPv6")]) {
    if (l.Quoted) q.push(l.Quoted as L);
    for (const o of (l.Options as L[] | undefined) ?? []) if (o.Quoted) q.push(o.Quoted as L);
  }
  return q;
}

/** Layer attribute followed by the same attribute of quoted datagrams of the given IP version. */
function withQuoted(key: string, name: string, version: number, qname = name): Extract {
  return (r) => [
    ...attr(key, name)(r),
    ...quoted(r).filter((q) => q.Version === version).map((q) => q[qname]).filter((v) =>
      v !== undefined
    ),
  ];
}

/** Quoted ports, only for quoted datagrams whose protocol is `proto`. */
function withQuotedPorts(key: string, name: string, proto: number): Extract {
  return (r) => [
    ...attr(key, name)(r),
    ...quoted(r).filter((q) => q.Protocol === proto || q.Next_Header === proto).map((q) => q[name])
      .filter((v) => v !== undefined),
  ];
}

function flat(key: string, list: string, name: string): Extract {
  return (r) =>
    layers(r, key).flatMap((l) => ((l[list] as L[] | undefined) ?? []).map((o) => o[name]))
      .filter((v) => v !== undefined);
}

function ext(name: string, f: (v: unknown) => unknown = (v) => v): Extract {
  return (r) =>
    layers(r, "IPv6").flatMap((l) =>
      ((l.Extension_Headers as L[] | undefined) ?? []).map((h) => h[name])
    )
      .filter((v) => v !== undefined).map(f);
}

const STATUS: Record<string, string> = {
  "0": "bad",
  "1": "good",
  "2": "unverified",
  "3": "absent",
  "4": "bad",
};
function status(key: string): Extract {
  return attr(key, "Checksum_Status");
}

/** AH/ESP header fields, from IPv6 extension headers and IPv4's IPsec headers, in frame order. */
function ipsec(type: number, name: string): Extract {
  return (r) =>
    Object.keys(r).filter((k) => /^IPv[46](_\d+)?$/.test(k))
      .flatMap((k) => ((r[k] as L).Extension_Headers as L[] | undefined) ?? [])
      .filter((h) => h.Header_Type === type && h[name] !== undefined).map((h) => h[name]);
}

function ipFlag(name: string): Extract {
  return (r) =>
    layers(r, "IPv4").filter((l) => l.Flags !== undefined).map((l) => (l.Flags as L)[name]);
}

function ipVersions(r: PacketRecord): unknown[] {
  return Object.keys(r).filter((k) => /^IPv[46](_\d+)?$/.test(k)).map((k) => (r[k] as L).Version);
}

/** True when an IP header of the frame says it is a fragment (MF or an offset). */
function fragmented(r: PacketRecord): boolean {
  const v4 = layers(r, "IPv4").some((l) =>
    (l.Flags as L | undefined)?.MF || (l.Fragment_Offset as number) > 0
  );
  const v6 = ext("More_Fragments")(r).some((m) => m === true);
  return v4 || v6;
}

function tcpFlags(r: PacketRecord): unknown[] {
  const bits = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"];
  return layers(r, "TCP").filter((l) => l.Flags !== undefined).map((l) => {
    const fl = l.Flags as Record<string, boolean>;
    // tshark's tcp.flags is the 12-bit field: the 3 reserved bits sit above AE.
    return bits.reduce((a, b, i) => a | (fl[b] ? 1 << i : 0), ((l.Reserved as number) ?? 0) << 9);
  });
}

function igmpMaxResp(r: PacketRecord): unknown[] {
  return layers(r, "IGMP").map((l) => l.Max_Response_Time).filter((v) =>
    v !== null && v !== undefined
  );
}

function igmpAddrs(r: PacketRecord): unknown[] {
  return layers(r, "IGMP").flatMap((l) => [
    ...(l.Group_Address !== null && l.Group_Address !== undefined ? [l.Group_Address] : []),
    ...((l.Group_Records as L[] | undefined) ?? []).map((g) => g.Multicast_Address),
  ]);
}

function sack(edge: string): Extract {
  return (r) =>
    layers(r, "TCP").flatMap((l) =>
      ((l.Options as L[] | undefined) ?? []).flatMap((o) =>
        ((o.Blocks as L[] | undefined) ?? []).map((b) => b[edge]).filter((v) => v !== undefined)
      )
    );
}

function tcpOpt(kind: number, name: string): Extract {
  return (r) =>
    layers(r, "TCP").flatMap((l) =>
      ((l.Options as L[] | undefined) ?? []).filter((o) => o.Kind === kind && o[name] !== undefined)
        .map((o) => o[name])
    );
}

/** tshark field -> what netmon reports for it. */
const FIELDS: [string, Extract][] = [
  ["ip.version", ipVersions],
  ["ip.hdr_len", attr("IPv4", "Header_Length")],
  ["ip.dsfield.dscp", attr("IPv4", "DSCP")],
  ["ip.dsfield.ecn", attr("IPv4", "ECN")],
  ["ip.len", withQuoted("IPv4", "Total_Length", 4)],
  ["ip.id", withQuoted("IPv4", "Identification", 4)],
  ["ip.flags.rb", ipFlag("Reserved")],
  ["ip.flags.df", ipFlag("DF")],
  ["ip.flags.mf", ipFlag("MF")],
  ["ip.frag_offset", attr("IPv4", "Fragment_Offset")],
  ["ip.ttl", withQuoted("IPv4", "TTL", 4)],
  ["ip.proto", withQuoted("IPv4", "Protocol", 4)],
  ["ip.checksum", attr("IPv4", "Checksum")],
  ["ip.checksum.status", status("IPv4")],
  ["ip.src", withQuoted("IPv4", "Source_Address", 4)],
  ["ip.dst", withQuoted("IPv4", "Destination_Address", 4)],
  // tshark lists no type for options it does not know; netmon keeps them as "Unknown".
  ["ip.opt.type", (r) =>
    layers(r, "IPv4").flatMap((l) => ((l.Options as L[] | undefined) ?? []))
      .filter((o) => o.Name !== "Unknown").map((o) => o.Type)],
  ["ipv6.version", attr("IPv6", "Version")],
  ["ipv6.tclass", attr("IPv6", "Traffic_Class")],
  ["ipv6.flow", attr("IPv6", "Flow_Label")],
  ["ipv6.plen", withQuoted("IPv6", "Payload_Length", 6)],
  ["ipv6.nxt", withQuoted("IPv6", "Next_Header", 6)],
  ["ipv6.hlim", withQuoted("IPv6", "Hop_Limit", 6)],
  ["ipv6.src", withQuoted("IPv6", "Source_Address", 6)],
  ["ipv6.dst", withQuoted("IPv6", "Destination_Address", 6)],
  ["ipv6.opt.type", (r) => ext("Options")(r).flatMap((o) => (o as L[]).map((x) => x.Type))],
  [
    "ipv6.opt.jumbo",
    (r) =>
      ext("Options")(r).flatMap((o) => (o as L[]).map((x) => x.Payload_Length)).filter((v) =>
        v !== undefined
      ),
  ],
  ["ipv6.routing.type", ext("Routing_Type")],
  ["ipv6.routing.segleft", ext("Segments_Left")],
  ["ipv6.routing.src.addr", (r) => ext("Addresses")(r).flat()],
  ["ipv6.routing.srh.addr", (r) => ext("Segments")(r).flat()],
  ["ipv6.routing.mipv6.home_address", ext("Home_Address")],
  ["ipv6.fraghdr.offset", ext("Fragment_Offset")],
  ["ipv6.fraghdr.more", ext("More_Fragments")],
  ["ipv6.fraghdr.ident", ext("Identification")],
  ["ah.spi", ipsec(51, "SPI")],
  ["ah.sequence", ipsec(51, "Sequence_Number")],
  ["esp.spi", ipsec(50, "SPI")],
  ["esp.sequence", ipsec(50, "Sequence_Number")],
  ["tcp.srcport", withQuotedPorts("TCP", "Source_Port", 6)],
  ["tcp.dstport", withQuotedPorts("TCP", "Destination_Port", 6)],
  ["tcp.seq_raw", attr("TCP", "Sequence_Number")],
  ["tcp.ack_raw", attr("TCP", "Acknowledgment_Number")],
  ["tcp.hdr_len", attr("TCP", "Header_Length")],
  ["tcp.flags", tcpFlags],
  ["tcp.window_size_value", attr("TCP", "Window")],
  ["tcp.checksum", attr("TCP", "Checksum")],
  ["tcp.checksum.status", status("TCP")],
  ["tcp.urgent_pointer", attr("TCP", "Urgent_Pointer")],
  // A fragment's TCP payload length is unknown to tshark (it is not the segment's).
  ["tcp.len", (r) => (fragmented(r) ? [] : attr("TCP", "Payload_Length")(r))],
  ["tcp.option_kind", flat("TCP", "Options", "Kind")],
  ["tcp.options.mss_val", tcpOpt(2, "Value")],
  ["tcp.options.wscale.shift", tcpOpt(3, "Shift_Count")],
  ["tcp.options.sack_le", sack("Left_Edge")],
  ["tcp.options.sack_re", sack("Right_Edge")],
  ["tcp.options.timestamp.tsval", tcpOpt(8, "Value")],
  ["tcp.options.timestamp.tsecr", tcpOpt(8, "Echo_Reply")],
  ["udp.srcport", withQuotedPorts("UDP", "Source_Port", 17)],
  ["udp.dstport", withQuotedPorts("UDP", "Destination_Port", 17)],
  ["udp.length", attr("UDP", "Length")],
  ["udp.checksum", attr("UDP", "Checksum")],
  ["udp.checksum.status", status("UDP")],
  ["icmp.type", attr("ICMP", "Type")],
  ["icmp.code", attr("ICMP", "Code")],
  ["icmp.checksum", attr("ICMP", "Checksum")],
  ["icmp.checksum.status", status("ICMP")],
  ["icmp.ident", attr("ICMP", "Identifier")],
  ["icmp.mtu", attr("ICMP", "Next_Hop_MTU")],
  [
    "icmp.ext.checksum.status",
    (r) =>
      layers(r, "ICMP").map((l) => (l.Extensions as L | undefined)?.Checksum_Status).filter((v) =>
        v !== undefined
      ),
  ],
  [
    "icmp.ext.class",
    (r) =>
      layers(r, "ICMP").flatMap((l) =>
        ((l.Extensions as L | undefined)?.Objects as L[] | undefined ?? []).map((o) => o.Class)
      ),
  ],
  ["icmp.ext.echo.req.local", attr("ICMP", "Local")],
  ["icmp.ext.echo.rsp.state", attr("ICMP", "State")],
  ["icmpv6.type", attr("ICMPv6", "Type")],
  ["icmpv6.code", attr("ICMPv6", "Code")],
  ["icmpv6.checksum", attr("ICMPv6", "Checksum")],
  ["icmpv6.checksum.status", status("ICMPv6")],
  ["icmpv6.echo.identifier", attr("ICMPv6", "Identifier")],
  ["icmpv6.echo.sequence_number", attr("ICMPv6", "Sequence_Number")],
  ["icmpv6.mtu", attr("ICMPv6", "MTU")],
  ["icmpv6.pointer", attr("ICMPv6", "Pointer")],
  [
    "icmpv6.nd.ns.target_address",
    (r) =>
      layers(r, "ICMPv6").filter((l) => l.Type === 135 && l.Target_Address).map((l) =>
        l.Target_Address
      ),
  ],
  [
    "icmpv6.nd.na.target_address",
    (r) =>
      layers(r, "ICMPv6").filter((l) => l.Type === 136 && l.Target_Address).map((l) =>
        l.Target_Address
      ),
  ],
  ["icmpv6.opt.type", flat("ICMPv6", "Options", "Type")],
  [
    "icmpv6.opt.prefix",
    (r) =>
      layers(r, "ICMPv6").flatMap((l) =>
        ((l.Options as L[] | undefined) ?? []).filter((o) => o.Type === 3 && o.Prefix)
          .map((o) => o.Prefix)
      ),
  ],
  [
    "icmpv6.opt.rdnss",
    (r) =>
      layers(r, "ICMPv6").flatMap((l) =>
        ((l.Options as L[] | undefined) ?? []).flatMap((o) =>
          (o.Servers as string[] | undefined) ?? []
        )
      ),
  ],
  ["icmpv6.mld.multicast_address", attr("ICMPv6", "Multicast_Address")],
  ["icmpv6.mldr.nb_mcast_records", attr("ICMPv6", "Number_Of_Records")],
  ["igmp.version", attr("IGMP", "Version")],
  ["igmp.type", attr("IGMP", "Type")],
  ["igmp.max_resp", igmpMaxResp],
  ["igmp.checksum", attr("IGMP", "Checksum")],
  ["igmp.checksum.status", status("IGMP")],
  ["igmp.maddr", igmpAddrs],
  ["igmp.num_grp_recs", attr("IGMP", "Number_Of_Group_Records")],
];

/** IPv6 extension header names in frame.protocols after an "ipv6" entry, as header numbers. */
const EXT_PROTOS: Record<string, number> = {
  "ipv6.hopopts": 0,
  "ipv6.routing": 43,
  "ipv6.fraghdr": 44,
  "ipv6.dstopts": 60,
  "ah": 51,
  "esp": 50,
};
function tsharkExtTypes(protocols: string): number[] {
  const out: number[] = [];
  let inV6 = false;
  for (const p of protocols.split(":")) {
    if (p === "ipv6") inV6 = true;
    else if (inV6 && p in EXT_PROTOS) out.push(EXT_PROTOS[p]);
    else inV6 = false;
  }
  return out;
}

/** Fields whose values netmon reports for a quoted datagram too (see withQuoted). */
const QUOTED_FIELDS = new Set([
  "ip.len",
  "ip.id",
  "ip.ttl",
  "ip.proto",
  "ip.src",
  "ip.dst",
  "ipv6.plen",
  "ipv6.nxt",
  "ipv6.hlim",
  "ipv6.src",
  "ipv6.dst",
  "tcp.srcport",
  "tcp.dstport",
  "udp.srcport",
  "udp.dstport",
]);

/** Protocols tshark dissects inside an ICMP/ICMPv6 error: the quoted datagram. */
const QUOTE_PROTOCOLS = new Set(["ip", "ipv6", "tcp", "udp", "icmp", "icmpv6", "sctp", "igmp"]);

/** Adds the field occurrences of a tshark JSON subtree to `out`. */
function countFields(v: unknown, out: Map<string, number>): void {
  if (typeof v !== "object" || v === null) return;
  for (const [k, x] of Object.entries(v)) {
    if (Array.isArray(x)) {
      for (const e of x) {
        if (typeof e === "object") countFields(e, out);
        else out.set(k, (out.get(k) ?? 0) + 1);
      }
    } else if (typeof x === "object") countFields(x, out);
    else out.set(k, (out.get(k) ?? 0) + 1);
  }
}

/**
 * Per frame, how many occurrences of each field tshark reports from inside an ICMP or
 * ICMPv6 error's quoted datagram (the protocols its JSON nests under the icmp layer):
 * these are the values netmon's Quoted summary may lack.
 */
interface QuoteCounts {
  /** Every occurrence inside the quote. */
  all: Map<string, number>;
  /** Occurrences in a second header of one protocol (past netmon's one summary). */
  beyond: Map<string, number>;
}

function quotedFieldCounts(file: string): QuoteCounts[] {
  const frames = tsharkJson(file, [...TSHARK_PREFS, "-J", "icmp icmpv6", "--no-duplicate-keys"]);
  return frames.map((fr) => {
    const out = new Map<string, number>();
    const beyond = new Map<string, number>();
    const layers = ((fr._source as L | undefined)?.layers ?? {}) as L;
    // Anywhere under the ICMP layer: the error's body, or an option (a redirect's
    // Redirected Header) holding a datagram.
    const walk = (v: unknown): void => {
      if (typeof v !== "object" || v === null) return;
      for (const [k, x] of Object.entries(v)) {
        [x].flat().forEach((e, n) => {
          if (!QUOTE_PROTOCOLS.has(k)) return walk(e);
          countFields(e, out);
          // A second header of the same protocol in the quote (IPv6 in IPv6): beyond
          // the one datagram netmon's Quoted summarises.
          if (n > 0) countFields(e, beyond);
        });
      }
    };
    for (const top of ["icmp", "icmpv6"]) walk(layers[top]);
    return { all: out, beyond };
  });
}

function norm(v: unknown): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  return String(v);
}

function normTshark(field: string, v: string): string {
  if (field.endsWith("checksum.status")) return STATUS[v] ?? `status ${v}`;
  if (v === "True") return "1";
  if (v === "False") return "0";
  if (/^0x[0-9a-f]+$/i.test(v)) return String(parseInt(v, 16));
  return v;
}

const TSHARK_PREFS = [
  ...CHECKSUM_PREFS,
  "-o",
  "tcp.relative_sequence_numbers:FALSE",
  "-o",
  "ip.defragment:FALSE",
  "-o",
  "ipv6.defragment:FALSE",
  "-o",
  "tcp.desegment_tcp_streams:FALSE",
];

export function captures(): string[] {
  const out: string[] = [];
  for (const dir of [PCAPS, `${FIXTURES}l3/`]) {
    for (const e of Deno.readDirSync(dir)) {
      if (/\.(pcap|pcapng)$/.test(e.name)) out.push(dir + e.name);
    }
  }
  return out.sort();
}

/** Compares one capture; returns the list of disagreements (empty when all agree). */
export async function compare(
  file: string,
  known: Record<number, string[]> = {},
): Promise<string[]> {
  // tshark runs with reassembly off here (each frame on its own): so does netmon.
  const recs = await decodeFile(file, { reassemble: false });
  const names = FIELDS.map(([n]) => n);
  const rows = tsharkFields(file, [...names, "frame.protocols"], TSHARK_PREFS);
  const problems: string[] = [];
  const quotes = recs.some((r) => quoted(r).length > 0) ||
      rows.some((r) => /:icmp(v6)?:(ip|ipv6)(:|$)/.test(r[FIELDS.length]))
    ? quotedFieldCounts(file)
    : null;
  if (rows.length !== recs.length) {
    problems.push(`frame count: tshark ${rows.length}, netmon ${recs.length}`);
  }
  const n = Math.min(rows.length, recs.length);
  for (let i = 0; i < n; i++) {
    const rec = recs[i];
    const row = rows[i];
    const inQuote = quotes?.[i] ?? { all: new Map<string, number>(), beyond: new Map() };
    FIELDS.forEach(([field, get], j) => {
      const theirs = row[j] === "" ? [] : row[j].split(",").map((v) => normTshark(field, v));
      const ours = get(rec).map(norm);
      // tshark lists the quote's occurrences after the outer ones (tree order).
      const aside = (QUOTED_FIELDS.has(field) ? inQuote.beyond : inQuote.all).get(field) ?? 0;
      const cmp = theirs.slice(0, Math.max(0, theirs.length - aside));
      if (known[i + 1]?.includes(field)) return;
      if (cmp.join(",") !== ours.join(",")) {
        problems.push(`frame ${i + 1} ${field}: tshark [${theirs}] netmon [${ours}]`);
      }
    });
    const theirExt = tsharkExtTypes(row[FIELDS.length]);
    const ourExt = ext("Header_Type")(rec).map(Number);
    const extCmp = inQuote.all.size > 0 ? theirExt.slice(0, ourExt.length) : theirExt;
    if (extCmp.join(",") !== ourExt.join(",")) {
      problems.push(`frame ${i + 1} extension headers: tshark [${theirExt}] netmon [${ourExt}]`);
    }
  }
  return problems;
}
