/**
 * Every setting netmon has, in one table: INI section and key, type, default,
 * environment variable and help text. The INI template (`netmon config generate`),
 * validation, `config show` and the capture pipeline all read this table, so a
 * setting is added in one place.
 */
import { defaultServeSettings, SERVE_SETTINGS, type ServeSettings } from "./settings_serve.ts";

export type SettingType = "string" | "int" | "number" | "bool" | "list" | "enum";

export interface SettingSpec {
  /** Property name in {@link Settings}. */
  readonly name: keyof Settings;
  readonly section:
    | "capture"
    | "decode"
    | "filter"
    | "server"
    | "spool"
    | "flow"
    | "log"
    | "serve";
  /** INI key inside the section. */
  readonly key: string;
  readonly type: SettingType;
  readonly help: string;
  /** Allowed values for "enum". */
  readonly values?: readonly string[];
  /** Inclusive bounds for numbers. */
  readonly min?: number;
  readonly max?: number;
  /** Environment variable that overrides the config file. */
  readonly env?: string;
}

/** The effective settings of a run. */
export interface Settings extends ServeSettings {
  // [capture]
  interface: string;
  snaplen: number;
  promisc: boolean;
  bufferMb: number;
  statusInterval: number;
  user: string;
  processes: boolean;
  // [decode]
  reassemble: boolean;
  reassemblyMemoryMb: number;
  reassemblyTimeout: number;
  udpPorts: string[];
  // [filter]
  filter: string[];
  exclude: string[];
  captureSelf: boolean;
  // [server]
  serverUrl: string;
  serverFormat: "ndjson" | "clickhouse";
  serverToken: string;
  serverTable: string;
  gzip: boolean;
  batchRecords: number;
  batchBytes: number;
  batchSeconds: number;
  retryInterval: number;
  inFlight: number;
  graceSeconds: number;
  queueRecords: number;
  requestTimeout: number;
  // [spool]
  spoolDir: string;
  spoolMaxBytes: number;
  // [flow]
  flows: boolean;
  flowsOnly: boolean;
  communityId: boolean;
  tcpIdleTimeout: number;
  udpIdleTimeout: number;
  icmpIdleTimeout: number;
  activeTimeout: number;
  maxFlows: number;
  // [log]
  logFile: string;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Default spool directory: $XDG_STATE_HOME/netmon/spool or ~/.local/state/netmon/spool. */
export function defaultSpoolDir(): string {
  const state = Deno.env.get("XDG_STATE_HOME") ||
    `${Deno.env.get("HOME") || "/var/lib"}/.local/state`;
  return `${state}/netmon/spool`;
}

export function defaultSettings(): Settings {
  return {
    interface: "",
    snaplen: 262144,
    promisc: true,
    bufferMb: 64,
    statusInterval: 5,
    user: "",
    processes: true,
    reassemble: true,
    reassemblyMemoryMb: 32,
    reassemblyTimeout: 30,
    udpPorts: [],
    filter: [],
    exclude: [],
    captureSelf: false,
    serverUrl: "",
    serverFormat: "ndjson",
    serverToken: "",
    serverTable: "netmon.records",
    gzip: false,
    batchRecords: 10000,
    batchBytes: 8 * 1024 * 1024,
    batchSeconds: 2,
    retryInterval: 5,
    inFlight: 2,
    graceSeconds: 5,
    queueRecords: 20000,
    requestTimeout: 30,
    spoolDir: defaultSpoolDir(),
    spoolMaxBytes: 1024 * 1024 * 1024,
    flows: true,
    flowsOnly: false,
    communityId: false,
    tcpIdleTimeout: 300,
    udpIdleTimeout: 60,
    icmpIdleTimeout: 60,
    activeTimeout: 1800,
    maxFlows: 100000,
    logFile: "",
    logLevel: "info",
    ...defaultServeSettings(),
  };
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    name: "interface",
    section: "capture",
    key: "interface",
    type: "string",
    env: "NETMON_INTERFACE",
    help: "Interface to capture on (live capture).",
  },
  {
    name: "snaplen",
    section: "capture",
    key: "snaplen",
    type: "int",
    min: 64,
    max: 262144,
    help: "Bytes captured per frame.",
  },
  {
    name: "promisc",
    section: "capture",
    key: "promiscuous",
    type: "bool",
    help: "Put the interface in promiscuous mode (undone when netmon exits).",
  },
  {
    name: "bufferMb",
    section: "capture",
    key: "buffer_mb",
    type: "int",
    min: 1,
    max: 4096,
    help: "Size of the kernel receive ring in MiB.",
  },
  {
    name: "statusInterval",
    section: "capture",
    key: "status_interval",
    type: "number",
    min: 0,
    max: 3600,
    help: "Seconds between status lines on a terminal (0: none).",
  },
  {
    name: "user",
    section: "capture",
    key: "user",
    type: "string",
    help: "Drop root to this user once the socket is open (like tcpdump -Z).",
  },
  {
    name: "processes",
    section: "capture",
    key: "processes",
    type: "bool",
    help: "Live capture: name the local process behind each flow (Process in records; needs root).",
  },
  {
    name: "reassemble",
    section: "decode",
    key: "reassemble",
    type: "bool",
    help: "Reassemble IPv4/IPv6 fragments: the last fragment carries the whole datagram.",
  },
  {
    name: "reassemblyMemoryMb",
    section: "decode",
    key: "reassembly_memory_mb",
    type: "int",
    min: 1,
    max: 4096,
    help: "MiB the fragments held for reassembly may take; at the cap the oldest are dropped.",
  },
  {
    name: "reassemblyTimeout",
    section: "decode",
    key: "reassembly_timeout",
    type: "number",
    min: 1,
    max: 3600,
    help: "Seconds a datagram may wait for its missing fragments.",
  },
  {
    name: "udpPorts",
    section: "decode",
    key: "udp_port",
    type: "list",
    help: "Move a tunnel protocol to other UDP ports: NAME:PORT[,PORT] (vxlan, geneve, ...).",
  },
  {
    name: "filter",
    section: "filter",
    key: "filter",
    type: "list",
    help: "Keep only records matching these JSON filters (file paths or inline JSON); repeatable.",
  },
  {
    name: "exclude",
    section: "filter",
    key: "exclude",
    type: "list",
    help: "Drop records matching these JSON filters (file paths or inline JSON); repeatable.",
  },
  {
    name: "captureSelf",
    section: "filter",
    key: "capture_self",
    type: "bool",
    help: "Also capture netmon's own traffic to the server (off: excluded in the kernel).",
  },
  {
    name: "serverUrl",
    section: "server",
    key: "url",
    type: "string",
    env: "NETMON_SERVER",
    help: "Monitor server URL; empty keeps records in the local spool.",
  },
  {
    name: "serverFormat",
    section: "server",
    key: "format",
    type: "enum",
    values: ["ndjson", "clickhouse"],
    help: "Submission format.",
  },
  {
    name: "serverToken",
    section: "server",
    key: "token",
    type: "string",
    env: "NETMON_SERVER_TOKEN",
    help: "Bearer token sent to the server.",
  },
  {
    name: "serverTable",
    section: "server",
    key: "table",
    type: "string",
    help: "ClickHouse table for format=clickhouse.",
  },
  {
    name: "gzip",
    section: "server",
    key: "gzip",
    type: "bool",
    help: "Compress ndjson batches with gzip.",
  },
  {
    name: "batchRecords",
    section: "server",
    key: "batch_records",
    type: "int",
    min: 1,
    max: 10000000,
    help: "A batch closes at this many records.",
  },
  {
    name: "batchBytes",
    section: "server",
    key: "batch_bytes",
    type: "int",
    min: 1024,
    max: 1073741824,
    help: "A batch closes at this many bytes.",
  },
  {
    name: "batchSeconds",
    section: "server",
    key: "batch_seconds",
    type: "number",
    min: 0.01,
    max: 3600,
    help: "A batch closes after this many seconds.",
  },
  {
    name: "retryInterval",
    section: "server",
    key: "retry_interval",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Seconds between probes of a server that is down.",
  },
  {
    name: "inFlight",
    section: "server",
    key: "in_flight",
    type: "int",
    min: 1,
    max: 2,
    help: "Batches in flight at once.",
  },
  {
    name: "graceSeconds",
    section: "server",
    key: "grace_seconds",
    type: "number",
    min: 0,
    max: 600,
    help: "At exit, seconds to wait for in-flight batches before leaving them in the spool.",
  },
  {
    name: "queueRecords",
    section: "server",
    key: "queue_records",
    type: "int",
    min: 100,
    max: 10000000,
    help:
      "Bound of the queue between capture and batcher; beyond it records are dropped and counted.",
  },
  {
    name: "requestTimeout",
    section: "server",
    key: "request_timeout",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Seconds a request may take before it counts as failed (the batch is retried).",
  },
  {
    name: "spoolDir",
    section: "spool",
    key: "dir",
    type: "string",
    env: "NETMON_SPOOL",
    help: "Spool directory for JSONL segments.",
  },
  {
    name: "spoolMaxBytes",
    section: "spool",
    key: "max_bytes",
    type: "int",
    min: 1048576,
    max: 1099511627776,
    help: "Spool size cap; at the cap the oldest segments are dropped and counted.",
  },
  {
    name: "flows",
    section: "flow",
    key: "enabled",
    type: "bool",
    help: "Track TCP/UDP/ICMP flows and emit flow records.",
  },
  {
    name: "flowsOnly",
    section: "flow",
    key: "flows_only",
    type: "bool",
    help: "Ship flow records only, no per-packet records.",
  },
  {
    name: "communityId",
    section: "flow",
    key: "community_id",
    type: "bool",
    help: "Add Community ID to packet records too.",
  },
  {
    name: "tcpIdleTimeout",
    section: "flow",
    key: "tcp_idle_timeout",
    type: "number",
    min: 1,
    max: 86400,
    help: "Seconds of silence before a TCP flow ends.",
  },
  {
    name: "udpIdleTimeout",
    section: "flow",
    key: "udp_idle_timeout",
    type: "number",
    min: 1,
    max: 86400,
    help: "Seconds of silence before a UDP flow ends.",
  },
  {
    name: "icmpIdleTimeout",
    section: "flow",
    key: "icmp_idle_timeout",
    type: "number",
    min: 1,
    max: 86400,
    help: "Seconds of silence before an ICMP flow ends.",
  },
  {
    name: "activeTimeout",
    section: "flow",
    key: "active_timeout",
    type: "number",
    min: 1,
    max: 604800,
    help: "A long flow emits an interim record after this many seconds.",
  },
  {
    name: "maxFlows",
    section: "flow",
    key: "max_flows",
    type: "int",
    min: 16,
    max: 10000000,
    help: "Cap on tracked flows; at the cap the oldest idle flows are evicted.",
  },
  {
    name: "logFile",
    section: "log",
    key: "file",
    type: "string",
    help: "Also write log lines to this file.",
  },
  {
    name: "logLevel",
    section: "log",
    key: "level",
    type: "enum",
    values: ["debug", "info", "warn", "error"],
    env: "NETMON_LOG_LEVEL",
    help: "Lowest level logged.",
  },
  ...SERVE_SETTINGS,
];
