/**
 * How each tab's rows look as text: the columns of the terminal view and of piped
 * (non-JSON) output. Pure functions of a {@link TabDoc}.
 *
 * @module
 */
import type { ArpRow } from "../proc/arp.ts";
import type { RouteRow } from "../proc/route.ts";
import type { SocketRow } from "../proc/sockets.ts";
import type { AnalysisRow, CounterRow, TabDoc, TrafficRow } from "../proc/tabs.ts";
import { type Column, layoutTable } from "./table.ts";

const str = (v: unknown): string => (v === undefined || v === null ? "-" : String(v));

/** Human number: integers as is, others with up to 1 decimal; null as "-". */
export function num(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return "-";
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(digits);
}

/** Bytes per second as B/s, KiB/s, MiB/s, GiB/s. */
export function byteRate(v: number | null | undefined): string {
  if (v === null || v === undefined) return "-";
  const units = ["B/s", "KiB/s", "MiB/s", "GiB/s"];
  let x = v, u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${u === 0 ? Math.round(x) : x.toFixed(1)} ${units[u]}`;
}

function socketColumns(tab: string): Column<SocketRow>[] {
  const cols: Column<SocketRow>[] = [
    { title: "Own", value: (r) => (r.Own ? "*" : "") },
    { title: "Proto", value: (r) => r.Protocol },
    { title: "Local Address", value: (r) => r.Local_Address },
    { title: "Port", value: (r) => String(r.Local_Port), align: "right" },
    { title: "Remote Address", value: (r) => r.Remote_Address },
    { title: "Port", value: (r) => String(r.Remote_Port), align: "right" },
    { title: "State", value: (r) => r.State },
    { title: "Send-Q", value: (r) => str(r.Tx_Queue), align: "right" },
    { title: "Recv-Q", value: (r) => str(r.Rx_Queue), align: "right" },
  ];
  if (tab === "tcp") {
    cols.push(
      {
        title: "Timer",
        value: (r) => r.Timer === "off" ? "off" : `${r.Timer} ${num(r.Timer_Seconds, 2)}s`,
      },
      { title: "Retr", value: (r) => str(r.Retransmits), align: "right" },
    );
  } else cols.push({ title: "Drops", value: (r) => str(r.Drops), align: "right" });
  cols.push(
    { title: "UID", value: (r) => str(r.UID), align: "right" },
    { title: "Inode", value: (r) => str(r.Inode), align: "right" },
  );
  return cols;
}

const COUNTER_COLUMNS: Column<CounterRow>[] = [
  { title: "Group", value: (r) => r.Group },
  { title: "Counter", value: (r) => r.Counter },
  { title: "Value", value: (r) => String(r.Value), align: "right" },
];

const ARP_COLUMNS: Column<ArpRow>[] = [
  { title: "IP Address", value: (r) => r.IP_Address },
  { title: "HW Address", value: (r) => r.HW_Address },
  { title: "HW Type", value: (r) => `0x${r.HW_Type.toString(16)}` },
  { title: "Flags", value: (r) => r.Flag_Names.join(",") || `0x${r.Flags.toString(16)}` },
  { title: "Mask", value: (r) => r.Mask },
  { title: "Device", value: (r) => r.Device },
];

const c = (r: TrafficRow, k: string) => r[k] as number | null | undefined;
const TRAFFIC_COLUMNS: Column<TrafficRow>[] = [
  { title: "Interface", value: (r) => r.Interface },
  { title: "RX rate", value: (r) => byteRate(c(r, "Receive_Bytes_Per_Second")), align: "right" },
  { title: "RX pkt/s", value: (r) => num(c(r, "Receive_Packets_Per_Second")), align: "right" },
  { title: "TX rate", value: (r) => byteRate(c(r, "Transmit_Bytes_Per_Second")), align: "right" },
  { title: "TX pkt/s", value: (r) => num(c(r, "Transmit_Packets_Per_Second")), align: "right" },
  { title: "RX bytes", value: (r) => num(c(r, "Receive_Bytes")), align: "right" },
  { title: "RX pkts", value: (r) => num(c(r, "Receive_Packets")), align: "right" },
  { title: "RX errs", value: (r) => num(c(r, "Receive_Errs")), align: "right" },
  { title: "RX drop", value: (r) => num(c(r, "Receive_Drop")), align: "right" },
  { title: "TX bytes", value: (r) => num(c(r, "Transmit_Bytes")), align: "right" },
  { title: "TX pkts", value: (r) => num(c(r, "Transmit_Packets")), align: "right" },
  { title: "TX errs", value: (r) => num(c(r, "Transmit_Errs")), align: "right" },
  { title: "TX drop", value: (r) => num(c(r, "Transmit_Drop")), align: "right" },
];

const ROUTE_COLUMNS: Column<RouteRow>[] = [
  { title: "Destination", value: (r) => r.Destination },
  { title: "Gateway", value: (r) => r.Gateway ?? "-" },
  { title: "Interface", value: (r) => r.Interface },
  { title: "Metric", value: (r) => String(r.Metric), align: "right" },
  { title: "MTU", value: (r) => str(r.MTU), align: "right" },
  { title: "Flags", value: (r) => r.Flag_Text },
  { title: "Ref", value: (r) => String(r.Ref_Count), align: "right" },
  { title: "Use", value: (r) => String(r.Use), align: "right" },
];

const ANALYSIS_COLUMNS: Column<AnalysisRow>[] = [
  { title: "Section", value: (r) => r.Section },
  { title: "Metric", value: (r) => r.Name },
  {
    title: "Value",
    value: (r) =>
      `${num(r.Value, 2)}${r.Unit && r.Value !== null ? " " + r.Unit : ""}${
        r.Value_Text ? ` (${r.Value_Text})` : ""
      }`,
    align: "right",
  },
  {
    title: "Per second",
    value: (r) => (r.Kind !== "counter" ? "" : r.Reset ? "reset" : num(r.Rate_Per_Second, 2)),
    align: "right",
  },
];

/** Lines for a tab's rows (header first); the icmp tab appends its counters. */
export function tabLines(doc: TabDoc): string[] {
  switch (doc.tab) {
    case "tcp":
    case "udp":
    case "raw":
      return layoutTable(socketColumns(doc.tab), doc.rows as SocketRow[]);
    case "icmp":
      return [
        ...layoutTable(socketColumns(doc.tab), doc.rows as SocketRow[]),
        "",
        ...layoutTable(COUNTER_COLUMNS, doc.counters ?? []),
      ];
    case "arp":
      return layoutTable(ARP_COLUMNS, doc.rows as ArpRow[]);
    case "traffic":
      return layoutTable(TRAFFIC_COLUMNS, doc.rows as TrafficRow[]);
    case "stats":
      return layoutTable(COUNTER_COLUMNS, doc.rows as CounterRow[]);
    case "routing":
      return layoutTable(ROUTE_COLUMNS, doc.rows as RouteRow[]);
    case "analysis":
      return layoutTable(ANALYSIS_COLUMNS, doc.rows as AnalysisRow[]);
  }
}
