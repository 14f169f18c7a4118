/**
 * `netmon serve`: the monitor server. Wires the parts together:
 * - http.ts: the HTTP/1.1 transport (connection cap, timeouts, header limit, EMFILE-proof
 *   accept loop, bytes-in-flight budget);
 * - auth.ts: the bearer token, checked before any route;
 * - router.ts: routes (HEAD wherever GET), 400 for bad query parameters (params.ts);
 * - ingest.ts + ndjson.ts + body.ts: `POST` batches (any path outside /api/), dedup by
 *   Idempotency-Key and body hash, SQLite (db.ts);
 * - api.ts: `/api/records`, `/api/health`; `/api/stats` here.
 *
 * More routes (the query API) plug in through `routes` in {@link ServeOptions}: plain
 * `(Request, ctx, match) => Response` handlers on the {@link Router}.
 *
 * @example
 * ```ts
 * import { startServer } from "./server.ts";
 * const srv = startServer({ hostname: "127.0.0.1", port: 0, dbPath: "netmon.sqlite", token: "", log });
 * await srv.shutdown();
 * ```
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../log/mod.ts";
import { recordRoutes } from "./api.ts";
import { bearerCheck } from "./auth.ts";
import { ByteBudget } from "./budget.ts";
import { openDb } from "./db.ts";
import { jsonResponse } from "./errors.ts";
import { type HttpLimits, type HttpStats, serveHttp } from "./http.ts";
import { SERVE_DEFAULTS } from "./limits.ts";
export { SERVE_DEFAULTS };
import { Ingest, type IngestStats } from "./ingest.ts";
import { Router } from "./router.ts";

export interface ServeOptions extends Partial<HttpLimits> {
  hostname: string;
  port: number;
  dbPath: string;
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
  /** More routes (e.g. the query API); called once with the router and the database. */
  routes?: (router: Router, db: DatabaseSync) => void;
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

/** `/api/stats`: ingest counters, transport counters. */
export interface ServerStats extends IngestStats, HttpStats {
  unauthorized: number;
}

/** Starts `netmon serve`. */
export function startServer(o: ServeOptions): RunningServer {
  const maxBodyBytes = o.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes;
  const maxBytesInFlight = o.maxBytesInFlight ?? SERVE_DEFAULTS.maxBytesInFlight;
  if (maxBodyBytes > maxBytesInFlight) {
    throw new Error(
      `max_body_bytes (${maxBodyBytes}) must not exceed max_bytes_in_flight (${maxBytesInFlight})`,
    );
  }
  const db = openDb(o.dbPath, o.log);
  const ingest = new Ingest(db, {
    maxBodyBytes,
    maxJsonDepth: o.maxJsonDepth ?? SERVE_DEFAULTS.maxJsonDepth,
    log: o.log,
  });
  let unauthorized = 0;
  const router = new Router();
  let transport: ReturnType<typeof serveHttp> | null = null;
  const stats = (): ServerStats => ({
    ...ingest.stats,
    unauthorized,
    ...transport!.stats(),
  });
  router.get("/api/stats", () => jsonResponse(200, stats()));
  recordRoutes(router, db);
  o.routes?.(router, db);
  router.fallback((req, ctx, { url }) => {
    if (url.pathname.startsWith("/api/")) {
      return jsonResponse(404, { error: `no such endpoint ${url.pathname}` });
    }
    if (req.method !== "POST") {
      return jsonResponse(405, { error: "POST batches here" }, { allow: "POST" });
    }
    return ingest.handle(req, ctx);
  });
  const authorized = o.token ? bearerCheck(o.token) : null;
  try {
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
        unauthorized++;
        return jsonResponse(401, { error: "missing or wrong bearer token" }, {
          "www-authenticate": 'Bearer realm="netmon"',
        });
      }
      return router.handle(req, ctx);
    });
  } catch (e) {
    db.close();
    throw e;
  }
  const t = transport;
  const finished = t.finished.then(() => db.close());
  return {
    hostname: t.addr.hostname,
    port: t.addr.port,
    finished,
    shutdown: async () => {
      await t.shutdown();
      await finished;
    },
    stats,
  };
}
