/**
 * The server's SQLite database: opened with WAL and synchronous=FULL, its file created
 * 0600 (SQLite gives the -wal and -shm files the mode of the database file) and missing
 * parent directories created 0700, whatever the umask. {@link migrate} brings a database
 * of an earlier layout up to date in place, keeping its data.
 *
 * Layout:
 * - `batches(id, idem_key UNIQUE, records, bytes, received_at, body_sha256)`: one row per
 *   stored batch; `body_sha256` (added in 0.2; NULL for batches stored before) is the
 *   SHA-256 of the decoded body, so a reused Idempotency-Key with another body is told
 *   apart from a retry.
 * - `records(id, batch_id, agent_id, run_id, seq, record_type, body)`, index on
 *   `(agent_id, run_id, seq)`.
 *
 * @example
 * ```ts
 * import { openDb } from "./db.ts";
 * const db = openDb("/var/lib/netmon/netmon.sqlite", log);
 * ```
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { Logger } from "../log/mod.ts";

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Creates the missing directories of `dir`, each 0700 (chmod after mkdir: umask-proof). */
export function makePrivateDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; d !== "/" && d !== "." && !exists(d); d = dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    try {
      Deno.mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      continue; // made by someone else meanwhile: not ours to chmod
    }
    Deno.chmodSync(d, 0o700);
  }
}

/**
 * Makes sure the database file exists with mode 0600 before SQLite opens it; an existing
 * file readable by others is kept as it is and reported.
 */
export function preparePrivateFile(path: string, log: Logger): void {
  if (path === ":memory:" || path === "" || path.startsWith("file:")) return;
  makePrivateDirs(dirname(path));
  try {
    const f = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
    f.close();
    Deno.chmodSync(path, 0o600);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    const mode = (Deno.statSync(path).mode ?? 0) & 0o777;
    if ((mode & 0o077) !== 0) {
      log.warn(
        `serve: database ${path} is readable by other users (mode ${
          mode.toString(8).padStart(4, "0")
        }); chmod 600 ${path} ${path}-wal ${path}-shm`,
      );
    }
  }
}

/** Opens (creating it 0600 if needed) and migrates the database. */
export function openDb(path: string, log: Logger): DatabaseSync {
  preparePrivateFile(path, log);
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA busy_timeout=5000");
  migrate(db, log);
  return db;
}

/** Creates the tables, or adds what an older layout lacks (idempotent). */
export function migrate(db: DatabaseSync, log: Logger): void {
  db.exec(`CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    idem_key TEXT UNIQUE,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    body_sha256 BLOB)`);
  db.exec(`CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    agent_id TEXT,
    run_id TEXT,
    seq INTEGER,
    record_type TEXT,
    body TEXT NOT NULL)`);
  db.exec("CREATE INDEX IF NOT EXISTS records_by_seq ON records(agent_id, run_id, seq)");
  // 0.1 layout: batches without body_sha256.
  const cols = db.prepare("PRAGMA table_info(batches)").all() as { name: string }[];
  if (!cols.some((c) => c.name === "body_sha256")) {
    db.exec("ALTER TABLE batches ADD COLUMN body_sha256 BLOB");
    log.info(
      "serve: database migrated: batches.body_sha256 added (batches stored before have none; " +
        "a resend of one of them is answered as a duplicate without comparing bodies)",
    );
  }
}
