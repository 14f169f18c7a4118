/**
 * SQLite schema versions: creates a new database at the current version, or brings an
 * older one up to it, each step in one transaction (a failed step leaves the previous
 * version intact):
 *
 * - version 1 (netmon 0.1: `batches` + `records(body TEXT)`) -> 2: every record row is
 *   parsed and moved into `flows`/`packets` with its envelope, batch row ids recorded,
 *   `agents` filled from what was stored, the old table dropped; then VACUUM gives the
 *   space back and switches on incremental auto-vacuum.
 * - version N -> N+1 (derived from schema.ts): columns with `since: N+1` are added and
 *   filled from each row's stored record with the column's own reader.
 */
import type { DatabaseSync } from "node:sqlite";
import {
  type Column,
  type RecordObject,
  rowOf,
  SCHEMA_VERSIONS,
  type StoreSchema,
  type TableSchema,
  toValue,
  zeroOf,
} from "./schema.ts";
import { stripEnvelope } from "./ingest.ts";
import { columnDdl, recordTable, SQLITE_DIALECT, sqliteDdl, typedColumns } from "./sqlite.ts";
import type { Logger } from "../log/mod.ts";

function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
    undefined;
}

function noteOf(schema: StoreSchema, v: number): string {
  return SCHEMA_VERSIONS.find((x) => x.version === v)?.note ??
    (schema as { notes?: Record<number, string> }).notes?.[v] ?? `columns of version ${v}`;
}

/** Brings the database to `schema.version`; returns the version it had (0 = new). */
export function migrate(db: DatabaseSync, schema: StoreSchema, log?: Logger): number {
  let found = 0;
  if (hasTable(db, "schema_version")) {
    found = Number(
      (db.prepare("SELECT max(version) AS v FROM schema_version").get() as { v: number }).v,
    );
  } else if (hasTable(db, "records")) found = 1;
  if (found > schema.version) {
    throw new Error(
      `database schema version ${found} is newer than this netmon's (${schema.version}); use a newer netmon`,
    );
  }
  const stamp = (v: number) =>
    db.prepare("INSERT INTO schema_version (version, applied_at, note) VALUES (?, ?, ?)").run(
      v,
      new Date().toISOString(),
      noteOf(schema, v),
    );
  if (found === 0) {
    db.exec("BEGIN IMMEDIATE");
    for (const s of sqliteDdl(schema)) db.exec(s);
    for (let v = 2; v <= schema.version; v++) stamp(v);
    db.exec("COMMIT");
    return 0;
  }
  if (found === 1) {
    log?.info("store: migrating the database from schema version 1 (records as text) to 2");
    db.exec("BEGIN IMMEDIATE");
    try {
      fromVersion1(db, schema);
      db.exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL, note TEXT NOT NULL)",
      );
      stamp(1);
      stamp(2);
      for (let v = 3; v <= schema.version; v++) stamp(v);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    db.exec("PRAGMA auto_vacuum=INCREMENTAL");
    db.exec("VACUUM");
    return 1;
  }
  for (let v = found + 1; v <= schema.version; v++) {
    log?.info(`store: migrating the database to schema version ${v}`);
    db.exec("BEGIN IMMEDIATE");
    try {
      for (const t of [schema.flows, schema.packets]) addColumns(db, t, v);
      stamp(v);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
  }
  return found;
}

/** Adds the columns of version `v` to a table and fills them from the stored records. */
function addColumns(db: DatabaseSync, t: TableSchema, v: number): void {
  const cols = typedColumns(t).filter((c) => c.since === v);
  if (cols.length === 0) return;
  for (const c of cols) {
    const def = c.nullable ? "" : ` DEFAULT ${SQLITE_DIALECT.lit(zeroOf(c.type))}`;
    db.exec(`ALTER TABLE ${t.name} ADD COLUMN ${columnDdl(c)}${def}`);
  }
  const set = db.prepare(
    `UPDATE ${t.name} SET ${cols.map((c) => `"${c.name}" = ?`).join(", ")} WHERE id = ?`,
  );
  const page = db.prepare(
    `SELECT id, Record FROM ${recordTable(t)} WHERE id > ? ORDER BY id LIMIT 5000`,
  );
  let after = 0;
  while (true) {
    const rows = page.all(after) as { id: number; Record: string }[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const rec = JSON.parse(r.Record) as RecordObject;
      set.run(...cols.map((c: Column) => valueFor(c, rec)), r.id);
    }
    after = rows[rows.length - 1].id;
  }
}

function valueFor(c: Column, rec: RecordObject) {
  const v = toValue(c.type, c.read(rec));
  return (v === null && !c.nullable ? zeroOf(c.type) : v) as
    | number
    | bigint
    | string
    | Uint8Array
    | null;
}

/** Version 1 -> 2: `records(body)` rows into typed tables, without loss. */
function fromVersion1(db: DatabaseSync, schema: StoreSchema): void {
  for (
    const c of [
      "body_hash TEXT",
      "agent_id TEXT",
      "received_ns INTEGER NOT NULL DEFAULT 0",
      "first_flow INTEGER",
      "last_flow INTEGER",
      "first_packet INTEGER",
      "last_packet INTEGER",
      "pruned INTEGER NOT NULL DEFAULT 0",
    ]
  ) {
    db.exec(`ALTER TABLE batches ADD COLUMN ${c}`);
  }
  for (const s of sqliteDdl(schema)) db.exec(s);
  const batches = db.prepare("SELECT id, received_at FROM batches").all() as {
    id: number;
    received_at: string;
  }[];
  const setNs = db.prepare("UPDATE batches SET received_ns = ? WHERE id = ?");
  for (const b of batches) {
    const ms = Date.parse(b.received_at);
    setNs.run(Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n, b.id);
  }
  const ins: Record<
    string,
    { row: ReturnType<DatabaseSync["prepare"]>; rec: ReturnType<DatabaseSync["prepare"]> }
  > = {};
  for (const t of [schema.flows, schema.packets]) {
    const cols = typedColumns(t);
    ins[t.name] = {
      row: db.prepare(
        `INSERT OR IGNORE INTO ${t.name} (${cols.map((c) => `"${c.name}"`).join(", ")}) VALUES (${
          cols.map(() => "?").join(", ")
        })`,
      ),
      rec: db.prepare(`INSERT INTO ${recordTable(t)} (id, Record) VALUES (?, ?)`),
    };
  }
  const setRange = db.prepare(
    `UPDATE batches SET agent_id = coalesce(agent_id, ?),
      first_flow = coalesce(first_flow, ?), last_flow = coalesce(?, last_flow),
      first_packet = coalesce(first_packet, ?), last_packet = coalesce(?, last_packet) WHERE id = ?`,
  );
  const page = db.prepare(
    "SELECT r.id, r.batch_id, r.agent_id, r.run_id, r.seq, r.record_type, r.body, b.received_at FROM records r JOIN batches b ON b.id = r.batch_id WHERE r.id > ? ORDER BY r.id LIMIT 5000",
  );
  const agents = new Map<
    string,
    { run: string; records: number; batches: Set<number>; first: string; last: string }
  >();
  let after = 0;
  while (true) {
    const rows = page.all(after) as {
      id: number;
      batch_id: number;
      agent_id: string | null;
      run_id: string | null;
      seq: number | null;
      record_type: string | null;
      body: string;
      received_at: string;
    }[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const rec = JSON.parse(r.body) as RecordObject;
      const keyed = r.agent_id !== null && r.run_id !== null && r.seq !== null;
      const env = keyed
        ? { agent: r.agent_id!, run: r.run_id!, seq: r.seq! }
        : { agent: "", run: `legacy-b${r.batch_id}`, seq: r.id };
      const isFlow = r.record_type === "flow" || rec.Flow !== undefined;
      const t = isFlow ? schema.flows : schema.packets;
      const row = rowOf(t, rec, env, stripEnvelope(r.body));
      const recAt = t.columns.findIndex((c) => c.type === "Record");
      const values = row.filter((_, i) =>
        i !== recAt
      ) as (number | bigint | string | Uint8Array | null)[];
      const res = ins[t.name].row.run(...values);
      if (res.changes === 0) continue;
      const id = Number(res.lastInsertRowid);
      ins[t.name].rec.run(id, row[recAt] as string);
      if (isFlow) setRange.run(env.agent, id, id, null, null, r.batch_id);
      else setRange.run(env.agent, null, null, id, id, r.batch_id);
      const a = agents.get(env.agent) ??
        { run: env.run, records: 0, batches: new Set(), first: r.received_at, last: r.received_at };
      a.run = env.run;
      a.records++;
      a.batches.add(r.batch_id);
      if (r.received_at < a.first) a.first = r.received_at;
      if (r.received_at > a.last) a.last = r.received_at;
      agents.set(env.agent, a);
    }
    after = rows[rows.length - 1].id;
  }
  const ns = (iso: string) => {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? 0n : BigInt(ms) * 1_000_000n;
  };
  const addAgent = db.prepare(
    `INSERT OR REPLACE INTO agents (Agent_ID, Host_Name, Run_ID, First_Seen, Last_Seen, Records,
      Batches, Kernel_Drops, Queue_Drops, Spool_Records) VALUES (?, '', ?, ?, ?, ?, ?, 0, 0, 0)`,
  );
  for (const [id, a] of agents) {
    addAgent.run(id, a.run, ns(a.first), ns(a.last), a.records, a.batches.size);
  }
  db.exec("DROP TABLE records");
}
