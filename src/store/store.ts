/**
 * What every store backend (sqlite.ts, clickhouse.ts) offers: idempotent ingest of parsed
 * batches, bounded SELECTs in its own SQL dialect, the agents table and its statistics.
 * The query engine (src/query/) builds SQL through {@link Dialect} and never knows which
 * backend it talks to; backends import the schema, never each other.
 */
import type { AgentReport, StoreSchema, TableSchema, Value } from "./schema.ts";
import type { ParsedBatch } from "./ingest.ts";

/** SQL idioms of one backend (the query engine writes SQL only through these). */
export interface Dialect {
  readonly name: "sqlite" | "clickhouse";
  /** The FROM clause of a record table. */
  from(t: TableSchema): string;
  /** A literal: number, bigint, string, bytes (16-byte address or prefix) or NULL. */
  lit(v: Value): string;
  /** A column reference. */
  col(name: string): string;
  /** `(expr & mask) != 0`-style bit test; `want` compares `(expr & mask) = want`. */
  bits(expr: string, mask: number, want?: number): string;
  /** The first `bytes` bytes of an address column, last byte masked to `lastBits` bits. */
  prefix(expr: string, bytes: number, lastBits: number): string;
  /** Upper-case hex text of a bytes expression (address keys). */
  hex(expr: string): string;
  /** `coalesce`. */
  coalesce(expr: string, fallback: string): string;
  /** True when an address column holds an IPv4-mapped address. */
  isMapped(expr: string): string;
  /** Integer division rounding down (time buckets). */
  div(a: string, b: bigint | number): string;
  /** Casts a 64-bit integer expression so it reads back exactly (as text). */
  exact(expr: string): string;
  /** Null-safe "is distinct from". */
  distinct(a: string, b: string): string;
  /** 0/NULL-aware sum of integers. */
  sum(expr: string): string;
  /** The stored record text of the current row. */
  record(t: TableSchema): string;
  /**
   * A call of the residual filter `index` on the current row's record, when the backend
   * can evaluate filters inside SQL (SQLite: a JavaScript function), else null.
   */
  residual(t: TableSchema, index: number): string | null;
}

/** A bounded SELECT. */
export interface SelectOptions {
  /** Largest number of rows the answer may have (more is an error). */
  maxRows: number;
  /** Execution time limit. */
  timeoutMs: number;
  /** Filters (JSON) the SQL refers to as residual(index), for backends that run them. */
  residuals?: unknown[];
}

export type SqlRow = Record<string, unknown>;

/** A SELECT took too long or returned too many rows. */
export class QueryLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueryLimitError";
  }
}

export type IngestOutcome =
  | { kind: "stored"; records: number }
  | { kind: "duplicate" }
  /** The key was stored before with a different body. */
  | { kind: "mismatch" };

/** A batch as the server hands it to a store. */
export interface IngestRequest {
  /** Idempotency-Key, or null. */
  key: string | null;
  /** SHA-256 hex of the body (compared when a key repeats). */
  hash: string;
  bytes: number;
  batch: ParsedBatch;
  /** What the agent said about itself (request header), if anything. */
  report: AgentReport | null;
}

/** Retention counters (SQLite: deletions by the server; ClickHouse: partitions dropped). */
export interface RetentionStats {
  retain_seconds: number | null;
  max_db_bytes: number | null;
  deleted_records: number;
  deleted_batches: number;
  runs: number;
  last_run: string | null;
}

export interface StoreStats {
  store: "sqlite" | "clickhouse";
  schema_version: number;
  flows: number;
  packets: number;
  agents: number;
  batches: number;
  db_bytes: number;
  retention: RetentionStats;
  /** Backend facts (ClickHouse version, features used). */
  details: Record<string, unknown>;
}

export interface AgentRow {
  Agent_ID: string;
  Host_Name: string;
  Run_ID: string;
  First_Seen: number;
  Last_Seen: number;
  Records: number;
  Batches: number;
  Kernel_Drops: number;
  Queue_Drops: number;
  Spool_Records: number;
}

export interface Store {
  readonly kind: "sqlite" | "clickhouse";
  readonly dialect: Dialect;
  readonly schema: StoreSchema;
  /** Stores a batch once (by key and by record id); resolves after it is durable. */
  ingest(req: IngestRequest): Promise<IngestOutcome>;
  select(sql: string, opts: SelectOptions): Promise<SqlRow[]>;
  agents(): Promise<AgentRow[]>;
  stats(): Promise<StoreStats>;
  /** Runs retention now (also runs on its own schedule). */
  retain(): Promise<void>;
  close(): Promise<void>;
}

/** Storage is full or failing: the server answers 503 and the agent spools. */
export class StoreUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUnavailable";
  }
}
