/**
 * The query API's requests and answers: the one definition the server (src/server/) and
 * the web console (browser TypeScript) both import, so a rename breaks the build, not the
 * page. Plain types and constants only (no runtime imports), safe for a browser bundle.
 *
 * Every endpoint is `GET`, answers JSON, and on a bad request answers 400 with
 * {@link ErrorAnswer} (one line naming the parameter). Times in answers are seconds since
 * the epoch (numbers, fractions allowed); record ids are `<Agent_ID>.<Run_ID>.<Sequence>`.
 * See docs/query.md for the full contract.
 */

export type TableName = "flows" | "packets";
export type MetricName = "bytes" | "packets" | "records";
/** A dimension value: text (addresses, names, prefixes like "10.1.2.0/24"), a number, or null. */
export type Key = string | number | null;

export const TABLES: readonly TableName[] = ["flows", "packets"];
export const METRIC_NAMES: readonly MetricName[] = ["bytes", "packets", "records"];

/** Parameters common to /api/top and /api/series. */
export interface AggregateParams {
  /** Default "flows". */
  table?: TableName;
  /** Default "bytes". */
  metric?: MetricName;
  /** A dimension name, optionally with an address prefix: `Source_Address/24`, `Address/24/64`. */
  by?: string;
  /** Seconds since the epoch or ISO 8601; default: to - 1 hour. */
  from?: string;
  /** Default: now. */
  to?: string;
  /** netmon filter JSON (as `capture --filter`): records must match. */
  filter?: string;
  /** netmon filter JSON: records matching it are left out. */
  exclude?: string;
  /** Rows (top) or series (series) to return. */
  limit?: string;
}

export interface SeriesParams extends AggregateParams {
  /** Bucket width in seconds; default: chosen so that there are at most 200 buckets. */
  step?: string;
}

export interface TopRow {
  key: Key;
  value: number;
}

/** `GET /api/top`: rows largest first. */
export interface TopAnswer {
  table: TableName;
  by: string;
  metric: MetricName;
  from: number;
  to: number;
  rows: TopRow[];
  /**
   * The metric of everything not in `rows`. For either-end dimensions (`Address`, `Port`)
   * a record counts under both of its ends, so rows + other can reach twice `total`.
   */
  other: number;
  /** The metric over all matching records (each counted once). */
  total: number;
}

export interface SeriesLine {
  /** The dimension value; null for the "other" line and for the one line without `by`. */
  key: Key;
  /** Present (true) on the line summing every key outside the top `limit`. */
  other?: true;
  /** [bucket start (s), value], one per bucket from `from` to `to`, zeros included. */
  points: [number, number][];
}

/** `GET /api/series`. */
export interface SeriesAnswer {
  table: TableName;
  by: string | null;
  metric: MetricName;
  from: number;
  to: number;
  step: number;
  series: SeriesLine[];
}

/** `GET /api/flows`, `GET /api/packets`. */
export interface ListParams {
  from?: string;
  to?: string;
  filter?: string;
  exclude?: string;
  /** A column name (sortable: see SchemaAnswer), `-` first for descending; default `-<time>`. */
  sort?: string;
  /** Default 100, at most 1000. */
  limit?: string;
  /** `next` of the previous page. */
  cursor?: string;
}

export interface ListRow {
  id: string;
  record: Record<string, unknown>;
}

export interface ListAnswer {
  table: TableName;
  from: number;
  to: number;
  sort: string;
  rows: ListRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

/** `GET /api/flows/ID`, `GET /api/packets/ID`. */
export interface RecordAnswer {
  table: TableName;
  id: string;
  record: Record<string, unknown>;
}

export interface AgentInfo {
  Agent_ID: string;
  Host_Name: string;
  Run_ID: string;
  /** Seconds since the epoch. */
  First_Seen: number;
  Last_Seen: number;
  Records: number;
  Batches: number;
  Kernel_Drops: number;
  Queue_Drops: number;
  Spool_Records: number;
}

/** `GET /api/agents`. */
export interface AgentsAnswer {
  agents: AgentInfo[];
}

/**
 * `GET /api/stats`. The top-level ingest counters (`duplicate_batches` ... `bytes`) are
 * the same as `server` (kept at the top for netmon 0.1 clients); `records` and `batches`
 * at the top are what the store holds.
 */
export interface StatsAnswer extends Omit<StatsServer, "records" | "batches"> {
  /** Records stored (flows + packets). */
  records: number;
  store: "sqlite" | "clickhouse";
  schema_version: number;
  flows: number;
  packets: number;
  agents: number;
  /** Batches stored (in total). */
  batches: number;
  db_bytes: number;
  retention: {
    retain_seconds: number | null;
    max_db_bytes: number | null;
    deleted_records: number;
    deleted_batches: number;
    runs: number;
    last_run: string | null;
  };
  /** Since the server started. */
  server: StatsServer;
  /** The HTTP transport: connections, timeouts, bytes in flight (since start). */
  transport?: StatsTransport;
  details: Record<string, unknown>;
}

/** Counters of the server's HTTP transport (src/server/http.ts). */
export interface StatsTransport {
  /** Connections open now. */
  connections: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections refused at max_connections. */
  refused_connections: number;
  /** accept() failures (EMFILE, ENFILE, ...). */
  accept_errors: number;
  /** Connections closed by a timeout, per kind. */
  header_timeouts: number;
  body_timeouts: number;
  idle_timeouts: number;
  send_timeouts: number;
  /** Requests refused before a handler saw them (400, 413, 431, 501, 505). */
  bad_requests: number;
  /** Bytes of the in-flight budget in use now, and its peak. */
  bytes_in_flight: number;
  bytes_in_flight_peak: number;
  /** Budget requests refused (answered 503). */
  budget_refusals: number;
}

/** Ingest counters since the server started. */
export interface StatsServer {
  records: number;
  batches: number;
  duplicate_batches: number;
  rejected_batches: number;
  mismatched_keys: number;
  too_large: number;
  unauthorized: number;
  unavailable: number;
  /** Batches answered 503 because the in-flight byte budget stayed used up. */
  busy: number;
  bytes: number;
}

export interface ColumnInfo {
  name: string;
  type: string;
  dimension: boolean;
  doc: string;
}

/** `GET /api/schema`: what the pickers offer, from the store's column table. */
export interface SchemaAnswer {
  tables: Record<TableName, {
    time: string;
    dimensions: string[];
    columns: ColumnInfo[];
    sortable: string[];
  }>;
  metrics: MetricName[];
}

/** `GET /api/health`. */
export interface HealthAnswer {
  ok: boolean;
  store: "sqlite" | "clickhouse";
}

/** Every 4xx/5xx answer. */
export interface ErrorAnswer {
  error: string;
}

/** Limits the server applies (also in docs/query.md). */
export const LIMITS = {
  topRows: 1000,
  seriesLines: 50,
  buckets: 2000,
  listRows: 1000,
  defaultRangeSeconds: 3600,
} as const;
