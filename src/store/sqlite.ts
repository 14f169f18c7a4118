/**
 * The embedded store: SQLite through `node:sqlite` (WAL, synchronous=FULL,
 * auto_vacuum=INCREMENTAL).
 *
 * Layout (DDL derived from schema.ts):
 * - `flows`, `packets`: `id INTEGER PRIMARY KEY` + the typed columns; unique index on
 *   (Agent_ID, Run_ID, Sequence) (a record is stored once whatever the batch key says) and
 *   an index on the time column.
 * - `flow_records`, `packet_records`: `(id, Record)`, the whole record apart from the typed
 *   rows so that scans over the typed columns read ~100 bytes a row, not ~1 KB.
 * - `batches`: one row per batch: key, body hash, row id ranges (retention deletes whole
 *   batches, oldest first, by rowid range), `pruned` once its rows were removed (the key
 *   stays, so a replay of a pruned batch is still a duplicate).
 * - `agents`, `schema_version`.
 *
 * Writes happen on the caller's thread, one transaction per batch; SELECTs run in worker
 * threads with their own read-only connections (sqlite_worker.ts) so a long query never
 * holds up ingest and can be cut off at its time limit (the worker is terminated).
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
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
import { migrate } from "./sqlite_migrate.ts";
import type { Logger } from "../log/mod.ts";
import { preparePrivateFile } from "./files.ts";

/** SQLite column type of a logical type. */
export function sqliteType(t: StoreType): string {
  switch (t) {
    case "IP":
      return "BLOB";
    case "String":
    case "LowString":
    case "Record":
      return "TEXT";
    default:
      return "INTEGER";
  }
}

/** The side table holding the records of a record table. */
export function recordTable(t: TableSchema): string {
  return t.name === "flows" ? "flow_records" : "packet_records";
}

const q = (name: string) => `"${name}"`;

/** Typed columns of a table stored in its main table (all but Record). */
export function typedColumns(t: TableSchema): Column[] {
  return t.columns.filter((c) => c.type !== "Record");
}

export function columnDdl(c: Column): string {
  return `${q(c.name)} ${sqliteType(c.type)}${c.nullable ? "" : " NOT NULL"}`;
}

/** CREATE statements of the current layout. */
export function sqliteDdl(schema: StoreSchema): string[] {
  const out: string[] = [
    `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL, note TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, idem_key TEXT UNIQUE,
      body_hash TEXT, agent_id TEXT, records INTEGER NOT NULL, bytes INTEGER NOT NULL,
      received_at TEXT NOT NULL, received_ns INTEGER NOT NULL DEFAULT 0,
      first_flow INTEGER, last_flow INTEGER, first_packet INTEGER, last_packet INTEGER,
      pruned INTEGER NOT NULL DEFAULT 0)`,
    `CREATE INDEX IF NOT EXISTS batches_unpruned ON batches(pruned, id)`,
    `CREATE TABLE IF NOT EXISTS agents (${
      AGENT_COLUMNS.map((c) =>
        `${q(c.name)} ${sqliteType(c.type)}${c.name === "Agent_ID" ? " PRIMARY KEY" : ""}`
      ).join(", ")
    })`,
  ];
  for (const t of [schema.flows, schema.packets]) {
    out.push(
      `CREATE TABLE IF NOT EXISTS ${t.name} (id INTEGER PRIMARY KEY, ${
        typedColumns(t).map(columnDdl).join(", ")
      })`,
      `CREATE TABLE IF NOT EXISTS ${recordTable(t)} (id INTEGER PRIMARY KEY, Record TEXT NOT NULL)`,
      `CREATE UNIQUE INDEX IF NOT EXISTS ${t.name}_key ON ${t.name}(Agent_ID, Run_ID, Sequence)`,
      `CREATE INDEX IF NOT EXISTS ${t.name}_time ON ${t.name}(${q(t.time)})`,
    );
  }
  return out;
}

/** SQLite's SQL idioms. */
export const SQLITE_DIALECT: Dialect = {
  name: "sqlite",
  from: (t) => t.name,
  lit(v: Value): string {
    if (v === null) return "NULL";
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
      return String(v);
    }
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Uint8Array) return `x'${hexOf(v)}'`;
    return `'${v.replaceAll("'", "''")}'`;
  },
  col: (name) => q(name),
  bits: (e, mask, want) =>
    want === undefined ? `(${e} & ${mask}) != 0` : `(${e} & ${mask}) = ${want}`,
  prefix(e, bytes, lastBits) {
    if (lastBits === 8 || lastBits === 0) {
      return `substr(${e}, 1, ${lastBits === 0 ? bytes - 1 : bytes})`;
    }
    // The last byte masked: its two hex digits turned into a number, masked, written back.
    const h = `hex(substr(${e}, ${bytes}, 1))`;
    const d = (i: number) => `(instr('0123456789ABCDEF', substr(${h}, ${i}, 1)) - 1)`;
    const mask = (0xff << (8 - lastBits)) & 0xff;
    return `(substr(${e}, 1, ${bytes - 1}) || unhex(printf('%02X', (${d(1)} * 16 + ${
      d(2)
    }) & ${mask})))`;
  },
  hex: (e) => `hex(${e})`,
  coalesce: (e, f) => `coalesce(${e}, ${f})`,
  isMapped: (e) => `substr(${e}, 1, 12) = x'00000000000000000000ffff'`,
  div: (a, b) => `((${a}) / ${b})`,
  exact: (e) => `CAST(${e} AS TEXT)`,
  distinct: (a, b) => `${a} IS NOT ${b}`,
  sum: (e) => `coalesce(sum(${e}), 0)`,
  record: (t) => `(SELECT Record FROM ${recordTable(t)} r WHERE r.id = ${t.name}.id)`,
  residual: (t, i) => `netmon_match(${SQLITE_DIALECT.record(t)}, ${i})`,
};

export interface SqliteOptions {
  path: string;
  schema?: StoreSchema;
  retention?: RetentionOptions;
  log?: Logger;
  /** Query worker threads (default 2). */
  workers?: number;
}

interface Prepared {
  insert: StatementSync;
  insertRecord: StatementSync;
}

interface Pending {
  resolve: (rows: SqlRow[]) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One query worker thread. */
class QueryWorker {
  private worker: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** Jobs waiting for the thread to start (its time limit starts when it is sent). */
  private waiting: (() => void)[] = [];
  private ready = false;
  busy = 0;

  constructor(private readonly path: string) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const w = new Worker(new URL("./sqlite_worker.ts", import.meta.url).href, { type: "module" });
    this.ready = false;
    w.onmessage = (ev: MessageEvent) => {
      const m = ev.data as {
        id: number;
        rows?: SqlRow[];
        error?: string;
        limit?: boolean;
        ready?: boolean;
      };
      if (m.ready) {
        this.ready = true;
        for (const go of this.waiting.splice(0)) go();
        return;
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      this.busy--;
      clearTimeout(p.timer);
      if (m.error !== undefined) {
        p.reject(m.limit ? new QueryLimitError(m.error) : new Error(m.error));
      } else p.resolve(m.rows ?? []);
    };
    w.onerror = (ev) => {
      ev.preventDefault();
      this.failAll(new Error(`query worker failed: ${ev.message}`));
      this.worker = this.spawn();
    };
    w.postMessage({ open: this.path });
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.busy -= this.pending.size;
    this.pending.clear();
  }

  async run(sql: string, o: SelectOptions): Promise<SqlRow[]> {
    this.busy++;
    if (!this.ready) await new Promise<void>((r) => this.waiting.push(r));
    this.busy--;
    const id = this.nextId++;
    this.busy++;
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // The query is still running in the worker: only ending the thread stops it.
        this.pending.delete(id);
        this.busy--;
        this.worker.terminate();
        this.failAll(new QueryLimitError("query cut off"));
        this.worker = this.spawn();
        reject(new QueryLimitError(`query ran longer than ${o.timeoutMs} ms; narrow it`));
      }, o.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ id, sql, maxRows: o.maxRows, residuals: o.residuals ?? [] });
    });
  }

  close(): void {
    this.failAll(new Error("store closed"));
    this.worker.terminate();
  }
}

/** Opens (creating or migrating) a SQLite store. */
export function openSqlite(o: SqliteOptions): SqliteStore {
  return new SqliteStore(o);
}

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly dialect = SQLITE_DIALECT;
  readonly schema: StoreSchema;
  readonly db: DatabaseSync;
  private readonly prep: Record<"flows" | "packets", Prepared>;
  private readonly findKey: StatementSync;
  private readonly addBatch: StatementSync;
  private readonly setBatch: StatementSync;
  private readonly upsertAgent: StatementSync;
  private readonly workers: QueryWorker[];
  private readonly retention: RetentionOptions;
  private readonly retStats: RetentionStats;
  private retentionTimer: ReturnType<typeof setInterval> | undefined;
  private counts = { flows: 0, packets: 0, batches: 0 };
  private retaining = false;
  private closed = false;
  readonly migratedFrom: number;

  constructor(private readonly o: SqliteOptions) {
    this.schema = o.schema ?? SCHEMA;
    this.retention = o.retention ?? NO_RETENTION;
    // Database files hold captured metadata: owner only, whatever the umask (files.ts).
    try {
      preparePrivateFile(o.path, o.log);
    } catch { /* opening below reports it */ }
    this.db = new DatabaseSync(o.path);
    const db = this.db;
    db.exec("PRAGMA busy_timeout=5000");
    // auto_vacuum must be chosen before the first table exists (migrate VACUUMs old files).
    db.exec("PRAGMA auto_vacuum=INCREMENTAL");
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=FULL");
    db.exec("PRAGMA cache_size=-65536");
    this.migratedFrom = migrate(db, this.schema, o.log);
    this.prep = {
      flows: this.prepareTable(this.schema.flows),
      packets: this.prepareTable(this.schema.packets),
    };
    this.findKey = db.prepare("SELECT body_hash FROM batches WHERE idem_key = ?");
    this.addBatch = db.prepare(
      "INSERT INTO batches (idem_key, body_hash, agent_id, records, bytes, received_at, received_ns) VALUES (?, ?, ?, 0, ?, ?, ?)",
    );
    this.setBatch = db.prepare(
      "UPDATE batches SET records = ?, first_flow = ?, last_flow = ?, first_packet = ?, last_packet = ? WHERE id = ?",
    );
    this.upsertAgent = db.prepare(
      `INSERT INTO agents (Agent_ID, Host_Name, Run_ID, First_Seen, Last_Seen, Records, Batches,
         Kernel_Drops, Queue_Drops, Spool_Records)
       VALUES (?, coalesce(?, ''), ?, ?, ?, ?, 1, coalesce(?, 0), coalesce(?, 0), coalesce(?, 0))
       ON CONFLICT(Agent_ID) DO UPDATE SET
         Host_Name = coalesce(?2, Host_Name), Run_ID = excluded.Run_ID, Last_Seen = excluded.Last_Seen,
         Records = Records + excluded.Records, Batches = Batches + 1,
         Kernel_Drops = coalesce(?7, Kernel_Drops), Queue_Drops = coalesce(?8, Queue_Drops),
         Spool_Records = coalesce(?9, Spool_Records)`,
    );
    for (const t of ["flows", "packets"] as const) {
      this.counts[t] = Number(
        (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      );
    }
    this.counts.batches = Number(
      (db.prepare("SELECT count(*) AS n FROM batches").get() as { n: number }).n,
    );
    this.retStats = {
      retain_seconds: this.retention.retainSeconds,
      max_db_bytes: this.retention.maxDbBytes,
      deleted_records: 0,
      deleted_batches: 0,
      runs: 0,
      last_run: null,
    };
    this.workers = Array.from({ length: o.workers ?? 2 }, () => new QueryWorker(o.path));
    if (this.retention.retainSeconds !== null || this.retention.maxDbBytes !== null) {
      this.retentionTimer = setInterval(() => void this.retain(), this.retention.intervalMs);
      Deno.unrefTimer(this.retentionTimer);
    }
  }

  private prepareTable(t: TableSchema): Prepared {
    const cols = typedColumns(t);
    return {
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO ${t.name} (${cols.map((c) => q(c.name)).join(", ")}) VALUES (${
          cols.map(() => "?").join(", ")
        })`,
      ),
      insertRecord: this.db.prepare(`INSERT INTO ${recordTable(t)} (id, Record) VALUES (?, ?)`),
    };
  }

  ingest(req: IngestRequest): Promise<IngestOutcome> {
    try {
      return Promise.resolve(this.ingestSync(req));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private ingestSync(req: IngestRequest): IngestOutcome {
    const db = this.db;
    if (req.key !== null) {
      const seen = this.findKey.get(req.key) as { body_hash: string | null } | undefined;
      if (seen !== undefined) return this.sameBody(seen.body_hash, req.hash);
    }
    const now = Date.now();
    const nowNs = BigInt(now) * 1_000_000n;
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (e) {
      throw new StoreUnavailable((e as Error).message);
    }
    try {
      if (req.key !== null) {
        const seen = this.findKey.get(req.key) as { body_hash: string | null } | undefined;
        if (seen !== undefined) {
          db.exec("ROLLBACK");
          return this.sameBody(seen.body_hash, req.hash);
        }
      }
      const firstAgent = req.batch.agents.keys().next().value ?? "";
      const batchId = Number(
        this.addBatch.run(
          req.key,
          req.hash,
          firstAgent,
          req.bytes,
          new Date(now).toISOString(),
          nowNs,
        ).lastInsertRowid,
      );
      let stored = 0;
      const added = { flows: 0, packets: 0 };
      const range: Record<"flows" | "packets", [number | null, number | null]> = {
        flows: [null, null],
        packets: [null, null],
      };
      for (const t of ["flows", "packets"] as const) {
        const rows = req.batch[t];
        if (rows.length === 0) continue;
        const p = this.prep[t];
        const recAt = this.schema[t].columns.findIndex((c) => c.type === "Record");
        const r = range[t];
        for (const row of rows) {
          const record = row[recAt];
          const values = recAt === row.length - 1
            ? row.slice(0, recAt)
            : row.filter((_, i) => i !== recAt);
          const res = p.insert.run(...(values as (number | bigint | string | Uint8Array | null)[]));
          if (res.changes === 0) continue;
          const id = Number(res.lastInsertRowid);
          p.insertRecord.run(id, record as string);
          if (r[0] === null) r[0] = id;
          r[1] = id;
          stored++;
          added[t]++;
        }
      }
      this.setBatch.run(
        stored,
        range.flows[0],
        range.flows[1],
        range.packets[0],
        range.packets[1],
        batchId,
      );
      const rep = req.report;
      for (const [agent, [run, n]] of req.batch.agents) {
        this.upsertAgent.run(
          agent,
          rep?.Host_Name ?? null,
          run,
          nowNs,
          nowNs,
          n,
          rep?.Kernel_Drops ?? null,
          rep?.Queue_Drops ?? null,
          rep?.Spool_Records ?? null,
        );
      }
      db.exec("COMMIT");
      this.counts.batches++;
      this.counts.flows += added.flows;
      this.counts.packets += added.packets;
      if (this.retention.maxDbBytes !== null && this.dbBytes() > this.retention.maxDbBytes) {
        queueMicrotask(() => void this.retain());
      }
      return { kind: "stored", records: stored };
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch { /* rolled back already */ }
      throw new StoreUnavailable((e as Error).message);
    }
  }

  private sameBody(stored: string | null, hash: string): IngestOutcome {
    // Batches from before body hashes were kept: the key alone decides.
    return stored === null || stored === hash ? { kind: "duplicate" } : { kind: "mismatch" };
  }

  async select(sql: string, o: SelectOptions): Promise<SqlRow[]> {
    if (this.closed) throw new Error("store closed");
    const w = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    return await w.run(sql, o);
  }

  agents(): Promise<AgentRow[]> {
    const rows = this.db.prepare(
      `SELECT Agent_ID, Host_Name, Run_ID, First_Seen / 1000000 AS First_Seen,
        Last_Seen / 1000000 AS Last_Seen, Records, Batches, Kernel_Drops, Queue_Drops,
        Spool_Records FROM agents ORDER BY Agent_ID`,
    ).all() as unknown as AgentRow[];
    return Promise.resolve(rows.map((r) => ({ ...r })));
  }

  /** Bytes the database takes on disk (main file and WAL). */
  dbBytes(): number {
    let n = 0;
    for (const f of [this.o.path, `${this.o.path}-wal`]) {
      try {
        n += Deno.statSync(f).size;
      } catch { /* absent */ }
    }
    return n;
  }

  /** Bytes in use inside the database (pages not on the free list). */
  private usedBytes(): number {
    const g = (p: string) =>
      Number((this.db.prepare(`PRAGMA ${p}`).get() as Record<string, number>)[p]);
    return (g("page_count") - g("freelist_count")) * g("page_size");
  }

  stats(): Promise<StoreStats> {
    const v = this.db.prepare("SELECT max(version) AS v FROM schema_version").get() as {
      v: number;
    };
    return Promise.resolve({
      store: "sqlite",
      schema_version: Number(v.v),
      flows: this.counts.flows,
      packets: this.counts.packets,
      agents: Number(
        (this.db.prepare("SELECT count(*) AS n FROM agents").get() as { n: number }).n,
      ),
      batches: this.counts.batches,
      db_bytes: this.dbBytes(),
      retention: { ...this.retStats },
      details: { path: this.o.path, migrated_from: this.migratedFrom },
    });
  }

  /**
   * Removes the oldest batches' rows: those received before `--retain`, then more until
   * the database is under 90 % of `--max-db-size`; gives the pages back to the file system
   * (incremental vacuum, WAL truncated). Runs in steps of 20 batches, one transaction each,
   * so ingest waits at most one step.
   */
  retain(): Promise<void> {
    if (this.retaining || this.closed) return Promise.resolve();
    this.retaining = true;
    try {
      const cutoff = this.retention.retainSeconds === null
        ? null
        : BigInt(Date.now() - this.retention.retainSeconds * 1000) * 1_000_000n;
      const oldest = this.db.prepare(
        "SELECT id, records, received_ns, first_flow, last_flow, first_packet, last_packet FROM batches WHERE pruned = 0 ORDER BY id LIMIT 20",
      );
      oldest.setReadBigInts(true);
      const max = this.retention.maxDbBytes;
      let deleted = 0;
      while (true) {
        const overSize = max !== null && this.usedBytes() > max * 0.9;
        const rows = oldest.all() as Record<string, bigint | null>[];
        if (rows.length === 0) break;
        const pick = rows.filter((r) =>
          overSize || (cutoff !== null && (r.received_ns ?? 0n) < cutoff)
        );
        if (pick.length === 0) break;
        // Whole steps only while over the size; by age each batch is checked.
        const batchesHere = overSize ? rows : pick;
        this.db.exec("BEGIN IMMEDIATE");
        try {
          for (const b of batchesHere) {
            for (
              const [t, lo, hi] of [["flows", b.first_flow, b.last_flow], [
                "packets",
                b.first_packet,
                b.last_packet,
              ]] as const
            ) {
              if (lo === null || hi === null) continue;
              const rt = t === "flows" ? "flow_records" : "packet_records";
              const n =
                this.db.prepare(`DELETE FROM ${t} WHERE id BETWEEN ? AND ?`).run(lo, hi).changes;
              this.db.prepare(`DELETE FROM ${rt} WHERE id BETWEEN ? AND ?`).run(lo, hi);
              this.counts[t] -= Number(n);
              this.retStats.deleted_records += Number(n);
            }
            this.db.prepare("UPDATE batches SET pruned = 1 WHERE id = ?").run(b.id);
            this.retStats.deleted_batches++;
            deleted++;
          }
          this.db.exec("COMMIT");
        } catch (e) {
          try {
            this.db.exec("ROLLBACK");
          } catch { /* gone */ }
          this.o.log?.error(`store: retention step failed: ${(e as Error).message}`);
          break;
        }
        if (!overSize && pick.length < rows.length) break;
      }
      if (deleted > 0) {
        this.db.exec("PRAGMA incremental_vacuum");
        this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        this.o.log?.info(`store: retention removed ${deleted} batches`);
      }
      this.retStats.runs++;
      this.retStats.last_run = new Date().toISOString();
    } finally {
      this.retaining = false;
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    for (const w of this.workers) w.close();
    this.db.close();
    return Promise.resolve();
  }
}
