/**
 * Ingest of ndjson batches: `POST` a body of one record per line. The body is parsed as it
 * arrives (each decoded chunk takes its bytes from the in-flight budget first; 503 with
 * Retry-After when the budget stays used up), hashed (SHA-256 of the decoded bytes) and
 * stored in one SQLite transaction; 2xx only after the commit.
 *
 * Idempotency-Key (the IETF httpapi-idempotency-key draft, as Stripe does it): the key
 * is stored with the body's hash. The same key with the same body is a retry: 200
 * `{"duplicate":true,"stored":0}` (the body is read and hashed, not stored again). The same
 * key with another body is a client bug: 422 with a message naming the key.
 *
 * @example
 * ```ts
 * import { Ingest } from "./ingest.ts";
 * const ingest = new Ingest(db, { maxBodyBytes: 64 << 20, maxJsonDepth: 64, log });
 * router.fallback((req, ctx) => ingest.handle(req, ctx));
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Logger } from "../log/mod.ts";
import { bodyChunks, contentCoding } from "./body.ts";
import { HttpError, jsonResponse } from "./errors.ts";
import type { RequestContext } from "./http.ts";
import { BadLine, NdjsonBatch } from "./ndjson.ts";

export const MAX_KEY = 256;

export interface IngestOptions {
  /** Largest body after decoding (413 beyond). */
  maxBodyBytes: number;
  /** Deepest nesting of objects/arrays in a record (400 beyond). */
  maxJsonDepth: number;
  log: Logger;
}

export interface IngestStats {
  /** Records and batches stored in total (also before this start), their body bytes. */
  records: number;
  batches: number;
  bytes: number;
  /** Since start: */
  duplicate_batches: number;
  rejected_batches: number;
  too_large: number;
  key_conflicts: number;
  busy: number;
}

type Outcome = { stored: number } | { duplicate: true } | { conflict: number };

/** The batches/records tables: dedup and one transaction per batch. */
class BatchStore {
  readonly #q: {
    findKey: StatementSync;
    addBatch: StatementSync;
    addRecord: StatementSync;
  };

  constructor(private readonly db: DatabaseSync) {
    this.#q = {
      findKey: db.prepare("SELECT id, body_sha256 FROM batches WHERE idem_key = ?"),
      addBatch: db.prepare(
        "INSERT INTO batches (idem_key, records, bytes, received_at, body_sha256) VALUES (?, ?, ?, ?, ?)",
      ),
      addRecord: db.prepare(
        "INSERT INTO records (batch_id, agent_id, run_id, seq, record_type, body) " +
          "VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))",
      ),
    };
  }

  totals(): { batches: number; records: number; bytes: number } {
    const t = this.db.prepare(
      "SELECT count(*) AS batches, coalesce(sum(records), 0) AS records, coalesce(sum(bytes), 0) AS bytes FROM batches",
    ).get() as { batches: number; records: number; bytes: number };
    return { batches: Number(t.batches), records: Number(t.records), bytes: Number(t.bytes) };
  }

  find(key: string): { id: number; sha: Uint8Array | null } | undefined {
    const r = this.#q.findKey.get(key) as
      | { id: number; body_sha256: Uint8Array | null }
      | undefined;
    return r === undefined ? undefined : { id: Number(r.id), sha: r.body_sha256 };
  }

  /** Compares a body hash with the one stored under a key. */
  static outcome(known: { id: number; sha: Uint8Array | null }, sha: Uint8Array): Outcome {
    // Batches stored before hashes were kept: a retry as before.
    if (known.sha === null || equalBytes(known.sha, sha)) return { duplicate: true };
    return { conflict: known.id };
  }

  /** Stores the batch in one transaction (key checked inside it). */
  commit(key: string | null, sha: Uint8Array, batch: NdjsonBatch): Outcome {
    const db = this.db;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (key !== null) {
        const known = this.find(key);
        if (known !== undefined) {
          db.exec("ROLLBACK");
          return BatchStore.outcome(known, sha);
        }
      }
      const r = this.#q.addBatch.run(
        key,
        batch.count,
        batch.bytes,
        new Date().toISOString(),
        sha,
      );
      const id = Number(r.lastInsertRowid);
      const add = this.#q.addRecord;
      for (let i = 0; i < batch.count; i++) {
        add.run(id, batch.agent[i], batch.run[i], batch.seq[i], batch.type[i], batch.record(i));
      }
      db.exec("COMMIT");
      return { stored: batch.count };
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch { /* already rolled back */ }
      throw e;
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The ingest endpoint. */
export class Ingest {
  readonly stats: IngestStats;
  readonly #store: BatchStore;

  constructor(db: DatabaseSync, private readonly o: IngestOptions) {
    this.#store = new BatchStore(db);
    const t = this.#store.totals();
    this.stats = {
      ...t,
      duplicate_batches: 0,
      rejected_batches: 0,
      too_large: 0,
      key_conflicts: 0,
      busy: 0,
    };
  }

  /** Answers one POST. */
  async handle(req: Request, ctx: RequestContext): Promise<Response> {
    try {
      return await this.#handle(req, ctx);
    } catch (e) {
      if (e instanceof HttpError) {
        if (e.status === 413) this.stats.too_large++;
        else if (e.status === 503) this.stats.busy++;
        else if (e.status < 500 && e.status !== 422) this.stats.rejected_batches++;
      }
      throw e;
    }
  }

  async #handle(req: Request, ctx: RequestContext): Promise<Response> {
    const key = req.headers.get("idempotency-key");
    if (key !== null && (key.length === 0 || key.length > MAX_KEY)) {
      throw new HttpError(400, `Idempotency-Key must be 1..${MAX_KEY} characters`);
    }
    const hash = createHash("sha256");
    const known = key !== null ? this.#store.find(key) : undefined;
    if (known !== undefined) {
      // A key seen before: hash the body as it streams by, hold none of it.
      for await (const c of bodyChunks(req, this.o.maxBodyBytes)) hash.update(c);
      return this.#answer(key!, BatchStore.outcome(known, new Uint8Array(hash.digest())), 0);
    }
    const declared = req.headers.get("content-length");
    const expected = declared !== null && contentCoding(req) === "identity"
      ? Number(declared)
      : null;
    const batch = new NdjsonBatch(this.o.maxJsonDepth, expected, this.o.maxBodyBytes);
    try {
      for await (const c of bodyChunks(req, this.o.maxBodyBytes)) {
        const need = batch.segmentNeeded(c.length);
        if (need > 0) {
          if (!(await ctx.reservation.take(need))) {
            throw new HttpError(
              503,
              "server busy: too many request bytes in flight (max_bytes_in_flight); retry later",
              { "retry-after": "2" },
            );
          }
          ctx.reservation.give(batch.addSegment(need));
        }
        hash.update(c);
        batch.push(c);
      }
      batch.finish();
      if (batch.count === 0) throw new HttpError(400, "no records in the body");
      let outcome: Outcome;
      try {
        outcome = this.#store.commit(key, new Uint8Array(hash.digest()), batch);
      } catch (e) {
        this.o.log.error(`serve: cannot store a batch: ${(e as Error).message}`);
        throw new HttpError(503, "cannot store the batch now", { "retry-after": "1" });
      }
      return this.#answer(key, outcome, batch.bytes);
    } catch (e) {
      if (e instanceof BadLine) throw new HttpError(400, e.message);
      throw e;
    } finally {
      batch.free();
    }
  }

  #answer(key: string | null, outcome: Outcome, bytes: number): Response {
    if ("stored" in outcome) {
      this.stats.records += outcome.stored;
      this.stats.batches++;
      this.stats.bytes += bytes;
      return jsonResponse(200, { stored: outcome.stored });
    }
    if ("duplicate" in outcome) {
      this.stats.duplicate_batches++;
      return jsonResponse(200, { duplicate: true, stored: 0 });
    }
    this.stats.key_conflicts++;
    this.o.log.warn(
      `serve: Idempotency-Key ${JSON.stringify(key)} reused with a different body (refused, 422)`,
    );
    throw new HttpError(
      422,
      `Idempotency-Key ${JSON.stringify(key)} was already used for a different body ` +
        `(batch ${outcome.conflict}); a retry must send the same bytes, new data needs a new key`,
    );
  }
}
