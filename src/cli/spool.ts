/** `netmon spool status|drain`: what the local spool holds, and sending it to a server. */
import { Command, Option } from "@commander-js/extra-typings";
import { intArg, numArg } from "./parse.ts";
import { resolveSettings } from "../config/load.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";
import { createLogger } from "../log/mod.ts";
import { Spool } from "../submit/spool.ts";
import { drainSpool } from "../submit/drain.ts";
import { checkServerSettings } from "../submit/mod.ts";

function statusCommand() {
  return new Command("status")
    .description("Show what is waiting in the spool")
    .option("--spool <dir>", "spool directory")
    .option("--json", "print one JSON object")
    .option("--config <file>", "INI configuration file")
    .action(async (o) => {
      const { settings } = await resolveSettings({ spoolDir: o.spool }, o.config);
      const dir = settings.spoolDir;
      const info = await Spool.inspect(dir);
      const records = info.segments.reduce((a, s) => a + s.records, 0);
      const bytes = info.segments.reduce((a, s) => a + s.bytes, 0);
      const oldest = info.segments[0]?.name.match(/^seg-(\d+)-/)?.[1];
      const out = {
        dir,
        segments: info.segments.length,
        records,
        bytes,
        oldest: oldest ? new Date(Number(oldest)).toISOString() : null,
        dead_letter_records: info.deadRecords,
        torn_segments: info.tornSegments,
        unreadable_segments: info.unreadable,
        locked_by: info.lockedBy,
      };
      if (o.json) {
        console.log(JSON.stringify(out));
        return;
      }
      console.log(`spool ${dir}`);
      console.log(
        `  ${records} records waiting in ${info.segments.length} segments (${bytes} bytes)`,
      );
      if (out.oldest) console.log(`  oldest segment written ${out.oldest}`);
      if (info.tornSegments > 0) {
        console.log(`  ${info.tornSegments} segments end in a torn line (cut at the next start)`);
      }
      if (info.deadRecords > 0) {
        console.log(
          `  ${info.deadRecords} records refused by the server in ${dir}/dead-letter.jsonl`,
        );
      }
      for (const u of info.unreadable) {
        console.log(
          `  segment ${u.name} (${u.bytes} bytes) cannot be read (${u.why}): not counted, ` +
            `not sent; make it readable by the user running netmon`,
        );
      }
      if (info.lockedBy !== null) console.log(`  in use by process ${info.lockedBy}`);
    });
}

function drainCommand() {
  return new Command("drain")
    .description("Send everything in the spool to the server; exit 0 once the spool is empty")
    .option("--server <url>", "monitor server URL")
    .option("--spool <dir>", "spool directory")
    .addOption(
      new Option("--format <fmt>", "submission format").choices(["ndjson", "clickhouse"] as const),
    )
    .option("--server-token <token>", "bearer token for the server (or NETMON_SERVER_TOKEN)")
    .option("--table <name>", "ClickHouse table (format clickhouse)")
    .option("--gzip", "gzip ndjson batches")
    .option(
      "--wait <s>",
      "keep retrying a server that is down this long (default 10)",
      numArg(0, 86400),
    )
    .option("--spool-max-bytes <n>", "spool size cap in bytes", intArg(1048576, 1099511627776))
    .option("--request-timeout <s>", "seconds a request may take (default 30)", numArg(0.1, 3600))
    .option("--config <file>", "INI configuration file")
    .action(async (o) => {
      const { settings: s } = await resolveSettings({
        requestTimeout: o.requestTimeout,
        serverUrl: o.server,
        spoolDir: o.spool,
        serverFormat: o.format,
        serverToken: o.serverToken,
        serverTable: o.table,
        gzip: o.gzip,
        spoolMaxBytes: o.spoolMaxBytes,
      }, o.config);
      if (!s.serverUrl) throw new UsageError("spool drain: give --server URL");
      checkServerSettings(s);
      const log = createLogger(s.logLevel, s.logFile);
      let r;
      try {
        r = await drainSpool({
          spoolDir: s.spoolDir,
          spoolMaxBytes: s.spoolMaxBytes,
          url: s.serverUrl,
          format: s.serverFormat,
          token: s.serverToken,
          table: s.serverTable,
          gzip: s.gzip,
          waitSeconds: o.wait ?? 10,
          timeoutMs: s.requestTimeout * 1000,
          log,
        });
      } finally {
        await log.close();
      }
      const lines = [
        `netmon: drained ${r.shipped} records in ${r.batches} batches` +
        (r.duplicateBatches > 0 ? ` (${r.duplicateBatches} batches were already there)` : ""),
      ];
      if (r.deadRecords > 0) {
        lines.push(`netmon: ${r.deadRecords} records in ${s.spoolDir}/dead-letter.jsonl`);
      }
      if (r.tornLines > 0) lines.push(`netmon: ${r.tornLines} torn lines cut in crash recovery`);
      lines.push(
        r.ok
          ? `netmon: spool ${s.spoolDir} is empty`
          : `netmon: ${r.waiting} records still waiting in spool ${s.spoolDir}`,
      );
      console.error(lines.join("\n"));
      if (!r.ok) throw new RuntimeFailure(`spool drain: ${r.problem || "spool not empty"}`);
    });
}

export function spoolCommand() {
  return new Command("spool")
    .description("Local spool: show what is waiting (status), send it to a server (drain)")
    .addCommand(statusCommand())
    .addCommand(drainCommand());
}
