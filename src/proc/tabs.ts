/**
 * The nine tabs of `netmon proc` as data: which /proc/<pid>/net files each needs and how
 * a snapshot of those files becomes one JSON-ready document. No terminal code here.
 *
 * @module
 */
import { type ArpRow, parseArp } from "./arp.ts";
import { counter, type Counters, parsePairedCounters, parseSnmp6 } from "./counters.ts";
import { parseDev } from "./dev.ts";
import { RateTracker } from "./rates.ts";
import type { NetFile, OwnSockets } from "./read.ts";
import { parseIPv6Route, parseRoute, type RouteRow } from "./route.ts";
import { markOwn, parseSocketTable, type SocketFile, type SocketRow } from "./sockets.ts";

export const TAB_NAMES = [
  "tcp",
  "udp",
  "arp",
  "traffic",
  "stats",
  "raw",
  "icmp",
  "routing",
  "analysis",
] as const;
export type TabName = typeof TAB_NAMES[number];

/** Tabs whose rows are sockets (rows carry Own, and "own only" applies). */
export const SOCKET_TABS: ReadonlySet<TabName> = new Set(["tcp", "udp", "raw", "icmp"]);

const COUNTER_FILES: NetFile[] = ["snmp", "snmp6", "netstat"];

/** Files each tab reads. */
export const TAB_FILES: Record<TabName, NetFile[]> = {
  tcp: ["tcp", "tcp6"],
  udp: ["udp", "udp6"],
  arp: ["arp"],
  traffic: ["dev"],
  stats: COUNTER_FILES,
  raw: ["raw", "raw6"],
  icmp: ["icmp", "icmp6", "snmp", "snmp6"],
  routing: ["route", "ipv6_route"],
  analysis: COUNTER_FILES,
};

/** Files read on every refresh so that rates exist whichever tab is on screen. */
export const RATE_FILES: NetFile[] = ["dev", ...COUNTER_FILES];

/** One refresh worth of raw /proc text. */
export interface Snapshot {
  files: Partial<Record<NetFile, string | null>>;
  own: OwnSockets;
  /** performance.now() when the snapshot was taken. */
  at: number;
}

/** One row of the stats tab and of the icmp tab's counters. */
export interface CounterRow {
  Group: string;
  Counter: string;
  Value: number;
}

export interface TrafficRow {
  Interface: string;
  [counter: string]: string | number | null;
}

export interface AnalysisRow {
  Section: string;
  Name: string;
  Kind: "gauge" | "counter" | "ratio";
  Value: number | null;
  /** Human meaning of a gauge value (e.g. RtoAlgorithm 1 -> "other"). */
  Value_Text?: string;
  Unit?: string;
  /** Per second over the last interval; null on the first refresh and after a reset. */
  Rate_Per_Second: number | null;
  Reset?: boolean;
}

/** A row of any tab. */
export type TabRow = SocketRow | ArpRow | TrafficRow | CounterRow | RouteRow | AnalysisRow;

/** The document for one tab at one refresh: `--json` prints it as is. */
export interface TabDoc {
  tab: TabName;
  rows: TabRow[];
  /** icmp tab: the Icmp, IcmpMsg and Icmp6 counters. */
  counters?: CounterRow[];
  /** Things the reader should know (fd access denied, files missing). */
  notes?: string[];
}

/** Gauges in snmp/netstat: values, never rates. */
const GAUGES = new Set([
  "Ip.Forwarding",
  "Ip.DefaultTTL",
  "Tcp.RtoAlgorithm",
  "Tcp.RtoMin",
  "Tcp.RtoMax",
  "Tcp.MaxConn",
  "Tcp.CurrEstab",
]);

const RTO_ALGORITHMS: Record<number, string> = { 1: "other", 2: "constant", 3: "rsre", 4: "vanj" };

/** Metrics of the analysis tab: [section, group, counter, unit?]. */
const ANALYSIS: [string, string, string, string?][] = [
  ["Forwarding", "Ip", "Forwarding"],
  ["Forwarding", "Ip", "DefaultTTL"],
  ["Forwarding", "Ip", "ForwDatagrams"],
  ["Forwarding", "Ip", "OutNoRoutes"],
  ["Forwarding", "Ip6", "OutForwDatagrams"],
  ["Forwarding", "Ip6", "InNoRoutes"],
  ["Incoming packets", "Ip", "InReceives"],
  ["Incoming packets", "Ip", "InDelivers"],
  ["Incoming packets", "Ip", "InDiscards"],
  ["Incoming packets", "Ip", "InHdrErrors"],
  ["Incoming packets", "Ip", "InAddrErrors"],
  ["Incoming packets", "Ip", "InUnknownProtos"],
  ["Incoming packets", "Ip6", "InReceives"],
  ["Incoming packets", "Ip6", "InDelivers"],
  ["Incoming packets", "Ip6", "InDiscards"],
  ["TCP", "Tcp", "RtoAlgorithm"],
  ["TCP", "Tcp", "RtoMin", "ms"],
  ["TCP", "Tcp", "RtoMax", "ms"],
  ["TCP", "Tcp", "CurrEstab"],
  ["TCP", "Tcp", "ActiveOpens"],
  ["TCP", "Tcp", "PassiveOpens"],
  ["TCP", "Tcp", "AttemptFails"],
  ["TCP", "Tcp", "EstabResets"],
  ["TCP", "Tcp", "InSegs"],
  ["TCP", "Tcp", "OutSegs"],
  ["TCP", "Tcp", "RetransSegs"],
  ["TCP", "TcpExt", "TCPTimeouts"],
  ["TCP", "TcpExt", "TCPLossProbes"],
  ["TCP", "TcpExt", "TCPFastRetrans"],
  ["Datagrams", "Udp", "InDatagrams"],
  ["Datagrams", "Udp", "OutDatagrams"],
  ["Datagrams", "Udp", "NoPorts"],
  ["Datagrams", "Udp", "InErrors"],
  ["Datagrams", "Udp", "RcvbufErrors"],
  ["Datagrams", "Udp", "SndbufErrors"],
  ["Datagrams", "Udp6", "InDatagrams"],
  ["Datagrams", "Udp6", "OutDatagrams"],
  ["Datagrams", "Udp6", "NoPorts"],
  ["Datagrams", "Udp6", "InErrors"],
];

/** Counters from whichever of snmp, snmp6 and netstat the snapshot holds. */
export function snapshotCounters(snap: Snapshot): Counters {
  const c: Counters = new Map();
  if (snap.files.snmp) parsePairedCounters(snap.files.snmp, c);
  if (snap.files.netstat) parsePairedCounters(snap.files.netstat, c);
  if (snap.files.snmp6) parseSnmp6(snap.files.snmp6, c);
  return c;
}

function counterRows(c: Counters, groups?: (g: string) => boolean): CounterRow[] {
  const rows: CounterRow[] = [];
  for (const [g, m] of c) {
    if (groups && !groups(g)) continue;
    for (const [name, v] of m) rows.push({ Group: g, Counter: name, Value: v });
  }
  return rows;
}

/**
 * Builds tab documents from snapshots, keeping the previous samples that rates need.
 * Call {@link observe} on every refresh (cheap when RATE_FILES are absent).
 */
export class TabModel {
  #traffic = new RateTracker();
  #analysis = new RateTracker();
  #trafficRows: TrafficRow[] | null = null;
  #analysisRows: AnalysisRow[] | null = null;

  /** Updates rates from the dev and counter files in `snap`, when present. */
  observe(snap: Snapshot): void {
    if (snap.files.dev) this.#trafficRows = this.#buildTraffic(snap.files.dev, snap.at);
    if (snap.files.snmp || snap.files.snmp6 || snap.files.netstat) {
      this.#analysisRows = this.#buildAnalysis(snapshotCounters(snap), snap.at);
    }
  }

  /** The document for `tab` from the latest snapshot (call observe first). */
  build(tab: TabName, snap: Snapshot, opts: { ownOnly?: boolean } = {}): TabDoc {
    const notes: string[] = [];
    const missing = TAB_FILES[tab].filter((f) => snap.files[f] === null);
    if (missing.length > 0) notes.push(`not available in this kernel: ${missing.join(", ")}`);
    if (SOCKET_TABS.has(tab) && snap.own.denied) {
      notes.push(
        "fd access denied: cannot tell which sockets the process owns (run as its user or root)",
      );
    }
    const doc: TabDoc = { tab, rows: [] };
    switch (tab) {
      case "tcp":
      case "udp":
      case "raw":
      case "icmp": {
        const files = TAB_FILES[tab].filter((f): f is SocketFile => !f.startsWith("snmp"));
        let rows: SocketRow[] = [];
        for (const f of files) {
          const text = snap.files[f];
          if (text) rows.push(...parseSocketTable(text, f));
        }
        markOwn(rows, snap.own.inodes);
        if (opts.ownOnly) rows = rows.filter((r) => r.Own);
        doc.rows = rows;
        if (tab === "icmp") {
          doc.counters = counterRows(snapshotCounters(snap), (g) => /^Icmp/.test(g));
        }
        break;
      }
      case "arp":
        doc.rows = snap.files.arp ? parseArp(snap.files.arp) : [];
        break;
      case "traffic":
        doc.rows = this.#trafficRows ?? [];
        break;
      case "stats":
        doc.rows = counterRows(snapshotCounters(snap));
        break;
      case "routing":
        doc.rows = [
          ...(snap.files.route ? parseRoute(snap.files.route) : []),
          ...(snap.files.ipv6_route ? parseIPv6Route(snap.files.ipv6_route) : []),
        ];
        break;
      case "analysis":
        doc.rows = this.#analysisRows ?? [];
        break;
    }
    if (notes.length > 0) doc.notes = notes;
    return doc;
  }

  #buildTraffic(text: string, at: number): TrafficRow[] {
    return parseDev(text).map((d) => {
      const row: TrafficRow = { Interface: d.Interface, ...d.Counters };
      for (const dir of ["Receive", "Transmit"]) {
        for (const what of ["Bytes", "Packets"]) {
          const key = `${dir}_${what}`;
          const v = d.Counters[key];
          row[`${key}_Per_Second`] = v === undefined
            ? null
            : this.#traffic.sample(`${d.Interface}\0${key}`, v, at).rate;
        }
      }
      return row;
    });
  }

  #buildAnalysis(c: Counters, at: number): AnalysisRow[] {
    const rows: AnalysisRow[] = [];
    for (const [section, group, name, unit] of ANALYSIS) {
      const v = counter(c, group, name);
      if (v === undefined) continue;
      const id = `${group}.${name}`;
      const row: AnalysisRow = {
        Section: section,
        Name: id,
        Kind: GAUGES.has(id) ? "gauge" : "counter",
        Value: v,
        Rate_Per_Second: null,
      };
      if (unit) row.Unit = unit;
      if (id === "Ip.Forwarding") row.Value_Text = v === 1 ? "forwarding" : "not forwarding";
      if (id === "Tcp.RtoAlgorithm") row.Value_Text = RTO_ALGORITHMS[v] ?? "unknown";
      if (row.Kind === "counter") {
        const r = this.#analysis.sample(id, v, at);
        row.Rate_Per_Second = r.rate;
        if (r.reset) row.Reset = true;
      }
      rows.push(row);
    }
    // Share of sent segments that were retransmissions over the last interval.
    const out = rows.find((r) => r.Name === "Tcp.OutSegs");
    const re = rows.find((r) => r.Name === "Tcp.RetransSegs");
    if (out && re) {
      const ratio = out.Rate_Per_Second && re.Rate_Per_Second !== null
        ? (100 * re.Rate_Per_Second) / out.Rate_Per_Second
        : null;
      rows.splice(rows.indexOf(re) + 1, 0, {
        Section: "TCP",
        Name: "Retransmitted share of sent segments",
        Kind: "ratio",
        Value: ratio,
        Unit: "%",
        Rate_Per_Second: null,
      });
    }
    return rows;
  }
}
