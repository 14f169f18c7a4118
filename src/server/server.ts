/**
 * `netmon serve`: the monitor server. Takes ndjson batches over HTTP and stores them in a
 * store (src/store/: SQLite by default, ClickHouse with `--store clickhouse://...`),
 * deduplicated by Idempotency-Key (with the body's SHA-256: the same key with another
 * body answers 422) and by record id; the answer is 2xx only after the store committed.
 * Queries: `GET /api/...` (api.ts, contract in src/query/api.ts and docs/query.md).
 *
 * Ingest: `POST /` (any path not under /api/): 200 `{"stored":N}` or
 * `{"duplicate":true,"stored":0}`; 400 bad body, 401 token, 413 too large, 422 key reused
 * with another body, 503 store unavailable (full disk, busy): the agent spools and retries.
 * Header `Netmon-Agent: {"Host_Name":..,"Kernel_Drops":..,"Queue_Drops":..,"Spool_Records":..}`
 * (optional) updates the agents table.
 */
import type { Logger } from "../log/mod.ts";
import type { AgentReport } from "../store/schema.ts";
import { BadBatch, parseBatch } from "../store/ingest.ts";
import { type Store, StoreUnavailable } from "../store/store.ts";
import { DEFAULT_LIMITS, type QueryLimits } from "../query/request.ts";
import { answerApi, json, type ServerCounters } from "./api.ts";

export interface ServeOptions {
  hostname: string;
  port: number;
  /** The store (SQLite or ClickHouse), opened by the caller; closed when the server stops. */
  store: Store;
  /** Bearer token required on every request ("" = none). */
  token: string;
  /** Largest request body (after gzip decoding). */
  maxBodyBytes: number;
  log: Logger;
  /** Query limits (rows, time range, execution time). */
  limits?: QueryLimits;
}

export interface RunningServer {
  readonly hostname: string;
  readonly port: number;
  /** Resolves when the server stopped. */
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  stats(): ServerStats;
}

/** Ingest counters since start (records/batches: stored by this process). */
export type ServerStats = ServerCounters;

const MAX_KEY = 256;

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

/** SHA-256 hex of a body (kept with its Idempotency-Key). */
async function bodyHash(data: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  let h = "";
  for (const x of d) h += x.toString(16).padStart(2, "0");
  return h;
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

/** Starts `netmon serve` on an opened store. */
export function startServer(o: ServeOptions): RunningServer {
  const store = o.store;
  const limits = o.limits ?? DEFAULT_LIMITS;
  const stats: ServerStats = {
    records: 0,
    batches: 0,
    duplicate_batches: 0,
    rejected_batches: 0,
    mismatched_keys: 0,
    too_large: 0,
    unauthorized: 0,
    unavailable: 0,
    bytes: 0,
  };
  const want = o.token ? `Bearer ${o.token}` : null;

  const ingest = async (req: Request): Promise<Response> => {
    const key = req.headers.get("idempotency-key");
    if (key !== null && (key.length === 0 || key.length > MAX_KEY)) {
      stats.rejected_batches++;
      return json(400, { error: `Idempotency-Key must be 1..${MAX_KEY} characters` });
    }
    const declared = Number(req.headers.get("content-length") ?? "0");
    if (declared > o.maxBodyBytes) {
      stats.too_large++;
      await req.body?.cancel();
      return json(413, { error: `body larger than ${o.maxBodyBytes} bytes` });
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
    const hash = await bodyHash(data);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(data);
    } catch {
      stats.rejected_batches++;
      return json(400, { error: "body is not UTF-8" });
    }
    let batch;
    try {
      // Lines without an envelope get a run named after the body: a resend is a duplicate.
      batch = parseBatch(text, store.schema, `b${hash.slice(0, 16)}`);
    } catch (e) {
      stats.rejected_batches++;
      return json(400, { error: e instanceof BadBatch ? e.message : (e as Error).message });
    }
    let out;
    try {
      out = await store.ingest({
        key,
        hash,
        bytes: data.length,
        batch,
        report: parseAgentHeader(req.headers.get("netmon-agent")),
      });
    } catch (e) {
      stats.unavailable++;
      const why = e instanceof StoreUnavailable ? e.message : (e as Error).message;
      o.log.error(`serve: cannot store a batch: ${why}`);
      return json(503, { error: "cannot store the batch now" }, { "retry-after": "1" });
    }
    if (out.kind === "duplicate") {
      stats.duplicate_batches++;
      return json(200, { duplicate: true, stored: 0 });
    }
    if (out.kind === "mismatch") {
      stats.mismatched_keys++;
      return json(422, {
        error: `Idempotency-Key ${key} was stored before with a different body`,
      });
    }
    stats.records += out.records;
    stats.batches++;
    stats.bytes += data.length;
    return json(200, { stored: out.records });
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
      return await answerApi(store, url, limits, () => ({ ...stats }), o.log);
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
  const finished = server.finished.then(() => store.close());
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
