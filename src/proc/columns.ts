/**
 * How each tab's rows look as text: the columns of the terminal view (as src/ui Tables of
 * cells and sort keys) and of piped (non-JSON) output. Pure functions of a {@link TabDoc}.
 *
 * @module
 */
import type { ArpRow } from "./arp.ts";
import type { RouteRow } from "./route.ts";
import type { SocketRow } from "./sockets.ts";
import type {
  AnalysisRow,
  CounterRow,
  Neighbour6Row,
  NeighStatRow,
  TabDoc,
  TableRouteRow,
  TcpRow,
  TrafficRow,
} from "./tabs.ts";
import type { SortKey, Table } from "../ui/source.ts";
import { layoutTable } from "../ui/table.ts";

const str = (v: unknown): string => (v === undefined || v === null ? "-" : String(v));

/** Human number: integers as is, others with up to 1 decimal; null as "-". */
export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return "-";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(digits);
}

function scaled(v: number, units: string[]): string {
  let x = v, u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(x) : x.toFixed(1)} ${units[u]}`;
}

/** Bytes per second as B/s, KiB/s, MiB/s, GiB/s. */
export function byteRate(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : scaled(v, ["B/s", "KiB/s", "MiB/s", "GiB/s"]);
}

/** A byte count as B, KiB, MiB, GiB, TiB. */
export function bytes(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : scaled(v, ["B", "KiB", "MiB", "GiB", "TiB"]);
}

/** One column: title, how a row shows in it, and what it sorts by (numbers where numeric). */
export interface Column<R> {
  title: string;
  value: (row: R) => string;
  key?: (row: R) => SortKey;
  align?: "left" | "right";
}

const n = <R>(get: (r: R) => number | null | undefined) => (r: R): SortKey => get(r) ?? null;

function socketColumns(tab: string): Column<SocketRow>[] {
  const cols: Column<SocketRow>[] = [
    { title: "Local Address", value: (r) => r.Local_Address },
    {
      title: "Port",
      value: (r) => String(r.Local_Port),
      key: n((r) => r.Local_Port),
      align: "right",
    },
    { title: "Own", value: (r) => (r.Own ? "*" : "") },
    { title: "Proto", value: (r) => r.Protocol },
    { title: "Remote Address", value: (r) => r.Remote_Address },
    {
      title: "Port",
      value: (r) => String(r.Remote_Port),
      key: n((r) => r.Remote_Port),
      align: "right",
    },
    { title: "State", value: (r) => r.State },
    { title: "Send-Q", value: (r) => str(r.Tx_Queue), key: n((r) => r.Tx_Queue), align: "right" },
    { title: "Recv-Q", value: (r) => str(r.Rx_Queue), key: n((r) => r.Rx_Queue), align: "right" },
  ];
  if (tab === "tcp") {
    const t = (r: SocketRow) => r as TcpRow;
    cols.push(
      {
        title: "RTT ms",
        value: (r) => num(t(r).RTT_Ms, 3),
        key: n((r) => t(r).RTT_Ms),
        align: "right",
      },
      {
        title: "RTTvar ms",
        value: (r) => num(t(r).RTT_Var_Ms, 3),
        key: n((r) => t(r).RTT_Var_Ms),
        align: "right",
      },
      { title: "Cwnd", value: (r) => str(r.Cwnd), key: n((r) => r.Cwnd), align: "right" },
      {
        title: "Retrans",
        value: (r) =>
          t(r).Total_Retrans === undefined
            ? str(r.Retransmits)
            : `${str(r.Retransmits)}/${t(r).Total_Retrans}`,
        key: n((r) => t(r).Total_Retrans ?? r.Retransmits),
        align: "right",
      },
      {
        title: "Bytes acked",
        value: (r) => bytes(t(r).Bytes_Acked),
        key: n((r) => t(r).Bytes_Acked),
        align: "right",
      },
      {
        title: "Bytes recv",
        value: (r) => bytes(t(r).Bytes_Received),
        key: n((r) => t(r).Bytes_Received),
        align: "right",
      },
      {
        title: "Send rate",
        value: (r) => byteRate(t(r).Send_Rate),
        key: n((r) => t(r).Send_Rate),
        align: "right",
      },
      {
        title: "Recv rate",
        value: (r) => byteRate(t(r).Receive_Rate),
        key: n((r) => t(r).Receive_Rate),
        align: "right",
      },
      {
        title: "Timer",
        value: (r) => r.Timer === "off" ? "off" : `${r.Timer} ${num(r.Timer_Seconds, 2)}s`,
      },
    );
  } else {cols.push({
      title: "Drops",
      value: (r) => str(r.Drops),
      key: n((r) => r.Drops),
      align: "right",
    });}
  cols.push(
    { title: "UID", value: (r) => str(r.UID), key: n((r) => r.UID), align: "right" },
    { title: "Inode", value: (r) => str(r.Inode), key: n((r) => r.Inode), align: "right" },
  );
  return cols;
}

const COUNTER_COLUMNS: Column<CounterRow>[] = [
  { title: "Counter", value: (r) => r.Counter },
  { title: "Group", value: (r) => r.Group },
  { title: "Value", value: (r) => String(r.Value), key: (r) => r.Value, align: "right" },
];

type Neighbour = ArpRow | Neighbour6Row;
const isV6 = (r: Neighbour): r is Neighbour6Row => (r as Neighbour6Row).Family === "IPv6";
const NEIGHBOUR_COLUMNS: Column<Neighbour>[] = [
  { title: "IP Address", value: (r) => r.IP_Address },
  { title: "Family", value: (r) => (isV6(r) ? "IPv6" : "IPv4") },
  { title: "HW Address", value: (r) => r.HW_Address ?? "-" },
  { title: "Device", value: (r) => r.Device },
  {
    title: "State / Flags",
    value: (r) =>
      isV6(r)
        ? [...r.State, ...(r.Router ? ["router"] : [])].join(",") || "NONE"
        : r.Flag_Names.join(",") || `0x${r.Flags.toString(16)}`,
  },
  { title: "HW Type", value: (r) => (isV6(r) ? "-" : `0x${r.HW_Type.toString(16)}`) },
  { title: "Mask", value: (r) => (isV6(r) ? "-" : r.Mask) },
];

const NEIGH_STAT_COLUMNS: Column<NeighStatRow>[] = [
  { title: "Counter", value: (r) => r.Counter },
  { title: "IPv4 (arp_cache)", value: (r) => str(r.IPv4), key: n((r) => r.IPv4), align: "right" },
  { title: "IPv6 (ndisc_cache)", value: (r) => str(r.IPv6), key: n((r) => r.IPv6), align: "right" },
  { title: "Meaning", value: (r) => r.Meaning },
];

/** /proc/net/dev columns, in the file's order, with their units. */
const DEV_COUNTERS: [string, string, "bytes" | "count"][] = [
  ["Receive_Bytes", "RX bytes", "bytes"],
  ["Receive_Packets", "RX packets [pkt]", "count"],
  ["Receive_Errs", "RX errs [pkt]", "count"],
  ["Receive_Drop", "RX drop [pkt]", "count"],
  ["Receive_Fifo", "RX fifo [err]", "count"],
  ["Receive_Frame", "RX frame [err]", "count"],
  ["Receive_Compressed", "RX compressed [pkt]", "count"],
  ["Receive_Multicast", "RX multicast [pkt]", "count"],
  ["Transmit_Bytes", "TX bytes", "bytes"],
  ["Transmit_Packets", "TX packets [pkt]", "count"],
  ["Transmit_Errs", "TX errs [pkt]", "count"],
  ["Transmit_Drop", "TX drop [pkt]", "count"],
  ["Transmit_Fifo", "TX fifo [err]", "count"],
  ["Transmit_Colls", "TX colls [collisions]", "count"],
  ["Transmit_Carrier", "TX carrier [err]", "count"],
  ["Transmit_Compressed", "TX compressed [pkt]", "count"],
];

const c = (r: TrafficRow, k: string) => r[k] as number | null | undefined;
const TRAFFIC_COLUMNS: Column<TrafficRow>[] = [
  { title: "Interface", value: (r) => r.Interface },
  {
    title: "RX rate",
    value: (r) => byteRate(c(r, "Receive_Bytes_Per_Second")),
    key: n((r) => c(r, "Receive_Bytes_Per_Second")),
    align: "right",
  },
  {
    title: "RX [pkt/s]",
    value: (r) => num(c(r, "Receive_Packets_Per_Second")),
    key: n((r) => c(r, "Receive_Packets_Per_Second")),
    align: "right",
  },
  {
    title: "TX rate",
    value: (r) => byteRate(c(r, "Transmit_Bytes_Per_Second")),
    key: n((r) => c(r, "Transmit_Bytes_Per_Second")),
    align: "right",
  },
  {
    title: "TX [pkt/s]",
    value: (r) => num(c(r, "Transmit_Packets_Per_Second")),
    key: n((r) => c(r, "Transmit_Packets_Per_Second")),
    align: "right",
  },
  ...DEV_COUNTERS.map(([k, title, unit]): Column<TrafficRow> => ({
    title,
    value: (r) => unit === "bytes" ? bytes(c(r, k)) : num(c(r, k)),
    key: n((r) => c(r, k)),
    align: "right",
  })),
];

type AnyRoute = RouteRow | TableRouteRow;
const rt = (r: AnyRoute) => r as Partial<TableRouteRow> & Partial<RouteRow>;
const ROUTE_COLUMNS: Column<AnyRoute>[] = [
  { title: "Destination", value: (r) => r.Destination },
  { title: "Family", value: (r) => r.Family },
  { title: "Gateway", value: (r) => r.Gateway ?? "-" },
  { title: "Interface", value: (r) => str(r.Interface) },
  { title: "Metric", value: (r) => String(r.Metric), key: (r) => r.Metric, align: "right" },
  {
    title: "MTU",
    value: (
      r,
    ) => (r.MTU === null ? "-" : `${r.MTU}${rt(r).MTU_Source === "device" ? " (dev)" : ""}`),
    key: n((r) => r.MTU),
    align: "right",
  },
  { title: "Table", value: (r) => str(rt(r).Table) },
  { title: "Type", value: (r) => str(rt(r).Type) },
  { title: "Protocol", value: (r) => str(rt(r).Protocol) },
  { title: "Scope", value: (r) => str(rt(r).Scope) },
  { title: "Source", value: (r) => str(rt(r).Preferred_Source ?? rt(r).Source) },
  { title: "Flags", value: (r) => str(rt(r).Flag_Text) },
];

const ANALYSIS_COLUMNS: Column<AnalysisRow>[] = [
  { title: "Metric", value: (r) => r.Name },
  { title: "Section", value: (r) => r.Section },
  {
    title: "Value",
    value: (r) =>
      `${num(r.Value, 2)}${r.Unit && r.Value !== null ? " " + r.Unit : ""}${
        r.Value_Text ? ` (${r.Value_Text})` : ""
      }`,
    key: n((r) => r.Value),
    align: "right",
  },
  {
    title: "Per second",
    value: (r) => (r.Kind !== "counter" ? "" : r.Reset ? "reset" : num(r.Rate_Per_Second, 2)),
    key: n((r) => r.Rate_Per_Second),
    align: "right",
  },
];

function table<R>(cols: Column<R>[], rows: R[], title?: string): Table {
  return {
    ...(title !== undefined ? { title } : {}),
    columns: cols.map((c) => ({ title: c.title, align: c.align })),
    rows: rows.map((r) => ({
      cells: cols.map((c) => c.value(r)),
      keys: cols.map((c) => (c.key ? c.key(r) : c.value(r))),
    })),
  };
}

/** The tables of a tab: the main one first, then sections (icmp counters, arp statistics). */
export function tabTables(doc: TabDoc): Table[] {
  switch (doc.tab) {
    case "tcp":
    case "udp":
    case "raw":
      return [table(socketColumns(doc.tab), doc.rows as SocketRow[])];
    case "icmp":
      return [
        table(socketColumns(doc.tab), doc.rows as SocketRow[]),
        table(COUNTER_COLUMNS, doc.counters ?? [], "ICMP counters"),
      ];
    case "arp":
      return [
        table(NEIGHBOUR_COLUMNS, doc.rows as Neighbour[]),
        table(
          NEIGH_STAT_COLUMNS,
          doc.statistics ?? [],
          "Neighbour cache statistics (/proc/net/stat)",
        ),
      ];
    case "traffic":
      return [table(TRAFFIC_COLUMNS, doc.rows as TrafficRow[])];
    case "stats":
      return [table(COUNTER_COLUMNS, doc.rows as CounterRow[])];
    case "routing":
      return [table(ROUTE_COLUMNS, doc.rows as AnyRoute[])];
    case "analysis":
      return [table(ANALYSIS_COLUMNS, doc.rows as AnalysisRow[])];
  }
}

/** Lines for piped output: each table laid out in full (header first), sections after. */
export function tabLines(doc: TabDoc): string[] {
  const out: string[] = [];
  for (const t of tabTables(doc)) {
    if (out.length > 0) out.push("");
    if (t.title) out.push(t.title);
    out.push(
      ...layoutTable(
        t.columns.map((col, i) => ({
          title: col.title,
          align: col.align,
          value: (r: string[]) => r[i],
        })),
        t.rows.map((r) => r.cells),
      ),
    );
  }
  return out;
}
