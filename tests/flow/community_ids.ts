/**
 * Per-frame Community IDs of a capture file: netmon's (its reader, decoders and flow
 * table, as `capture -r --community-id` runs them) and tshark's own `communityid`
 * post-dissector (the oracle), with IP reassembly off on both sides.
 */
import { openCaptureFile } from "../../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../../src/decode/mod.ts";
import type { DecodeError, PacketRecord } from "../../src/decode/record.ts";
import { FlowTable } from "../../src/flow/tracker.ts";
import { tsharkFields } from "../helpers/tshark.ts";

type L = Record<string, unknown>;

/** The IPv4/IPv6 layers of a record, outermost first. */
export function ipLayers(r: PacketRecord): L[] {
  return Object.keys(r).filter((k) => /^IPv[46](_\d+)?$/.test(k)).map((k) => r[k] as L);
}

/**
 * The protocol number an IP header chain of a record ends with: the last Next_Header,
 * or the type of an extension header that was cut short or has no Next_Header (ESP).
 */
export function chainProtocol(r: PacketRecord): number {
  const ip = ipLayers(r).at(-1) ?? {};
  const faults = (r.Decode_Errors as DecodeError[] | undefined) ?? [];
  let proto = Number(ip.Protocol ?? ip.Next_Header);
  for (const h of (ip.Extension_Headers as L[] | undefined) ?? []) {
    const cut = faults.some((e) => e.Problem.startsWith(`${h.Header} header: needs`));
    if (h.Next_Header === undefined || cut) return Number(h.Header_Type);
    proto = Number(h.Next_Header);
  }
  return proto;
}

export interface NetmonFrame {
  rec: PacketRecord;
  /** The Community_ID netmon gives the packet ("" when it is in no flow). */
  id: string;
  /** The IP protocol number netmon's summary (and so the flow) has for the frame. */
  proto: number;
}

export async function netmonCommunityIds(path: string): Promise<NetmonFrame[]> {
  const src = await openCaptureFile(path);
  // Reassembly off: tshark runs with it off too (each frame on its own).
  const dec = newDecoder({ reassemble: false });
  const table = new FlowTable({
    tcpIdleTimeout: 300,
    udpIdleTimeout: 60,
    icmpIdleTimeout: 60,
    activeTimeout: 1800,
    maxFlows: 100_000,
    communityId: true,
  }, () => {});
  const out: NetmonFrame[] = [];
  try {
    await src.run((view, bytes, off, meta) => {
      const rec = decodeFrame(dec, view, bytes, off, meta);
      out.push({ rec, id: table.observe(dec, meta), proto: dec.sum.ipProto });
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}

/** The flow tuple in tshark's own fields: the first IP header, the first transport in it. */
export interface TsharkTuple {
  saddr: string;
  daddr: string;
  /** IP protocol of the first transport tshark dissected, -1 when none. */
  proto: number;
  /** Ports, or ICMP type and code. */
  sport: number;
  dport: number;
}

export interface TsharkFrame {
  id: string;
  /** How many IPv4 / IPv6 headers tshark dissected (more than one: a tunnel or ICMP quote). */
  ipHeaders: number;
  /** tshark flagged the frame malformed or cut short by the snap length. */
  broken: boolean;
  tuple: TsharkTuple | null;
}

const TUPLE_FIELDS = [
  "ip.src",
  "ip.dst",
  "ipv6.src",
  "ipv6.dst",
  "tcp.srcport",
  "tcp.dstport",
  "udp.srcport",
  "udp.dstport",
  "sctp.srcport",
  "sctp.dstport",
  "icmp.type",
  "icmp.code",
  "icmpv6.type",
  "icmpv6.code",
];
const TRANSPORT_PROTOS: Record<string, [number, string, string]> = {
  tcp: [6, "tcp.srcport", "tcp.dstport"],
  udp: [17, "udp.srcport", "udp.dstport"],
  sctp: [132, "sctp.srcport", "sctp.dstport"],
  icmp: [1, "icmp.type", "icmp.code"],
  icmpv6: [58, "icmpv6.type", "icmpv6.code"],
};

function tuple(protocols: string, cell: (f: string) => string): TsharkTuple | null {
  const layers = protocols.split(":");
  const ip = layers.findIndex((p) => p === "ip" || p === "ipv6");
  if (ip < 0) return null;
  const v = layers[ip];
  const first = (f: string) => cell(f).split(",")[0];
  const t: TsharkTuple = {
    saddr: first(`${v}.src`),
    daddr: first(`${v}.dst`),
    proto: -1,
    sport: 0,
    dport: 0,
  };
  for (const p of layers.slice(ip + 1)) {
    if (p === "ip" || p === "ipv6") break;
    const tp = TRANSPORT_PROTOS[p];
    if (tp === undefined || first(tp[1]) === "") continue;
    t.proto = tp[0];
    t.sport = Number(first(tp[1]));
    t.dport = Number(first(tp[2]));
    break;
  }
  return t;
}

export function tsharkCommunityIds(path: string, seed = 0): TsharkFrame[] {
  const names = [
    "communityid",
    "ip.version",
    "ipv6.version",
    "_ws.malformed",
    "_ws.short",
    "frame.protocols",
    ...TUPLE_FIELDS,
  ];
  const rows = tsharkFields(path, names, [
    "--enable-protocol",
    "communityid",
    "-o",
    `communityid.seed:${seed}`,
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
  ]);
  return rows.map((r) => {
    const cell = (f: string) => r[names.indexOf(f)];
    return {
      id: r[0],
      ipHeaders: (r[1] === "" ? 0 : r[1].split(",").length) +
        (r[2] === "" ? 0 : r[2].split(",").length),
      broken: r[3] !== "" || r[4] !== "",
      tuple: tuple(cell("frame.protocols"), cell),
    };
  });
}
