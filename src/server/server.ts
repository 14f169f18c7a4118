/**
 * `netmon serve`: the monitor server. Takes ndjson batches over HTTP, deduplicates
 * them by Idempotency-Key and stores their records in SQLite (node:sqlite, WAL), one
 * transaction per batch; the answer is 2xx only after the commit.
 *
 * Endpoints:
 * - `POST /` (any path not under /api/): a batch. 200 `{"stored":N}` or
 *   `{"duplicate":true,"stored":0}`; 400 bad body, 401 token, 413 too large.
 * - `GET /api/stats`: `{records, batches, duplicate_batches, rejected_batches, ...}`.
 * - `GET /api/records?limit=&after=`: `{records:[{id, batch, record}], next}`.
 * - `GET /api/health`: `{"ok":true}`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Logger } from "../log/mod.ts";

export interface ServeOptions {
  hostname: string;
  port: number;
  dbPath: string;
  /** Bearer token required on every request ("" = none). */
  token: string;
  /** Largest request body (after gzip decoding). */
  maxBodyBytes: number;
  log: Logger;
}

export interface RunningServer {
  readonly hostname: string;
  readonly port: number;
  /** Resolves when the server stopped. */
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  stats(): ServerStats;
}

export interface ServerStats {
  records: number;
  batches: number;
  duplicate_batches: number;
  rejected_batches: number;
  too_large: number;
  unauthorized: number;
  bytes: number;
}

const MAX_KEY = 256;
const MAX_PAGE = 10_000;

class BodyTooLarge extends Error {}
class BadBody extends Error {}

async function readLimited(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      n += value.length;
      if (n > max) throw new BodyTooLarge(`body larger than ${max} bytes`);
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

interface Row {
  agent: string | null;
  run: string | null;
  seq: number | null;
  type: string | null;
  text: string;
}

/** Parses an ndjson body; throws BadBody naming the first bad line. */
export function parseNdjson(text: string): Row[] {
  const rows: Row[] = [];
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new BadBody(`line ${lineNo}: not JSON (${(e as Error).message})`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new BadBody(`line ${lineNo}: not a JSON object`);
    }
    const env = (v as Record<string, unknown>).Netmon as Record<string, unknown> | undefined;
    const str = (x: unknown) => (typeof x === "string" ? x : null);
    rows.push({
      agent: str(env?.Agent_ID),
      run: str(env?.Run_ID),
      seq: typeof env?.Sequence === "number" ? env.Sequence : null,
      type: str(env?.Record_Type),
      text: line,
    });
  }
  if (rows.length === 0) throw new BadBody("no records in the body");
  return rows;
}

/** Opens the database (WAL) and creates the tables. */
export function openDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA busy_timeout=5000");
  db.exec(`CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    idem_key TEXT UNIQUE,
    records INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    received_at TEXT NOT NULL)`);
  db.exec(`CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    agent_id TEXT,
    run_id TEXT,
    seq INTEGER,
    record_type TEXT,
    body TEXT NOT NULL)`);
  db.exec("CREATE INDEX IF NOT EXISTS records_by_seq ON records(agent_id, run_id, seq)");
  return db;
}

/** Starts `netmon serve`. */
export function startServer(o: ServeOptions): RunningServer {
  const db = openDb(o.dbPath);
  const q = {
    findKey: db.prepare("SELECT id FROM batches WHERE idem_key = ?"),
    addBatch: db.prepare(
      "INSERT INTO batches (idem_key, records, bytes, received_at) VALUES (?, ?, ?, ?)",
    ),
    addRecord: db.prepare(
      "INSERT INTO records (batch_id, agent_id, run_id, seq, record_type, body) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    page: db.prepare("SELECT id, batch_id, body FROM records WHERE id > ? ORDER BY id LIMIT ?"),
  } satisfies Record<string, StatementSync>;
  const totals = db.prepare(
    "SELECT count(*) AS batches, coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes FROM batches",
  ).get() as { batches: number; records: number; bytes: number };
  const stats: ServerStats = {
    records: Number(totals.records),
    batches: Number(totals.batches),
    duplicate_batches: 0,
    rejected_batches: 0,
    too_large: 0,
    unauthorized: 0,
    bytes: Number(totals.bytes),
  };
  const want = o.token ? `Bearer ${o.token}` : null;

  const store = (key: string | null, rows: Row[], bytes: number): number | null => {
    db.exec("BEGIN IMMEDIATE");
    try {
      if (key !== null && q.findKey.get(key) !== undefined) {
        db.exec("ROLLBACK");
        return null;
      }
      const r = q.addBatch.run(key, rows.length, bytes, new Date().toISOString());
      const batchId = Number(r.lastInsertRowid);
      for (const row of rows) {
        q.addRecord.run(batchId, row.agent, row.run, row.seq, row.type, row.text);
      }
      db.exec("COMMIT");
      return rows.length;
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch { /* already rolled back */ }
      throw e;
    }
  };

  const ingest = async (req: Request): Promise<Response> => {
    const key = req.headers.get("idempotency-key");
    if (key !== null && (key.length === 0 || key.length > MAX_KEY)) {
      stats.rejected_batches++;
      return json(400, { error: `Idempotency-Key must be 1..${MAX_KEY} characters` });
    }
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > o.maxBodyBytes) {
      stats.too_large++;
      return json(413, { error: `body larger than ${o.maxBodyBytes} bytes` });
    }
    if (key !== null && q.findKey.get(key) !== undefined) {
      stats.duplicate_batches++;
      await req.body?.cancel();
      return json(200, { duplicate: true, stored: 0 });
    }
    let data: Uint8Array;
    try {
      let stream: ReadableStream<Uint8Array> = req.body ?? new Blob([]).stream();
      const ce = (req.headers.get("content-encoding") ?? "identity").toLowerCase();
      if (ce === "gzip") {
        stream = stream.pipeThrough(
          new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
        );
      } else if (ce !== "identity") throw new BadBody(`unsupported Content-Encoding ${ce}`);
      data = await readLimited(stream, o.maxBodyBytes);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        stats.too_large++;
        return json(413, { error: e.message });
      }
      stats.rejected_batches++;
      const msg = e instanceof BadBody ? e.message : `cannot read body: ${(e as Error).message}`;
      return json(400, { error: msg });
    }
    let rows: Row[];
    try {
      rows = parseNdjson(new TextDecoder("utf-8", { fatal: true }).decode(data));
    } catch (e) {
      stats.rejected_batches++;
      const msg = e instanceof BadBody ? e.message : "body is not UTF-8";
      return json(400, { error: msg });
    }
    let stored: number | null;
    try {
      stored = store(key, rows, data.length);
    } catch (e) {
      o.log.error(`serve: cannot store a batch: ${(e as Error).message}`);
      return json(503, { error: "cannot store the batch now" }, { "retry-after": "1" });
    }
    if (stored === null) {
      stats.duplicate_batches++;
      return json(200, { duplicate: true, stored: 0 });
    }
    stats.records += stored;
    stats.batches++;
    stats.bytes += data.length;
    return json(200, { stored });
  };

  const records = (url: URL): Response => {
    const limit = Math.min(
      MAX_PAGE,
      Math.max(1, Number(url.searchParams.get("limit") ?? 100) || 100),
    );
    const after = Math.max(0, Number(url.searchParams.get("after") ?? 0) || 0);
    const rows = q.page.all(after, limit) as { id: number; batch_id: number; body: string }[];
    const out = rows.map((r) => `{"id":${r.id},"batch":${r.batch_id},"record":${r.body}}`);
    const next = rows.length > 0 ? rows[rows.length - 1].id : after;
    return new Response(`{"records":[${out.join(",")}],"next":${next}}\n`, {
      headers: { "content-type": "application/json" },
    });
  };

  const handler = async (req: Request): Promise<Response> => {
    if (want !== null && req.headers.get("authorization") !== want) {
      stats.unauthorized++;
      await req.body?.cancel();
      return json(401, { error: "missing or wrong bearer token" }, {
        "www-authenticate": 'Bearer realm="netmon"',
      });
    }
    const url = new URL(req.url);
    if (url.pathname.startsWith("/api/")) {
      if (req.method !== "GET") return json(405, { error: "use GET" }, { allow: "GET" });
      if (url.pathname === "/api/stats") return json(200, stats);
      if (url.pathname === "/api/records") return records(url);
      if (url.pathname === "/api/health") return json(200, { ok: true });
      return json(404, { error: "no such endpoint" });
    }
    if (req.method !== "POST") return json(405, { error: "POST batches here" }, { allow: "POST" });
    return await ingest(req);
  };

  const server = Deno.serve({
    hostname: o.hostname,
    port: o.port,
    onListen: () => {},
    onError: (e) => {
      o.log.error(`serve: ${(e as Error).message}`);
      return json(500, { error: "internal error" });
    },
  }, handler);
  const addr = server.addr as Deno.NetAddr;
  const finished = server.finished.then(() => db.close());
  return {
    hostname: addr.hostname,
    port: addr.port,
    finished,
    shutdown: async () => {
      await server.shutdown();
      await finished;
    },
    stats: () => ({ ...stats }),
  };
}
