/**
 * The nine tabs of `netmon proc` as data: which /proc/<pid>/net files each needs and how
 * a snapshot of those files becomes one JSON-ready document. No terminal code here.
 *
 * @module
 */
import { type ArpRow, parseArp } from "./arp.ts";
import type { DiagSocket, TcpInfo } from "../net/sock_diag.ts";
import type { RouteEntry } from "../net/route_table.ts";
import type { Neighbour } from "../net/neigh.ts";
import type { LinkInfo } from "./netns.ts";
import { NEIGH_STAT_MEANING, parseNeighStat } from "./neighstat.ts";
import { counter, type Counters, parsePairedCounters, parseSnmp6 } from "./counters.ts";
import { parseDev } from "./dev.ts";
import { RateTracker } from "./rates.ts";
import type { NetFile, OwnSockets } from "./read.ts";
import { parseIPv6Route, parseRoute, type RouteRow } from "./route.ts";
import { markOwn, parseSocketTable, type SocketFile, type SocketRow } from "./sockets.ts";
import { tableNames } from "../net/tables.ts";

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
  arp: ["arp", "stat/arp_cache", "stat/ndisc_cache"],
  traffic: ["dev"],
  stats: COUNTER_FILES,
  raw: ["raw", "raw6"],
  icmp: ["icmp", "icmp6", "snmp", "snmp6"],
  routing: ["route", "ipv6_route"],
  analysis: COUNTER_FILES,
};

/** Files read on every refresh so that rates exist whichever tab is on screen. */
export const RATE_FILES: NetFile[] = ["dev", ...COUNTER_FILES];

/** What netlink in the process's namespace gave (null: could not be read). */
export interface NetlinkSnapshot {
  tcp?: DiagSocket[] | null;
  routes?: RouteEntry[] | null;
  links?: Map<number, LinkInfo> | null;
  neighbours6?: Neighbour[] | null;
  /** Why netlink could not be used. */
  denied?: string | null;
}

/** One refresh worth of raw /proc text (and netlink answers). */
export interface Snapshot {
  files: Partial<Record<NetFile, string | null>>;
  own: OwnSockets;
  /** performance.now() when the snapshot was taken. */
  at: number;
  net?: NetlinkSnapshot;
  /** The stat/ files came from the initial namespace (they are kernel-wide). */
  sharedStats?: boolean;
}

/** Netlink readers each tab uses (the tcp tab's sockets are read on every tick for rates). */
export const TAB_NETLINK: Partial<Record<TabName, (keyof NetlinkSnapshot)[]>> = {
  tcp: ["tcp"],
  arp: ["neighbours6", "links"],
  routing: ["routes", "links"],
};

/** A tcp-tab row: the /proc socket plus inet_diag's tcp_info and rates (`ss -ti`). */
export interface TcpRow extends SocketRow {
  RTT_Ms?: number;
  RTT_Var_Ms?: number;
  Total_Retrans?: number;
  Bytes_Acked?: number;
  Bytes_Received?: number;
  /** Bytes per second acknowledged by the peer / received, over the last refresh interval. */
  Send_Rate?: number | null;
  Receive_Rate?: number | null;
  Pacing_Rate?: number;
  Delivery_Rate?: number;
  Cookie?: number;
}

/** An IPv6 neighbour in the arp tab (IPv4 rows are ArpRow from /proc/net/arp). */
export interface Neighbour6Row {
  Family: "IPv6";
  IP_Address: string;
  HW_Address: string | null;
  Device: string;
  State: string[];
  Router: boolean;
}

/** One counter of the neighbour caches (arp tab). */
export interface NeighStatRow {
  Counter: string;
  IPv4: number | null;
  IPv6: number | null;
  Meaning: string;
}

/** A route from netlink (every table, both families, the MTU ip route would use). */
export interface TableRouteRow {
  Family: "IPv4" | "IPv6";
  Destination: string;
  Gateway: string | null;
  Interface: string | null;
  Metric: number;
  /** The route's MTU metric, else its device's MTU; null when neither is known. */
  MTU: number | null;
  /** Where the MTU came from. */
  MTU_Source: "route" | "device" | null;
  Table: string;
  Type: string;
  Protocol: string;
  Scope: string;
  Preferred_Source: string | null;
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
export type TabRow =
  | SocketRow
  | TcpRow
  | ArpRow
  | Neighbour6Row
  | TrafficRow
  | CounterRow
  | RouteRow
  | TableRouteRow
  | AnalysisRow;

/** The document for one tab at one refresh: `--json` prints it with pid, command, time. */
export interface TabDoc {
  tab: TabName;
  rows: TabRow[];
  /** icmp tab: the Icmp, IcmpMsg and Icmp6 counters. */
  counters?: CounterRow[];
  /** arp tab: the neighbour caches' statistics (IPv4 arp_cache, IPv6 ndisc_cache). */
  statistics?: NeighStatRow[];
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
  #tcp = new RateTracker();
  #trafficRows: TrafficRow[] | null = null;
  #analysisRows: AnalysisRow[] | null = null;
  /** Per-socket rates (by cookie) from the last two ticks. */
  #tcpRates = new Map<number, { send: number | null; recv: number | null }>();

  /**
   * Moves rates on from the dev and counter files and the TCP sockets in `snap`, when
   * present. Call it on the refresh timer only, so rates are per refresh interval (a tab
   * switch in between does not sample).
   */
  observe(snap: Snapshot): void {
    if (snap.files.dev) this.#trafficRows = this.#buildTraffic(snap.files.dev, snap.at);
    if (snap.files.snmp || snap.files.snmp6 || snap.files.netstat) {
      this.#analysisRows = this.#buildAnalysis(snapshotCounters(snap), snap.at);
    }
    if (snap.net?.tcp) {
      const rates = new Map<number, { send: number | null; recv: number | null }>();
      for (const d of snap.net.tcp) {
        const ti = d.TCP_Info;
        if (!ti || d.Cookie === 0) continue;
        rates.set(d.Cookie, {
          send: this.#tcp.sample(`${d.Cookie}.a`, ti.Bytes_Acked, snap.at).rate,
          recv: this.#tcp.sample(`${d.Cookie}.r`, ti.Bytes_Received, snap.at).rate,
        });
      }
      this.#tcpRates = rates;
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
        if (tab === "tcp") {
          if (snap.net?.tcp) rows = this.#withTcpInfo(rows, snap.net.tcp);
          else if (snap.net?.denied) notes.push(`no tcp_info: ${snap.net.denied}`);
        }
        doc.rows = rows;
        if (tab === "icmp") {
          doc.counters = counterRows(snapshotCounters(snap), (g) => /^Icmp/.test(g));
        }
        break;
      }
      case "arp": {
        const rows: TabRow[] = snap.files.arp ? parseArp(snap.files.arp) : [];
        const links = snap.net?.links;
        if (snap.net?.neighbours6) {
          for (const n of snap.net.neighbours6) {
            rows.push({
              Family: "IPv6",
              IP_Address: n.IP_Address,
              HW_Address: n.HW_Address,
              Device: links?.get(n.Interface_Index)?.Name ?? String(n.Interface_Index),
              State: n.State,
              Router: n.Router,
            });
          }
        } else notes.push(`no IPv6 neighbours: ${snap.net?.denied ?? "netlink not read"}`);
        doc.rows = rows;
        doc.statistics = neighStats(snap);
        if (snap.sharedStats) {
          notes.push("neighbour cache statistics are kernel-wide (shared by every namespace)");
        }
        break;
      }
      case "traffic":
        doc.rows = this.#trafficRows ?? [];
        break;
      case "stats":
        doc.rows = counterRows(snapshotCounters(snap));
        break;
      case "routing":
        if (snap.net?.routes) doc.rows = tableRoutes(snap.net.routes, snap.net.links ?? null);
        else {
          // Without netlink: the main IPv4 table and ipv6_route, as /proc has them.
          notes.push(
            `routes from /proc (no table, type or MTU): ${snap.net?.denied ?? "no netlink"}`,
          );
          doc.rows = [
            ...(snap.files.route ? parseRoute(snap.files.route) : []),
            ...(snap.files.ipv6_route ? parseIPv6Route(snap.files.ipv6_route) : []),
          ];
        }
        break;
      case "analysis":
        doc.rows = this.#analysisRows ?? [];
        break;
    }
    if (notes.length > 0) doc.notes = notes;
    return doc;
  }

  /** Joins inet_diag's view of each TCP socket (by inode, else by tuple) to its /proc row. */
  #withTcpInfo(rows: SocketRow[], diag: DiagSocket[]): TcpRow[] {
    const byInode = new Map<number, DiagSocket>();
    const byTuple = new Map<string, DiagSocket>();
    for (const d of diag) {
      if (d.Inode !== 0) byInode.set(d.Inode, d);
      byTuple.set(`${d.Local_Address}|${d.Local_Port}|${d.Remote_Address}|${d.Remote_Port}`, d);
    }
    return rows.map((r) => {
      const d = (r.Inode !== 0 ? byInode.get(r.Inode) : undefined) ??
        byTuple.get(`${r.Local_Address}|${r.Local_Port}|${r.Remote_Address}|${r.Remote_Port}`);
      const ti: TcpInfo | undefined = d?.TCP_Info;
      if (!d || !ti) return r;
      const rate = this.#tcpRates.get(d.Cookie);
      const out: TcpRow = {
        ...r,
        RTT_Ms: ti.RTT_Ms,
        RTT_Var_Ms: ti.RTT_Var_Ms,
        Cwnd: ti.Cwnd,
        Total_Retrans: ti.Total_Retrans,
        Bytes_Acked: ti.Bytes_Acked,
        Bytes_Received: ti.Bytes_Received,
        Send_Rate: rate?.send ?? null,
        Receive_Rate: rate?.recv ?? null,
        Pacing_Rate: ti.Pacing_Rate,
        Cookie: d.Cookie,
      };
      if (ti.Delivery_Rate !== undefined) out.Delivery_Rate = ti.Delivery_Rate;
      return out;
    });
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

/** ARP (arp_cache) and NDP (ndisc_cache) statistics side by side. */
function neighStats(snap: Snapshot): NeighStatRow[] {
  const v4 = snap.files["stat/arp_cache"] ? parseNeighStat(snap.files["stat/arp_cache"]!) : null;
  const v6 = snap.files["stat/ndisc_cache"]
    ? parseNeighStat(snap.files["stat/ndisc_cache"]!)
    : null;
  const names = [...new Set([...(v4?.keys() ?? []), ...(v6?.keys() ?? [])])];
  return names.map((n) => ({
    Counter: n,
    IPv4: v4?.get(n) ?? null,
    IPv6: v6?.get(n) ?? null,
    Meaning: NEIGH_STAT_MEANING[n] ?? "",
  }));
}

/** Routes of every table with names for tables and devices and the MTU ip route uses. */
function tableRoutes(routes: RouteEntry[], links: Map<number, LinkInfo> | null): TableRouteRow[] {
  const tables = tableNames();
  return routes.map((r) => {
    const dev = r.Interface_Index === null ? undefined : links?.get(r.Interface_Index);
    const mtu = r.Route_MTU ?? dev?.MTU ?? null;
    return {
      Family: r.Family,
      Destination: r.Destination,
      Gateway: r.Gateway,
      Interface: dev?.Name ?? (r.Interface_Index === null ? null : String(r.Interface_Index)),
      Metric: r.Metric,
      MTU: mtu,
      MTU_Source: r.Route_MTU !== null ? "route" : dev ? "device" : null,
      Table: tables.get(r.Table) ?? String(r.Table),
      Type: r.Type,
      Protocol: r.Protocol,
      Scope: r.Scope,
      Preferred_Source: r.Preferred_Source,
    };
  });
}
