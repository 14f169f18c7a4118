/**
 * `netmon serve`: the monitor server. Takes ndjson batches over HTTP and stores them in a
 * store (src/store/: SQLite by default, ClickHouse with `--store clickhouse://...`),
 * deduplicated by Idempotency-Key (with the body's SHA-256: the same key with another
 * body answers 422) and by record id; the answer is 2xx only after the store committed.
 * Queries: `GET /api/...` (api.ts, contract in src/query/api.ts and docs/query.md).
 *
 * The parts:
 * - http.ts: the HTTP/1.1 transport (connection cap, timeouts, header limit, EMFILE-proof
 *   accept loop, the bytes-in-flight budget of budget.ts);
 * - auth.ts: the bearer token, checked before any route;
 * - router.ts: routes (HEAD wherever GET), 400 for bad query parameters (params.ts);
 * - ingest.ts + ndjson.ts + body.ts: `POST` batches (any path outside /api/);
 * - api.ts: the query API.
 *
 * More routes plug in through `routes` in {@link ServeOptions}: plain
 * `(Request, ctx, match) => Response` handlers on the {@link Router}.
 *
 * @example
 * ```ts
 * import { startServer } from "./server.ts";
 * const srv = startServer({ hostname: "127.0.0.1", port: 0, store, token: "", log });
 * await srv.shutdown();
 * ```
 * @module
 */
import { tuneMalloc } from "../../ffi/malloc.ts";
import type { Logger } from "../log/mod.ts";
import { DEFAULT_LIMITS, type QueryLimits } from "../query/request.ts";
import type { Store } from "../store/store.ts";
import { answerApi, type ServerCounters } from "./api.ts";
import { bearerCheck } from "./auth.ts";
import { ByteBudget } from "./budget.ts";
import { HttpError, jsonResponse } from "./errors.ts";
import { type HttpLimits, type HttpStats, serveHttp } from "./http.ts";
import { Ingest } from "./ingest.ts";
import { SERVE_DEFAULTS } from "./limits.ts";
import { Router } from "./router.ts";

export { SERVE_DEFAULTS };

export interface ServeOptions extends Partial<HttpLimits> {
  hostname: string;
  port: number;
  /** The store (SQLite or ClickHouse), opened by the caller; closed when the server stops. */
  store: Store;
  /** Bearer token required on every request ("" = none). */
  token: string;
  /** Largest request body (after gzip decoding). */
  maxBodyBytes?: number;
  /** Request-body (and answer) bytes held in memory at once, all connections together. */
  maxBytesInFlight?: number;
  /** How long a request waits for in-flight bytes before it gets 503. */
  inFlightWaitMs?: number;
  /** Deepest nesting of objects/arrays accepted in a record. */
  maxJsonDepth?: number;
  /** Interval of repeated overload log lines (default 10 s). */
  logIntervalMs?: number;
  /** Query limits (rows, time range, execution time). */
  limits?: QueryLimits;
  /** More routes; called once with the router before the server starts. */
  routes?: (router: Router) => void;
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

/** Ingest counters since start (records/batches: stored by this process), transport counters. */
export interface ServerStats extends ServerCounters {
  transport: HttpStats;
}

/** Starts `netmon serve` on an opened store. */
export function startServer(o: ServeOptions): RunningServer {
  const store = o.store;
  const limits = o.limits ?? DEFAULT_LIMITS;
  const maxBodyBytes = o.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes;
  const maxBytesInFlight = o.maxBytesInFlight ?? SERVE_DEFAULTS.maxBytesInFlight;
  if (maxBodyBytes > maxBytesInFlight) {
    throw new Error(
      `max_body_bytes (${maxBodyBytes}) must not exceed max_bytes_in_flight (${maxBytesInFlight})`,
    );
  }
  const ingest = new Ingest(store, {
    maxBodyBytes,
    maxJsonDepth: o.maxJsonDepth ?? SERVE_DEFAULTS.maxJsonDepth,
    log: o.log,
  });
  let transport: ReturnType<typeof serveHttp> | null = null;
  const counters = (): ServerCounters => ({ ...ingest.stats });
  const transportStats = () => transport!.stats();
  const router = new Router();
  o.routes?.(router);
  router.fallback(async (req, ctx, { url }) => {
    if (url.pathname.startsWith("/api/")) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return jsonResponse(405, { error: "use GET or HEAD" }, { allow: "GET, HEAD" });
      }
      const res = await answerApi(store, url, limits, counters, o.log, transportStats);
      // The answer is in memory until it is sent: it takes its size from the budget.
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (!(await ctx.reservation.take(bytes.length))) {
        throw new HttpError(503, "server busy: too many bytes in flight; retry later", {
          "retry-after": "2",
        });
      }
      return new Response(bytes, { status: res.status, headers: res.headers });
    }
    if (req.method !== "POST") {
      return jsonResponse(405, { error: "POST batches here" }, { allow: "POST" });
    }
    return await ingest.handle(req, ctx);
  });
  const authorized = o.token ? bearerCheck(o.token) : null;
  transport = serveHttp({
    hostname: o.hostname,
    port: o.port,
    maxConnections: o.maxConnections,
    maxHeaderBytes: o.maxHeaderBytes,
    headerTimeoutMs: o.headerTimeoutMs,
    bodyTimeoutMs: o.bodyTimeoutMs,
    keepAliveTimeoutMs: o.keepAliveTimeoutMs,
    sendTimeoutMs: o.sendTimeoutMs,
    budget: new ByteBudget(maxBytesInFlight, o.inFlightWaitMs ?? SERVE_DEFAULTS.inFlightWaitMs),
    logIntervalMs: o.logIntervalMs,
    log: o.log,
  }, (req, ctx) => {
    if (authorized !== null && !authorized(req.headers.get("authorization"))) {
      ingest.stats.unauthorized++;
      return jsonResponse(401, { error: "missing or wrong bearer token" }, {
        "www-authenticate": 'Bearer realm="netmon"',
      });
    }
    return router.handle(req, ctx);
  });
  const t = transport;
  // Large freed buffers go back to the kernel at once, and after a burst of requests the
  // heaps give back what they keep free (ffi/malloc.ts): RSS follows what is in flight.
  const trim = tuneMalloc(256 * 1024);
  let seen = 0;
  const trimmer = setInterval(() => {
    // Work since the last trim: requests accepted or bytes ingested.
    const work = t.stats().accepted + ingest.stats.bytes + ingest.stats.busy;
    if (trim !== null && work !== seen && t.stats().bytes_in_flight < 1 << 20) {
      trim();
      seen = work;
    }
  }, 2000);
  const finished = t.finished.then(() => {
    clearInterval(trimmer);
    return store.close();
  });
  return {
    hostname: t.addr.hostname,
    port: t.addr.port,
    finished,
    shutdown: async () => {
      await t.shutdown();
      await finished;
    },
    stats: () => ({ ...counters(), transport: t.stats() }),
  };
}
