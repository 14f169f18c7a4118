/**
 * The store's one column table (Akvorado's `common/schema` in spirit): every typed column
 * of `flows`, `packets` and `agents`, with its type, how ingest reads it from a record,
 * which filter attributes it holds exactly and whether the query API (and the console's
 * pickers) offer it as a dimension. The DDL of both stores, the insert path, the filter
 * compiler and the dimension list are all derived from here.
 *
 * Adding a column: one line in a table below with `since: <next schema version>`, and a
 * line in {@link SCHEMA_VERSIONS} saying what that version brought. The migration is then
 * derived: the backends add the column and fill it from the stored record of every row
 * (tests/store/migrate_test.ts shows it with an extra column).
 *
 * Names are the record attribute names (Title_Snake_Case), so a dimension, a filter and a
 * record say the same word. Where two layers share an attribute name in one table (the
 * Ethernet and the IP `Source_Address` of a packet) the IP one keeps the plain name and
 * the other is prefixed with its layer (`Ethernet_Source_Address`).
 *
 * Values: times and durations are integers of nanoseconds (bigint in JavaScript), IP
 * addresses 16 bytes with IPv4 mapped into IPv6 (see ip.ts), MAC addresses 48-bit
 * integers, flags bit sets.
 */
import { addressBytes, macNumber } from "./ip.ts";
import { TCP_FLAG_NAMES } from "../filter/schema.ts";
import { protoName } from "../flow/tracker.ts";

/** The logical type of a column; each backend maps it to its own column type. */
export type StoreType =
  | "UInt8"
  | "UInt16"
  | "UInt32"
  | "UInt64"
  /** Nanoseconds since the epoch (bigint). */
  | "Time"
  /** Nanoseconds (bigint). */
  | "Duration"
  /** 16 bytes, IPv4 mapped into IPv6. */
  | "IP"
  /** 48-bit integer. */
  | "MAC"
  | "String"
  /** A string with few distinct values (ClickHouse LowCardinality where it exists). */
  | "LowString"
  | "Bool"
  /** The whole record as JSON text (without the Netmon envelope). */
  | "Record";

/** A record attribute a filter names: [layer, attribute]; layer "" for top-level values. */
export type FilterPath = readonly [string, string];

export type RecordObject = Record<string, unknown>;
type Layer = Record<string, unknown> | undefined;

export interface Column {
  readonly name: string;
  readonly type: StoreType;
  /** May be absent (NULL); otherwise a default is stored. */
  readonly nullable: boolean;
  /** The raw value from a record (text, number, boolean), converted by {@link toValue}. */
  readonly read: (r: RecordObject) => unknown;
  /**
   * Filter attributes whose value this column holds, in precedence order: the column
   * reads the first of these layers the record has. A filter on the k-th path can use
   * the column when the record has that layer and none of the earlier ones.
   */
  readonly from?: readonly FilterPath[];
  /** Flag names of a bit-set column, bit i = names[i] (a `flags` filter value). */
  readonly bits?: readonly string[];
  /** Offered as a query dimension (and a console picker). */
  readonly dimension?: boolean;
  /** Schema version that added the column. */
  readonly since: number;
  readonly doc: string;
}

export type TableName = "flows" | "packets";

export interface TableSchema {
  readonly name: TableName;
  /** The Netmon.Record_Type of its records. */
  readonly record: "flow" | "packet";
  readonly columns: readonly Column[];
  /** The time column (series buckets, time ranges, retention). */
  readonly time: string;
  /** Either-end dimensions: name -> the two columns a record counts under. */
  readonly either: Readonly<Record<string, readonly [string, string]>>;
  /** Columns whose sum is each metric; `null` counts rows. */
  readonly metrics: Readonly<Record<Metric, readonly string[] | null>>;
}

export type Metric = "bytes" | "packets" | "records";
export const METRICS: readonly Metric[] = ["bytes", "packets", "records"];

/** Schema versions and what each brought (the database records the one it has). */
export const SCHEMA_VERSIONS: readonly { version: number; note: string }[] = [
  { version: 1, note: "ndjson rows: batches + records(body TEXT) (netmon 0.1)" },
  { version: 2, note: "typed tables flows, packets, agents" },
];
export const SCHEMA_VERSION = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1].version;

// ---- readers ------------------------------------------------------------------------

const L = (r: RecordObject, k: string): Layer => r[k] as Layer;
const ip = (r: RecordObject): Layer => L(r, "IPv4") ?? L(r, "IPv6");
const transport = (r: RecordObject): Layer => L(r, "TCP") ?? L(r, "UDP");
const F = (r: RecordObject): Record<string, unknown> => (r.Flow ?? {}) as Record<string, unknown>;
/** The first VLAN tag (802.1Q or 802.1ad), as the record's key order has it. */
const tag = (r: RecordObject): Layer => L(r, "802.1ad") ?? L(r, "802.1Q");

/** The protocol number the outermost IP header carries (IPv6: after extension headers). */
function ipProtocol(r: RecordObject): number | null {
  const v4 = L(r, "IPv4");
  if (v4 !== undefined) return v4.Protocol as number;
  const v6 = L(r, "IPv6");
  if (v6 === undefined) return null;
  const ext = v6.Extension_Headers;
  if (Array.isArray(ext) && ext.length > 0) {
    const last = ext[ext.length - 1] as Record<string, unknown>;
    if (typeof last.Next_Header === "number") return last.Next_Header;
  }
  return v6.Next_Header as number;
}

/** The EtherType of the network layer: after the VLAN tags. */
function etherType(r: RecordObject): unknown {
  let t: unknown = L(r, "Ethernet")?.EtherType;
  for (const k of ["802.1ad", "802.1Q", "802.1Q_2", "802.1Q_3"]) {
    const v = L(r, k)?.EtherType;
    if (v !== undefined) t = v;
  }
  return t;
}

/**
 * Layer keys with a bit in the packets' `Layers` column (position = bit). Only appended
 * to: stored rows keep their bits. A layer not listed is found through the record.
 */
export const LAYER_BITS: readonly string[] = [
  "AF_Packet",
  "SLL",
  "Ethernet",
  "802.1Q",
  "802.1ad",
  "ISL",
  "LLC",
  "SNAP",
  "STP",
  "ARP",
  "IPv4",
  "IPv6",
  "ICMP",
  "ICMPv6",
  "IGMP",
  "TCP",
  "UDP",
  "CDP",
  "LLDP",
  "Payload",
  "Decode_Errors",
  "Community_ID",
];
const BIT = new Map(LAYER_BITS.map((k, i) => [k, 2 ** i]));

/** The `Layers` bit of a layer key, or null when it has none. */
export function layerBit(layer: string): number | null {
  return BIT.get(layer) ?? null;
}

function layerMask(r: RecordObject): number {
  let m = 0;
  for (const k in r) {
    const b = BIT.get(k);
    if (b !== undefined) m += b;
  }
  return m;
}

function tcpFlags(r: RecordObject): number | null {
  const f = L(r, "TCP")?.Flags as Record<string, boolean> | undefined;
  if (f === undefined) return null;
  let n = 0;
  for (let i = 0; i < TCP_FLAG_NAMES.length; i++) if (f[TCP_FLAG_NAMES[i]] === true) n |= 1 << i;
  return n;
}

/** The bit of a TCP flag in `TCP_Flags`. */
export function tcpFlagBit(name: string): number {
  const i = (TCP_FLAG_NAMES as readonly string[]).indexOf(name);
  return i < 0 ? 0 : 1 << i;
}

// ---- the tables ---------------------------------------------------------------------

type C = Omit<Column, "nullable" | "since"> & { nullable?: boolean; since?: number };
const col = (c: C): Column => ({ nullable: true, since: 2, ...c });

/** Columns every record table starts with (the envelope: who sent it, in which order). */
const ENVELOPE: Column[] = [
  col({
    name: "Agent_ID",
    type: "LowString",
    nullable: false,
    read: () => null,
    dimension: true,
    doc: "agent that captured the record (envelope)",
  }),
  col({
    name: "Run_ID",
    type: "LowString",
    nullable: false,
    read: () => null,
    doc: "agent run (envelope)",
  }),
  col({
    name: "Sequence",
    type: "UInt64",
    nullable: false,
    read: () => null,
    doc: "record sequence in the run (envelope)",
  }),
];

const FLOW_COLUMNS: Column[] = [
  ...ENVELOPE,
  col({
    name: "Start",
    type: "Time",
    nullable: false,
    read: (r) => F(r).Start,
    from: [["Flow", "Start"]],
    doc: "first packet (ns)",
  }),
  col({
    name: "End",
    type: "Time",
    nullable: false,
    read: (r) => F(r).End,
    from: [["Flow", "End"]],
    doc: "last packet (ns)",
  }),
  col({
    name: "Duration",
    type: "Duration",
    nullable: false,
    read: (r) => F(r).Duration,
    from: [["Flow", "Duration"]],
    doc: "End - Start (ns)",
  }),
  col({
    name: "Flow_ID",
    type: "String",
    read: (r) => F(r).Flow_ID,
    doc: "flow id within the agent run",
  }),
  col({
    name: "IP_Version",
    type: "UInt8",
    read: (r) => F(r).IP_Version,
    from: [["Flow", "IP_Version"]],
    doc: "4 or 6",
  }),
  col({
    name: "Protocol",
    type: "LowString",
    read: (r) => F(r).Protocol,
    from: [["Flow", "Protocol"]],
    dimension: true,
    doc: "TCP, UDP, ICMP, ICMPv6 or the protocol number",
  }),
  col({
    name: "Protocol_Number",
    type: "UInt8",
    read: (r) => F(r).Protocol_Number,
    from: [["Flow", "Protocol_Number"]],
    doc: "IP protocol number",
  }),
  col({
    name: "Source_Address",
    type: "IP",
    read: (r) => F(r).Source_Address,
    from: [["Flow", "Source_Address"]],
    dimension: true,
    doc: "originator address",
  }),
  col({
    name: "Source_Port",
    type: "UInt16",
    read: (r) => F(r).Source_Port,
    from: [["Flow", "Source_Port"]],
    dimension: true,
    doc: "originator port",
  }),
  col({
    name: "Destination_Address",
    type: "IP",
    read: (r) => F(r).Destination_Address,
    from: [["Flow", "Destination_Address"]],
    dimension: true,
    doc: "responder address",
  }),
  col({
    name: "Destination_Port",
    type: "UInt16",
    read: (r) => F(r).Destination_Port,
    from: [["Flow", "Destination_Port"]],
    dimension: true,
    doc: "responder port",
  }),
  col({
    name: "Originator_Packets",
    type: "UInt64",
    nullable: false,
    read: (r) => F(r).Originator_Packets,
    from: [["Flow", "Originator_Packets"]],
    doc: "packets originator to responder",
  }),
  col({
    name: "Originator_Bytes",
    type: "UInt64",
    nullable: false,
    read: (r) => F(r).Originator_Bytes,
    from: [["Flow", "Originator_Bytes"]],
    doc: "IP bytes originator to responder",
  }),
  col({
    name: "Responder_Packets",
    type: "UInt64",
    nullable: false,
    read: (r) => F(r).Responder_Packets,
    from: [["Flow", "Responder_Packets"]],
    doc: "packets responder to originator",
  }),
  col({
    name: "Responder_Bytes",
    type: "UInt64",
    nullable: false,
    read: (r) => F(r).Responder_Bytes,
    from: [["Flow", "Responder_Bytes"]],
    doc: "IP bytes responder to originator",
  }),
  col({
    name: "State",
    type: "LowString",
    read: (r) => F(r).State,
    from: [["Flow", "State"]],
    dimension: true,
    doc: "Zeek conn_state",
  }),
  col({
    name: "History",
    type: "String",
    read: (r) => F(r).History,
    from: [["Flow", "History"]],
    doc: "Zeek-style history letters",
  }),
  col({
    name: "End_Reason",
    type: "LowString",
    read: (r) => F(r).End_Reason,
    from: [["Flow", "End_Reason"]],
    dimension: true,
    doc: "why the record was emitted",
  }),
  col({
    name: "Interim",
    type: "Bool",
    nullable: false,
    read: (r) => F(r).Interim,
    from: [["Flow", "Interim"]],
    doc: "periodic record of a long flow",
  }),
  col({
    name: "Community_ID",
    type: "String",
    read: (r) => F(r).Community_ID,
    from: [["Flow", "Community_ID"]],
    dimension: true,
    doc: "Community ID v1",
  }),
  col({
    name: "VLAN_ID",
    type: "UInt16",
    read: (r) => F(r).VLAN_ID,
    from: [["Flow", "VLAN_ID"]],
    dimension: true,
    doc: "outer VLAN id",
  }),
  col({
    name: "Interface_Name",
    type: "LowString",
    read: (r) => F(r).Interface_Name,
    from: [["Flow", "Interface_Name"]],
    dimension: true,
    doc: "capture interface",
  }),
  col({
    name: "Record",
    type: "Record",
    nullable: false,
    read: () => null,
    doc: "the whole record",
  }),
];

const PACKET_COLUMNS: Column[] = [
  ...ENVELOPE,
  col({
    name: "Timestamp",
    type: "Time",
    nullable: false,
    read: (r) => L(r, "AF_Packet")?.Timestamp,
    from: [["AF_Packet", "Timestamp"]],
    doc: "capture time (ns)",
  }),
  col({
    name: "Interface_Name",
    type: "LowString",
    read: (r) => L(r, "AF_Packet")?.Interface_Name,
    from: [["AF_Packet", "Interface_Name"]],
    dimension: true,
    doc: "capture interface",
  }),
  col({
    name: "Length",
    type: "UInt32",
    nullable: false,
    read: (r) => L(r, "AF_Packet")?.Length,
    from: [["AF_Packet", "Length"]],
    doc: "frame length on the wire",
  }),
  col({
    name: "Captured_Length",
    type: "UInt32",
    nullable: false,
    read: (r) => L(r, "AF_Packet")?.Captured_Length,
    from: [["AF_Packet", "Captured_Length"]],
    doc: "bytes captured",
  }),
  col({
    name: "Layers",
    type: "UInt64",
    nullable: false,
    read: layerMask,
    doc: "bit set of the layer keys present (LAYER_BITS)",
  }),
  col({
    name: "Ethernet_Source_Address",
    type: "MAC",
    read: (r) => L(r, "Ethernet")?.Source_Address,
    from: [["Ethernet", "Source_Address"]],
    doc: "source MAC",
  }),
  col({
    name: "Ethernet_Destination_Address",
    type: "MAC",
    read: (r) => L(r, "Ethernet")?.Destination_Address,
    from: [["Ethernet", "Destination_Address"]],
    doc: "destination MAC",
  }),
  col({
    name: "EtherType",
    type: "UInt16",
    read: etherType,
    dimension: true,
    doc: "EtherType of the network layer (after VLAN tags)",
  }),
  col({
    name: "VLAN_ID",
    type: "UInt16",
    read: (r) => tag(r)?.VLAN_ID,
    dimension: true,
    doc: "VLAN id of the outer tag",
  }),
  col({
    name: "IP_Version",
    type: "UInt8",
    read: (r) => L(r, "IPv4") !== undefined ? 4 : L(r, "IPv6") !== undefined ? 6 : null,
    doc: "4 or 6 (the outer IP header)",
  }),
  col({
    name: "Source_Address",
    type: "IP",
    read: (r) => ip(r)?.Source_Address,
    from: [["IPv4", "Source_Address"], ["IPv6", "Source_Address"]],
    dimension: true,
    doc: "IP source (IPv4 if present, else IPv6)",
  }),
  col({
    name: "Destination_Address",
    type: "IP",
    read: (r) => ip(r)?.Destination_Address,
    from: [["IPv4", "Destination_Address"], ["IPv6", "Destination_Address"]],
    dimension: true,
    doc: "IP destination",
  }),
  col({
    name: "Protocol_Number",
    type: "UInt8",
    read: ipProtocol,
    from: [["IPv4", "Protocol"]],
    doc: "IP protocol (IPv6: after extension headers)",
  }),
  col({
    name: "Protocol",
    type: "LowString",
    read: (r) => {
      const p = ipProtocol(r);
      return p === null || p === undefined ? null : protoName(p);
    },
    dimension: true,
    doc: "TCP, UDP, ICMP, ICMPv6 or the protocol number (as flows name it)",
  }),
  col({
    name: "TTL",
    type: "UInt8",
    read: (r) => L(r, "IPv4")?.TTL ?? L(r, "IPv6")?.Hop_Limit,
    from: [["IPv4", "TTL"], ["IPv6", "Hop_Limit"]],
    doc: "IPv4 TTL or IPv6 hop limit",
  }),
  col({
    name: "Source_Port",
    type: "UInt16",
    read: (r) => transport(r)?.Source_Port,
    from: [["TCP", "Source_Port"], ["UDP", "Source_Port"]],
    dimension: true,
    doc: "TCP or UDP source port",
  }),
  col({
    name: "Destination_Port",
    type: "UInt16",
    read: (r) => transport(r)?.Destination_Port,
    from: [["TCP", "Destination_Port"], ["UDP", "Destination_Port"]],
    dimension: true,
    doc: "TCP or UDP destination port",
  }),
  col({
    name: "TCP_Flags",
    type: "UInt16",
    read: tcpFlags,
    from: [["TCP", "Flags"]],
    bits: TCP_FLAG_NAMES,
    doc: "TCP flags as bits (TCP_FLAG_NAMES order)",
  }),
  col({
    name: "Decode_Errors",
    type: "UInt16",
    nullable: false,
    read: (r) => Array.isArray(r.Decode_Errors) ? r.Decode_Errors.length : 0,
    doc: "number of decode problems",
  }),
  col({
    name: "Community_ID",
    type: "String",
    read: (r) => r.Community_ID,
    from: [["", "Community_ID"]],
    dimension: true,
    doc: "Community ID v1 (with --community-id)",
  }),
  col({
    name: "Record",
    type: "Record",
    nullable: false,
    read: () => null,
    doc: "the whole record",
  }),
];

export const FLOWS: TableSchema = {
  name: "flows",
  record: "flow",
  columns: FLOW_COLUMNS,
  time: "Start",
  either: {
    Address: ["Source_Address", "Destination_Address"],
    Port: ["Source_Port", "Destination_Port"],
  },
  metrics: {
    bytes: ["Originator_Bytes", "Responder_Bytes"],
    packets: ["Originator_Packets", "Responder_Packets"],
    records: null,
  },
};

export const PACKETS: TableSchema = {
  name: "packets",
  record: "packet",
  columns: PACKET_COLUMNS,
  time: "Timestamp",
  either: {
    Address: ["Source_Address", "Destination_Address"],
    Port: ["Source_Port", "Destination_Port"],
  },
  metrics: { bytes: ["Length"], packets: null, records: null },
};

/** The record tables. */
export interface StoreSchema {
  readonly flows: TableSchema;
  readonly packets: TableSchema;
  /** The newest version this schema describes. */
  readonly version: number;
}

export const SCHEMA: StoreSchema = { flows: FLOWS, packets: PACKETS, version: SCHEMA_VERSION };

/** What an agent says about itself (batch header `Netmon-Agent`, see docs/server.md). */
export interface AgentReport {
  Host_Name?: string;
  Kernel_Drops?: number;
  Queue_Drops?: number;
  Spool_Records?: number;
}

/** The `agents` table: one row per agent, updated by every batch it sends. */
export const AGENT_COLUMNS: readonly { name: string; type: StoreType; doc: string }[] = [
  { name: "Agent_ID", type: "String", doc: "agent id" },
  { name: "Host_Name", type: "String", doc: "host name the agent reported" },
  { name: "Run_ID", type: "String", doc: "its latest run" },
  { name: "First_Seen", type: "Time", doc: "first batch received (ns)" },
  { name: "Last_Seen", type: "Time", doc: "latest batch received (ns)" },
  { name: "Records", type: "UInt64", doc: "records received" },
  { name: "Batches", type: "UInt64", doc: "batches received" },
  { name: "Kernel_Drops", type: "UInt64", doc: "frames the kernel dropped (latest report)" },
  { name: "Queue_Drops", type: "UInt64", doc: "records dropped at a full queue (latest report)" },
  { name: "Spool_Records", type: "UInt64", doc: "records waiting in its spool (latest report)" },
];

// ---- values -------------------------------------------------------------------------

/** Nanoseconds of "seconds.nanoseconds" text (or a number of seconds), or null. */
export function nsOf(v: unknown): bigint | null {
  if (typeof v === "string") {
    const dot = v.indexOf(".");
    if (dot < 0) return /^\d+$/.test(v) ? BigInt(v) * 1_000_000_000n : null;
    const frac = v.slice(dot + 1);
    if (!/^\d+$/.test(v.slice(0, dot)) || !/^\d{1,9}$/.test(frac)) return null;
    return BigInt(v.slice(0, dot) + frac.padEnd(9, "0"));
  }
  if (typeof v === "number" && Number.isFinite(v)) return BigInt(Math.round(v * 1e9));
  return null;
}

/** A stored value: number, bigint (times), bytes (addresses), string, or null. */
export type Value = number | bigint | Uint8Array | string | null;

/** Converts a raw record value to the stored value of `type` (null when absent or invalid). */
export function toValue(type: StoreType, raw: unknown): Value {
  if (raw === undefined || raw === null) return null;
  switch (type) {
    case "UInt8":
    case "UInt16":
    case "UInt32":
    case "UInt64": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : NaN;
      return Number.isInteger(n) && n >= 0 ? n : null;
    }
    case "Time":
    case "Duration":
      return nsOf(raw);
    case "IP": {
      if (typeof raw !== "string") return null;
      const b = new Uint8Array(16);
      return addressBytes(raw, b) === 0 ? null : b;
    }
    case "MAC":
      return typeof raw === "string" ? macNumber(raw) : null;
    case "Bool":
      return raw === true ? 1 : 0;
    case "String":
    case "LowString":
    case "Record":
      return typeof raw === "string" ? raw : String(raw);
  }
}

/** Default stored for a missing value of a NOT NULL column. */
export function zeroOf(type: StoreType): Value {
  switch (type) {
    case "Time":
    case "Duration":
      return 0n;
    case "String":
    case "LowString":
    case "Record":
      return "";
    case "IP":
      return new Uint8Array(16);
    default:
      return 0;
  }
}

/** One record parsed for storing. */
export interface Envelope {
  agent: string;
  run: string;
  seq: number;
}

/**
 * The values of every column of `t` for one record (in column order). `text` is the
 * record's JSON without the envelope (stored as `Record`).
 */
export function rowOf(t: TableSchema, rec: RecordObject, env: Envelope, text: string): Value[] {
  const out: Value[] = new Array(t.columns.length);
  const cols = t.columns;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    let v: Value;
    switch (c.name) {
      case "Agent_ID":
        v = env.agent;
        break;
      case "Run_ID":
        v = env.run;
        break;
      case "Sequence":
        v = env.seq;
        break;
      case "Record":
        v = text;
        break;
      default:
        v = toValue(c.type, c.read(rec));
    }
    out[i] = v === null && !c.nullable ? zeroOf(c.type) : v;
  }
  return out;
}

/** The column named `name` of `t`, or undefined. */
export function columnOf(t: TableSchema, name: string): Column | undefined {
  return t.columns.find((c) => c.name === name);
}

/** Dimension names of a table: the dimension columns, then the either-end ones. */
export function dimensionNames(t: TableSchema): string[] {
  return [...t.columns.filter((c) => c.dimension).map((c) => c.name), ...Object.keys(t.either)];
}

/** The id of a record in the query API: `<Agent_ID>.<Run_ID>.<Sequence>`. */
export function recordId(agent: string, run: string, seq: number | bigint): string {
  return `${agent}.${run}.${seq}`;
}

/** Parses a record id, or null. */
export function parseRecordId(id: string): Envelope | null {
  const m = /^([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)\.(\d{1,16})$/.exec(id);
  if (m === null) return null;
  return { agent: m[1], run: m[2], seq: Number(m[3]) };
}
