/** `netmon serve`: the monitor server (ndjson batches into SQLite or ClickHouse, query API). */
import { Command, Option } from "@commander-js/extra-typings";
import { intArg, numArg } from "./parse.ts";
import { UsageError } from "../errors.ts";
import { createLogger, type Logger, type LogLevel } from "../log/mod.ts";
import { resolveSettings } from "../config/load.ts";
import { startServer } from "../server/server.ts";
import { parseAge, parseSize } from "../store/retention.ts";
import { openStore } from "../store/open.ts";
import { DEFAULT_LIMITS } from "../query/request.ts";

/** Parses HOST:PORT, [V6]:PORT or PORT. */
export function parseListen(v: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(v.trim()) ??
    /^()()(\d{1,5})$/.exec(v.trim());
  if (m === null) throw new UsageError(`serve: --listen wants HOST:PORT, got '${v}'`);
  const port = Number(m[3]);
  if (port > 65535) throw new UsageError(`serve: port ${port} out of range`);
  return { hostname: m[1] || m[2] || "127.0.0.1", port };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function ageArg(v: string): number {
  const s = parseAge(v);
  if (s === null) {
    throw new UsageError(`serve: --retain wants an age such as 7d, 12h, 30m, got '${v}'`);
  }
  return s;
}

function sizeArg(v: string): number {
  const b = parseSize(v);
  if (b === null) {
    throw new UsageError(`serve: --max-db-size wants a size such as 20GB or 512MiB, got '${v}'`);
  }
  return b;
}

export function serveCommand() {
  return new Command("serve")
    .description("Monitor server: take ndjson batches over HTTP, store them, answer queries")
    .option("--listen <host:port>", "address to listen on (default 127.0.0.1:8080; port 0 = any)")
    .option("--db <file>", "SQLite database file (default netmon.sqlite)")
    .option(
      "--store <url>",
      "store: sqlite:FILE (default) or clickhouse://[user:pass@]HOST:8123/DB",
    )
    .option(
      "--retain <age>",
      "remove data older than this (7d, 12h; SQLite: by batch, ClickHouse: TTL)",
      ageArg,
    )
    .option(
      "--max-db-size <size>",
      "SQLite: keep the database under this size (20GB), oldest first",
      sizeArg,
    )
    .option("--token <token>", "require this bearer token (or NETMON_SERVE_TOKEN)")
    .option("--max-body-bytes <n>", "largest batch body (default 64 MiB)", intArg(1024, 2 ** 31))
    .option(
      "--max-bytes-in-flight <n>",
      "request-body bytes held at once, all connections (default 128 MiB)",
      intArg(1 << 20, 2 ** 36),
    )
    .option(
      "--max-connections <n>",
      "connections open at once (default 1024)",
      intArg(1, 1_000_000),
    )
    .option("--header-timeout <s>", "seconds for a request head (default 10)", numArg(0.1, 3600))
    .option(
      "--body-timeout <s>",
      "longest pause in a body, seconds (default 30)",
      numArg(0.1, 3600),
    )
    .option(
      "--keepalive-timeout <s>",
      "idle keep-alive seconds (default 60)",
      numArg(0.1, 3600),
    )
    .option("--max-json-depth <n>", "deepest nesting in a record (default 64)", intArg(1, 10000))
    .option("--query-timeout <s>", "longest a query may run (default 10)", intArg(1, 3600))
    .option(
      "--max-query-range <s>",
      "longest time range a query may cover (default 366 days)",
      intArg(1, 100 * 366 * 86400),
    )
    .addOption(
      new Option("--log-level <level>", "lowest level logged").choices(
        ["debug", "info", "warn", "error"] as const,
      ),
    )
    .option("--config <file>", "INI configuration file (its [serve] and [log] settings apply)")
    .option("--log-file <file>", "also write log lines to this file")
    .action(async (o) => {
      const { settings: s } = await resolveSettings(
        {
          logLevel: o.logLevel,
          logFile: o.logFile,
          serveListen: o.listen,
          serveDb: o.db,
          serveToken: o.token,
          serveMaxBodyBytes: o.maxBodyBytes,
          serveMaxBytesInFlight: o.maxBytesInFlight,
          serveMaxConnections: o.maxConnections,
          serveHeaderTimeout: o.headerTimeout,
          serveBodyTimeout: o.bodyTimeout,
          serveKeepaliveTimeout: o.keepaliveTimeout,
          serveMaxJsonDepth: o.maxJsonDepth,
        },
        o.config,
      );
      const log = createLogger(s.logLevel as LogLevel, s.logFile);
      const { hostname, port } = parseListen(s.serveListen);
      const token = s.serveToken;
      if (!LOOPBACK.test(hostname) && token === "") {
        log.warn(
          `serve: listening on ${hostname} without --token: anyone who can reach it can write`,
        );
      }
      if (o.store !== undefined && o.db !== undefined) {
        throw new UsageError("serve: give --db FILE or --store URL, not both");
      }
      if (s.serveMaxBodyBytes > s.serveMaxBytesInFlight) {
        throw new UsageError(
          `serve: max_body_bytes (${s.serveMaxBodyBytes}) must not exceed max_bytes_in_flight (${s.serveMaxBytesInFlight})`,
        );
      }
      warnFileLimit(s.serveMaxConnections, log);
      const where = o.store ?? `sqlite:${s.serveDb}`;
      const retention = {
        retainSeconds: o.retain ?? null,
        maxDbBytes: o.maxDbSize ?? null,
        intervalMs: Number(Deno.env.get("NETMON_RETENTION_INTERVAL_MS") ?? 60_000) || 60_000,
      };
      const store = await openStore(where, { retention, log });
      let server;
      try {
        server = startServer({
          hostname,
          port,
          store,
          token,
          maxBodyBytes: s.serveMaxBodyBytes,
          maxBytesInFlight: s.serveMaxBytesInFlight,
          inFlightWaitMs: s.serveInFlightWait * 1000,
          maxConnections: s.serveMaxConnections,
          maxHeaderBytes: s.serveMaxHeaderBytes,
          headerTimeoutMs: s.serveHeaderTimeout * 1000,
          bodyTimeoutMs: s.serveBodyTimeout * 1000,
          keepAliveTimeoutMs: s.serveKeepaliveTimeout * 1000,
          sendTimeoutMs: s.serveSendTimeout * 1000,
          maxJsonDepth: s.serveMaxJsonDepth,
          log,
          limits: {
            ...DEFAULT_LIMITS,
            timeoutMs: (o.queryTimeout ?? DEFAULT_LIMITS.timeoutMs / 1000) * 1000,
            maxRangeSeconds: o.maxQueryRange ?? DEFAULT_LIMITS.maxRangeSeconds,
          },
        });
      } catch (e) {
        await store.close();
        throw new UsageError(`serve: ${(e as Error).message}`, 1);
      }
      const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
      log.info(`serve: listening on http://${host}:${server.port}/ (store ${redact(where)})`);
      const stop = () => void server.shutdown();
      Deno.addSignalListener("SIGINT", stop);
      Deno.addSignalListener("SIGTERM", stop);
      await server.finished;
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      const st = server.stats();
      log.info(`serve: stopped; ${st.records} records in ${st.batches} batches stored`);
      await log.close();
    });
}

/** The store URL without a password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Says so when the open-file limit is below the connection cap (accept() would hit EMFILE). */
function warnFileLimit(maxConnections: number, log: Logger): void {
  let soft = Infinity;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(Deno.readTextFileSync("/proc/self/limits"));
    if (m && m[1] !== "unlimited") soft = Number(m[1]);
  } catch { /* not Linux */ }
  if (maxConnections + 32 > soft) {
    log.warn(
      `serve: max_connections ${maxConnections} is near the open-file limit ${soft}: ` +
        "connections beyond it wait until descriptors free up (raise it with ulimit -n)",
    );
  }
}
