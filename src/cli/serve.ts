/** `netmon serve`: the monitor server (ndjson batches into SQLite). */
import { Command, Option } from "@commander-js/extra-typings";
import { intArg } from "./parse.ts";
import { UsageError } from "../errors.ts";
import { createLogger, type LogLevel } from "../log/mod.ts";
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
    .addOption(
      new Option("--log-level <level>", "lowest level logged").choices(
        ["debug", "info", "warn", "error"] as const,
      ),
    )
    .option("--config <file>", "INI configuration file (its [log] settings apply)")
    .option("--log-file <file>", "also write log lines to this file")
    .action(async (o) => {
      const { settings: ls } = await resolveSettings(
        { logLevel: o.logLevel, logFile: o.logFile },
        o.config,
      );
      const log = createLogger(ls.logLevel as LogLevel, ls.logFile);
      const { hostname, port } = parseListen(o.listen ?? "127.0.0.1:8080");
      const token = o.token ?? Deno.env.get("NETMON_SERVE_TOKEN") ?? "";
      if (!LOOPBACK.test(hostname) && token === "") {
        log.warn(
          `serve: listening on ${hostname} without --token: anyone who can reach it can write`,
        );
      }
      const dbPath = o.db ?? "netmon.sqlite";
      let server;
      try {
        server = startServer({
          hostname,
          port,
          dbPath,
          token,
          maxBodyBytes: o.maxBodyBytes ?? 64 * 1024 * 1024,
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
      const s = server.stats();
      log.info(`serve: stopped; ${s.records} records in ${s.batches} batches stored`);
      await log.close();
    });
}
