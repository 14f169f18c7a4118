/**
 * The scale-out store: ClickHouse over its HTTP interface (tested with Debian's 18.16.1;
 * the SQL used is what 18.16 has, so current releases take it as well).
 *
 * Layout (DDL derived from schema.ts), database `DB`:
 * - `flows`, `packets`: every column of the table incl. `Record`, plus `Received DateTime
 *   DEFAULT now()`. `ENGINE = ReplacingMergeTree`, `ORDER BY (Agent_ID, Run_ID, Sequence)`
 *   (a record inserted twice collapses into one at merge), `PARTITION BY` the record's day.
 * - `batches` (key, body hash) for the server's Idempotency-Key check; `agents`: one row
 *   per report (each batch the server takes, or an agent writing directly), aggregated
 *   with argMax on read; `schema_version`.
 *
 * Column types: integers as UInt8..UInt64, times and durations Int64 nanoseconds,
 * addresses FixedString(16) (IPv4 mapped; the same bytes as the IPv6 type of 19.x+),
 * MAC UInt64, strings String, absent values Nullable. The same types on every version
 * (one code path, tested here); see docs/query.md for what newer versions would add.
 *
 * Retention: version >= 19.6: a TTL clause on the record time (`ALTER TABLE ... MODIFY
 * TTL`); older versions (18.16): the server drops whole day partitions older than the
 * retention once a minute.
 *
 * Writes: RowBinary (binary, no escaping), one INSERT per table per batch.
 */
import {
  AGENT_COLUMNS,
  type Column,
  SCHEMA,
  type StoreSchema,
  type StoreType,
  type TableSchema,
  type Value,
} from "./schema.ts";
import { hexOf } from "./ip.ts";
import type { ParsedBatch } from "./ingest.ts";
import {
  type AgentRow,
  type Dialect,
  type IngestOutcome,
  type IngestRequest,
  QueryLimitError,
  type RetentionStats,
  type SelectOptions,
  type SqlRow,
  type Store,
  type StoreStats,
  StoreUnavailable,
} from "./store.ts";
import { NO_RETENTION, type RetentionOptions } from "./retention.ts";
import type { Logger } from "../log/mod.ts";

/** ClickHouse column type of a logical type. */
export function clickHouseType(c: { type: StoreType; nullable: boolean }): string {
  const base = (() => {
    switch (c.type) {
      case "UInt8":
      case "Bool":
        return "UInt8";
      case "UInt16":
        return "UInt16";
      case "UInt32":
        return "UInt32";
      case "UInt64":
      case "MAC":
        return "UInt64";
      case "Time":
      case "Duration":
        return "Int64";
      case "IP":
        return "FixedString(16)";
      case "String":
      case "LowString":
      case "Record":
        return "String";
    }
  })();
  return c.nullable ? `Nullable(${base})` : base;
}

const q = (n: string) => `"${n}"`;

/** The day partition expression of a table (its time column, ns). */
export function partitionExpr(t: TableSchema): string {
  return `toYYYYMMDD(toDateTime(intDiv(${q(t.time)}, 1000000000)))`;
}

/** CREATE statements for database `db` (`engine` overrides the record tables' engine). */
export function clickHouseDdl(
  schema: StoreSchema,
  db: string,
  engine?: (t: TableSchema) => string,
): string[] {
  const out = [
    `CREATE DATABASE IF NOT EXISTS ${db}`,
    `CREATE TABLE IF NOT EXISTS ${db}.schema_version (version UInt32, applied_at DateTime DEFAULT now(), note String) ENGINE = MergeTree ORDER BY version`,
    `CREATE TABLE IF NOT EXISTS ${db}.batches (Key String, Hash String, Records UInt64, Received DateTime DEFAULT now()) ENGINE = ReplacingMergeTree ORDER BY Key`,
    `CREATE TABLE IF NOT EXISTS ${db}.agents (${
      AGENT_COLUMNS.map((c) => `${q(c.name)} ${clickHouseType({ type: c.type, nullable: false })}`)
        .join(", ")
    }) ENGINE = MergeTree ORDER BY (Agent_ID, Last_Seen)`,
  ];
  for (const t of [schema.flows, schema.packets]) {
    out.push(
      `CREATE TABLE IF NOT EXISTS ${db}.${t.name} (${
        t.columns.map((c) => `${q(c.name)} ${clickHouseType(c)}`).join(", ")
      }, Received DateTime DEFAULT now()) ENGINE = ${
        engine?.(t) ??
          `ReplacingMergeTree PARTITION BY ${
            partitionExpr(t)
          } ORDER BY (Agent_ID, Run_ID, Sequence)`
      }`,
    );
  }
  return out;
}

/** ClickHouse's SQL idioms for database `db`. */
export function clickHouseDialect(db: string): Dialect {
  const d: Dialect = {
    name: "clickhouse",
    from: (t) => `${db}.${t.name}`,
    lit(v: Value): string {
      if (v === null) return "NULL";
      if (typeof v === "number") {
        if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
        return String(v);
      }
      if (typeof v === "bigint") return v.toString();
      if (v instanceof Uint8Array) return `unhex('${hexOf(v)}')`;
      return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
    },
    col: (n) => q(n),
    bits: (e, mask, want) =>
      want === undefined ? `bitAnd(${e}, ${mask}) != 0` : `bitAnd(${e}, ${mask}) = ${want}`,
    prefix(e, bytes, lastBits) {
      if (lastBits === 8) return `substring(${e}, 1, ${bytes})`;
      const mask = (0xff << (8 - lastBits)) & 0xff;
      // reinterpretAsString drops a zero byte: the key is shorter but still unique.
      return `concat(substring(${e}, 1, ${
        bytes - 1
      }), reinterpretAsString(toUInt8(bitAnd(reinterpretAsUInt8(substring(${e}, ${bytes}, 1)), ${mask}))))`;
    },
    hex: (e) => `hex(${e})`,
    coalesce: (e, f) => `ifNull(${e}, ${f})`,
    isMapped: (e) => `substring(${e}, 1, 12) = unhex('00000000000000000000FFFF')`,
    div: (a, b) => `intDiv(${a}, ${b})`,
    exact: (e) => `toString(${e})`,
    distinct: (a, b) => `ifNull(hex(${a}), '') != ifNull(hex(${b}), '')`,
    sum: (e) => `sum(${e})`,
    record: () => `Record`,
    residual: () => null,
  };
  return d;
}

// ---- RowBinary --------------------------------------------------------------------

/** Appends RowBinary bytes, growing as needed. */
export class RowBinaryWriter {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;
  private readonly enc = new TextEncoder();

  private need(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  private varint(n: number): void {
    this.need(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.len++] = n;
  }

  value(c: { type: StoreType; nullable: boolean }, v: Value): void {
    if (c.nullable) {
      this.need(1);
      this.buf[this.len++] = v === null ? 1 : 0;
      if (v === null) return;
    }
    this.need(16);
    switch (c.type) {
      case "UInt8":
      case "Bool":
        this.buf[this.len++] = Number(v ?? 0);
        return;
      case "UInt16":
        this.view.setUint16(this.len, Number(v ?? 0), true);
        this.len += 2;
        return;
      case "UInt32":
        this.view.setUint32(this.len, Number(v ?? 0), true);
        this.len += 4;
        return;
      case "UInt64":
      case "MAC":
        this.view.setBigUint64(this.len, BigInt(v as number | bigint ?? 0), true);
        this.len += 8;
        return;
      case "Time":
      case "Duration":
        this.view.setBigInt64(this.len, typeof v === "bigint" ? v : BigInt(v as number ?? 0), true);
        this.len += 8;
        return;
      case "IP":
        this.buf.set(v instanceof Uint8Array ? v : new Uint8Array(16), this.len);
        this.len += 16;
        return;
      case "String":
      case "LowString":
      case "Record": {
        const s = String(v ?? "");
        this.need(s.length * 3 + 10);
        // Length first: encode after a 5-byte gap, then move if the varint is shorter.
        const at = this.len;
        const written = this.enc.encodeInto(s, this.buf.subarray(at + 5)).written;
        let n = written, vl = 1;
        while (n >= 0x80) {
          n = Math.floor(n / 128);
          vl++;
        }
        if (vl < 5) this.buf.copyWithin(at + vl, at + 5, at + 5 + written);
        this.len = at;
        this.varint(written);
        this.len = at + vl + written;
        return;
      }
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/** RowBinary rows of one table of a parsed batch (every column, in schema order). */
export function rowBinary(t: TableSchema, rows: Value[][]): Uint8Array {
  const w = new RowBinaryWriter();
  const cols: Column[] = t.columns as Column[];
  for (const row of rows) for (let i = 0; i < cols.length; i++) w.value(cols[i], row[i]);
  return w.bytes();
}

/** The INSERTs of a batch: [query, RowBinary body] per table with rows. */
export function clickHouseInserts(
  schema: StoreSchema,
  db: string,
  batch: ParsedBatch,
): { table: string; query: string; body: Uint8Array }[] {
  const out = [];
  for (const t of [schema.packets, schema.flows]) {
    const rows = batch[t.name];
    if (rows.length === 0) continue;
    out.push({
      table: t.name,
      query: `INSERT INTO ${db}.${t.name} (${
        t.columns.map((c) => q(c.name)).join(", ")
      }) FORMAT RowBinary`,
      body: rowBinary(t, rows),
    });
  }
  return out;
}

// ---- the store ----------------------------------------------------------------------

export interface ClickHouseOptions {
  /** HTTP interface, e.g. http://127.0.0.1:8123/ */
  url: string;
  user?: string;
  password?: string;
  database: string;
  schema?: StoreSchema;
  retention?: RetentionOptions;
  log?: Logger;
  /** Record tables are created by someone else (a Distributed table over shards). */
  existingTables?: boolean;
}

/** Version text -> [major, minor]. */
export function versionOf(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export async function openClickHouse(o: ClickHouseOptions): Promise<ClickHouseStore> {
  const s = new ClickHouseStore(o);
  await s.init();
  return s;
}

export class ClickHouseStore implements Store {
  readonly kind = "clickhouse";
  readonly dialect: Dialect;
  readonly schema: StoreSchema;
  private readonly retention: RetentionOptions;
  private readonly retStats: RetentionStats;
  private timer: ReturnType<typeof setInterval> | undefined;
  version = "";
  ttl = false;

  constructor(private readonly o: ClickHouseOptions) {
    this.schema = o.schema ?? SCHEMA;
    this.dialect = clickHouseDialect(o.database);
    this.retention = o.retention ?? NO_RETENTION;
    this.retStats = {
      retain_seconds: this.retention.retainSeconds,
      max_db_bytes: null,
      deleted_records: 0,
      deleted_batches: 0,
      runs: 0,
      last_run: null,
    };
  }

  private endpoint(params: Record<string, string>): string {
    const u = new URL(this.o.url);
    if (this.o.user) u.searchParams.set("user", this.o.user);
    if (this.o.password) u.searchParams.set("password", this.o.password);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  }

  /** Runs one statement; returns the answer text. Throws with ClickHouse's message. */
  async exec(
    sql: string,
    params: Record<string, string> = {},
    body?: Uint8Array,
    timeoutMs = 30_000,
  ): Promise<string> {
    const url = this.endpoint(body === undefined ? params : { ...params, query: sql });
    let r: Response;
    try {
      r = await fetch(url, {
        method: "POST",
        body: (body ?? sql) as BodyInit,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new StoreUnavailable(`ClickHouse unreachable: ${(e as Error).message}`);
    }
    const text = await r.text();
    if (!r.ok) {
      const msg = text.replace(/\s+/g, " ").trim().slice(0, 400);
      if (/Code: 159\b/.test(text)) throw new QueryLimitError(`query ran too long: ${msg}`);
      if (/Code: 396\b/.test(text)) throw new QueryLimitError(`answer too large: ${msg}`);
      if (r.status >= 500 && !/Code: (47|62|60|43|386|48)\b/.test(text)) {
        throw new StoreUnavailable(msg);
      }
      throw new Error(msg);
    }
    return text;
  }

  async init(): Promise<void> {
    this.version = (await this.exec("SELECT version()")).trim();
    const [maj, min] = versionOf(this.version);
    this.ttl = maj > 19 || (maj === 19 && min >= 6);
    const ddl = clickHouseDdl(this.schema, this.o.database);
    for (const s of ddl) {
      if (this.o.existingTables && /\.(flows|packets) \(/.test(s)) continue;
      await this.exec(s);
    }
    const v = (await this.exec(
      `SELECT max(version) FROM ${this.o.database}.schema_version FORMAT TSV`,
    )).trim();
    const have = Number(v) || 0;
    if (have > this.schema.version) {
      throw new Error(
        `database schema version ${have} is newer than this netmon's (${this.schema.version})`,
      );
    }
    if (have === 0) {
      for (let x = 2; x <= this.schema.version; x++) {
        await this.exec(
          `INSERT INTO ${this.o.database}.schema_version (version, note) VALUES (${x}, 'created')`,
        );
      }
    } else {
      for (let x = have + 1; x <= this.schema.version; x++) {
        if (!this.o.existingTables) {
          for (const t of [this.schema.flows, this.schema.packets]) {
            for (const c of t.columns.filter((c) => c.since === x)) {
              await this.exec(
                `ALTER TABLE ${this.o.database}.${t.name} ADD COLUMN IF NOT EXISTS ${q(c.name)} ${
                  clickHouseType(c)
                }`,
              );
            }
          }
        }
        await this.exec(
          `INSERT INTO ${this.o.database}.schema_version (version, note) VALUES (${x}, 'migrated')`,
        );
      }
    }
    if (this.retention.retainSeconds !== null && !this.o.existingTables) {
      if (this.ttl) {
        for (const t of [this.schema.flows, this.schema.packets]) {
          await this.exec(
            `ALTER TABLE ${this.o.database}.${t.name} MODIFY TTL toDateTime(intDiv(${
              q(t.time)
            }, 1000000000)) + INTERVAL ${this.retention.retainSeconds} SECOND`,
          );
        }
      } else {
        this.timer = setInterval(() => void this.retain(), this.retention.intervalMs);
        Deno.unrefTimer(this.timer);
      }
    }
  }

  async ingest(req: IngestRequest): Promise<IngestOutcome> {
    const db = this.o.database;
    if (req.key !== null) {
      const h = (await this.exec(
        `SELECT Hash FROM ${db}.batches WHERE Key = ${
          this.dialect.lit(req.key)
        } LIMIT 1 FORMAT TSV`,
      )).trim();
      if (h !== "") return h === req.hash ? { kind: "duplicate" } : { kind: "mismatch" };
    }
    for (const ins of clickHouseInserts(this.schema, db, req.batch)) {
      await this.exec(ins.query, {}, ins.body);
    }
    const rep = req.report;
    const now = BigInt(Date.now()) * 1_000_000n;
    const agentRows: string[] = [];
    for (const [agent, [run, n]] of req.batch.agents) {
      agentRows.push(
        `(${
          [
            this.dialect.lit(agent),
            this.dialect.lit(rep?.Host_Name ?? ""),
            this.dialect.lit(run),
            now,
            now,
            n,
            1,
            rep?.Kernel_Drops ?? 0,
            rep?.Queue_Drops ?? 0,
            rep?.Spool_Records ?? 0,
          ].join(", ")
        })`,
      );
    }
    await this.exec(
      `INSERT INTO ${db}.agents (${AGENT_COLUMNS.map((c) => q(c.name)).join(", ")}) VALUES ${
        agentRows.join(", ")
      }`,
    );
    if (req.key !== null) {
      await this.exec(
        `INSERT INTO ${db}.batches (Key, Hash, Records) VALUES (${this.dialect.lit(req.key)}, ${
          this.dialect.lit(req.hash)
        }, ${req.batch.records})`,
      );
    }
    return { kind: "stored", records: req.batch.records };
  }

  async select(sql: string, o: SelectOptions): Promise<SqlRow[]> {
    const text = await this.exec(
      `${sql} FORMAT JSONEachRow`,
      {
        max_execution_time: String(Math.max(1, Math.ceil(o.timeoutMs / 1000))),
        timeout_overflow_mode: "throw",
        max_result_rows: String(o.maxRows + 1),
        result_overflow_mode: "throw",
        output_format_json_quote_64bit_integers: "0",
      },
      undefined,
      o.timeoutMs + 5000,
    );
    const rows: SqlRow[] = [];
    for (const line of text.split("\n")) if (line !== "") rows.push(JSON.parse(line));
    if (rows.length > o.maxRows) {
      throw new QueryLimitError(`answer has more than ${o.maxRows} rows; narrow the query`);
    }
    return rows;
  }

  async agents(): Promise<AgentRow[]> {
    const db = this.o.database;
    const rows = await this.select(
      `SELECT Agent_ID AS id, argMax(Host_Name, Last_Seen) AS h, argMax(Run_ID, Last_Seen) AS r,
        intDiv(min(First_Seen), 1000000) AS f, intDiv(max(Last_Seen), 1000000) AS l,
        sum(Records) AS n, sum(Batches) AS b, argMax(Kernel_Drops, Last_Seen) AS kd,
        argMax(Queue_Drops, Last_Seen) AS qd, argMax(Spool_Records, Last_Seen) AS sr
        FROM ${db}.agents GROUP BY Agent_ID ORDER BY id`,
      { maxRows: 100_000, timeoutMs: 10_000 },
    );
    return rows.map((r) => ({
      Agent_ID: String(r.id),
      Host_Name: String(r.h),
      Run_ID: String(r.r),
      First_Seen: Number(r.f),
      Last_Seen: Number(r.l),
      Records: Number(r.n),
      Batches: Number(r.b),
      Kernel_Drops: Number(r.kd),
      Queue_Drops: Number(r.qd),
      Spool_Records: Number(r.sr),
    }));
  }

  async stats(): Promise<StoreStats> {
    const db = this.o.database;
    const n = async (sql: string) => Number((await this.exec(`${sql} FORMAT TSV`)).trim()) || 0;
    return {
      store: "clickhouse",
      schema_version: await n(`SELECT max(version) FROM ${db}.schema_version`),
      flows: await n(`SELECT count() FROM ${db}.flows`),
      packets: await n(`SELECT count() FROM ${db}.packets`),
      agents: await n(`SELECT uniqExact(Agent_ID) FROM ${db}.agents`),
      batches: await n(`SELECT count() FROM ${db}.batches`),
      db_bytes: await n(
        `SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '${db}' AND active`,
      ),
      retention: { ...this.retStats },
      details: {
        version: this.version,
        ttl: this.ttl,
        address_type: "FixedString(16)",
        time_type: "Int64 (ns)",
      },
    };
  }

  /** 18.16 (no TTL): drops day partitions wholly older than the retention. */
  async retain(): Promise<void> {
    const secs = this.retention.retainSeconds;
    if (secs === null || this.ttl) return;
    const db = this.o.database;
    const cutoff = new Date(Date.now() - secs * 1000);
    // A partition YYYYMMDD ends at the next midnight: drop it when that is before the cutoff.
    const lastDay = new Date(cutoff.getTime() - 86400_000);
    const ymd = lastDay.getUTCFullYear() * 10000 + (lastDay.getUTCMonth() + 1) * 100 +
      lastDay.getUTCDate();
    for (const t of [this.schema.flows, this.schema.packets]) {
      const parts = await this.select(
        `SELECT partition AS p, sum(rows) AS n FROM system.parts WHERE database = '${db}' AND table = '${t.name}' AND active GROUP BY partition`,
        { maxRows: 100_000, timeoutMs: 10_000 },
      );
      for (const p of parts) {
        const day = Number(String(p.p).replace(/\D/g, ""));
        if (day > ymd) continue;
        await this.exec(`ALTER TABLE ${db}.${t.name} DROP PARTITION ${day}`);
        this.retStats.deleted_records += Number(p.n);
        this.retStats.deleted_batches++;
      }
    }
    this.retStats.runs++;
    this.retStats.last_run = new Date().toISOString();
  }

  close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    return Promise.resolve();
  }
}
