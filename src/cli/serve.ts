/** `netmon serve`: the monitor server (ndjson batches into SQLite). */
import { Command, Option } from "@commander-js/extra-typings";
import { intArg, numArg } from "./parse.ts";
import { UsageError } from "../errors.ts";
import { createLogger, type Logger, type LogLevel } from "../log/mod.ts";
import { resolveSettings } from "../config/load.ts";
import { startServer } from "../server/server.ts";

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

export function serveCommand() {
  return new Command("serve")
    .description("Monitor server: take ndjson batches over HTTP, store them in SQLite")
    .option("--listen <host:port>", "address to listen on (default 127.0.0.1:8080; port 0 = any)")
    .option("--db <file>", "SQLite database file (default netmon.sqlite)")
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
      if (s.serveMaxBodyBytes > s.serveMaxBytesInFlight) {
        throw new UsageError(
          `serve: max_body_bytes (${s.serveMaxBodyBytes}) must not exceed max_bytes_in_flight (${s.serveMaxBytesInFlight})`,
        );
      }
      warnFileLimit(s.serveMaxConnections, log);
      const dbPath = s.serveDb;
      let server;
      try {
        server = startServer({
          hostname,
          port,
          dbPath,
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
        });
      } catch (e) {
        throw new UsageError(`serve: ${(e as Error).message}`, 1);
      }
      const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
      log.info(`serve: listening on http://${host}:${server.port}/ (db ${dbPath})`);
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
