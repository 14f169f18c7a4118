/**
 * Ingest of ndjson batches: `POST` a body of one record per line. The body is collected as
 * it arrives (each segment takes its bytes from the in-flight budget first; 503 with
 * Retry-After when the budget stays used up), nesting deeper than the limit is refused at
 * once, the SHA-256 of the decoded bytes is computed on the way, then the store's parser
 * (src/store/ingest.ts) reads the lines and the store commits; 2xx only after the commit.
 *
 * Idempotency-Key (the IETF httpapi-idempotency-key draft, as Stripe does it): the store
 * keeps the key with the body's hash. The same key with the same body is a retry: 200
 * `{"duplicate":true,"stored":0}`. The same key with another body is a client bug: 422
 * with a message naming the key; nothing is stored.
 *
 * Header `Netmon-Agent: {"Host_Name":..,"Kernel_Drops":..,"Queue_Drops":..,"Spool_Records":..}`
 * (optional) updates the agents table.
 *
 * @example
 * ```ts
 * import { Ingest } from "./ingest.ts";
 * const ingest = new Ingest(store, { maxBodyBytes: 64 << 20, maxJsonDepth: 64, log });
 * router.fallback((req, ctx) => ingest.handle(req, ctx));
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { Logger } from "../log/mod.ts";
import type { StatsServer } from "../query/api.ts";
import { addLine, BadBatch, emptyBatch } from "../store/ingest.ts";
import type { AgentReport } from "../store/schema.ts";
import { type Store, StoreUnavailable } from "../store/store.ts";
import { bodyChunks, contentCoding } from "./body.ts";
import { HttpError, jsonResponse } from "./errors.ts";
import type { RequestContext } from "./http.ts";
import { NdjsonLines, TooDeep } from "./ndjson.ts";

export const MAX_KEY = 256;
/**
 * Memory of one parsed row beside its record text (typed columns, arrays, envelope),
 * measured with the store's parser at 715-740 bytes for packet records; rounded up.
 */
const ROW_BYTES = 1024;
const ROWS_STEP = 1024;

export interface IngestOptions {
  /** Largest body after decoding (413 beyond). */
  maxBodyBytes: number;
  /** Deepest nesting of objects/arrays in a record (400 beyond). */
  maxJsonDepth: number;
  log: Logger;
}

/** The agent's report about itself: header `Netmon-Agent` (JSON object), or null. */
export function parseAgentHeader(v: string | null): AgentReport | null {
  if (v === null || v.length > 1024) return null;
  try {
    const o = JSON.parse(v) as Record<string, unknown>;
    if (typeof o !== "object" || o === null) return null;
    const n = (
      x: unknown,
    ) => (typeof x === "number" && x >= 0 && Number.isFinite(x) ? x : undefined);
    return {
      Host_Name: typeof o.Host_Name === "string" ? o.Host_Name.slice(0, 255) : undefined,
      Kernel_Drops: n(o.Kernel_Drops),
      Queue_Drops: n(o.Queue_Drops),
      Spool_Records: n(o.Spool_Records),
    };
  } catch {
    return null;
  }
}

/** The ingest endpoint. */
export class Ingest {
  /** Counters since start (records/batches: stored by this process). */
  readonly stats: StatsServer = {
    records: 0,
    batches: 0,
    duplicate_batches: 0,
    rejected_batches: 0,
    mismatched_keys: 0,
    too_large: 0,
    unauthorized: 0,
    unavailable: 0,
    busy: 0,
    bytes: 0,
  };

  constructor(private readonly store: Store, private readonly o: IngestOptions) {}

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

  /**
   * Takes `bytes` of the in-flight budget or answers 503; 413 when the batch would need
   * more than the whole budget (split it: the agent does on 413).
   */
  async #take(ctx: RequestContext, bytes: number): Promise<void> {
    const r = ctx.reservation;
    if (r.held + bytes > r.limit) {
      throw new HttpError(
        413,
        `batch needs more memory than max_bytes_in_flight (${r.limit} bytes) to parse; split it`,
      );
    }
    if (!(await r.take(bytes))) {
      throw new HttpError(
        503,
        "server busy: too many request bytes in flight (max_bytes_in_flight); retry later",
        { "retry-after": "2" },
      );
    }
  }

  async #handle(req: Request, ctx: RequestContext): Promise<Response> {
    const key = req.headers.get("idempotency-key");
    if (key !== null && (key.length === 0 || key.length > MAX_KEY)) {
      throw new HttpError(400, `Idempotency-Key must be 1..${MAX_KEY} characters`);
    }
    const declared = req.headers.get("content-length");
    const expected = declared !== null && contentCoding(req) === "identity"
      ? Number(declared)
      : null;
    const body = new NdjsonLines(this.o.maxJsonDepth, expected, this.o.maxBodyBytes);
    const hash = createHash("sha256");
    try {
      try {
        for await (const c of bodyChunks(req, this.o.maxBodyBytes)) {
          const need = body.segmentNeeded(c.length);
          if (need > 0) {
            await this.#take(ctx, need);
            ctx.reservation.give(body.addSegment(need));
          }
          hash.update(c);
          body.push(c);
        }
        body.finish();
      } catch (e) {
        if (e instanceof TooDeep) throw new HttpError(400, e.message);
        throw e;
      }
      const sha = hash.digest("hex");
      // Lines without an envelope get a run named after the body: a resend is a duplicate.
      const nokeyRun = `b${sha.slice(0, 16)}`;
      const batch = emptyBatch();
      const utf8 = new TextDecoder("utf-8", { fatal: true });
      // The parsed rows hold the record texts plus the typed columns: they take their
      // estimated size from the budget as they are made, every ROWS_STEP lines.
      let pending = 0;
      let lines = 0;
      for (const [bytes, lineNo] of body.drain((n) => ctx.reservation.give(n))) {
        pending += bytes.length + ROW_BYTES;
        if (++lines % ROWS_STEP === 0) {
          await this.#take(ctx, pending);
          pending = 0;
        }
        let text: string;
        try {
          text = utf8.decode(bytes);
        } catch {
          throw new HttpError(400, `line ${lineNo}: not UTF-8`);
        }
        try {
          addLine(batch, text, lineNo, this.store.schema, nokeyRun);
        } catch (e) {
          if (e instanceof BadBatch) throw new HttpError(400, e.message);
          throw e;
        }
      }
      await this.#take(ctx, pending);
      const bytes = body.bytes;
      if (batch.records === 0) throw new HttpError(400, "no records in the body");
      let out;
      try {
        out = await this.store.ingest({
          key,
          hash: sha,
          bytes,
          batch,
          report: parseAgentHeader(req.headers.get("netmon-agent")),
        });
      } catch (e) {
        this.stats.unavailable++;
        const why = e instanceof StoreUnavailable ? e.message : (e as Error).message;
        this.o.log.error(`serve: cannot store a batch: ${why}`);
        return jsonResponse(503, { error: "cannot store the batch now" }, { "retry-after": "1" });
      }
      if (out.kind === "duplicate") {
        this.stats.duplicate_batches++;
        return jsonResponse(200, { duplicate: true, stored: 0 });
      }
      if (out.kind === "mismatch") {
        this.stats.mismatched_keys++;
        this.o.log.warn(
          `serve: Idempotency-Key ${
            JSON.stringify(key)
          } reused with a different body (refused, 422)`,
        );
        throw new HttpError(
          422,
          `Idempotency-Key ${JSON.stringify(key)} was already used for a different body; ` +
            "a retry must send the same bytes, new data needs a new key",
        );
      }
      this.stats.records += out.records;
      this.stats.batches++;
      this.stats.bytes += bytes;
      return jsonResponse(200, { stored: out.records });
    } finally {
      body.free();
    }
  }
}
