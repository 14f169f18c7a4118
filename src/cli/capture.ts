/** `netmon capture`: live capture (-i) or capture file (-r) through the record pipeline. */
import { Command, Option } from "@commander-js/extra-typings";
import { collect, intArg, numArg } from "./parse.ts";
import { resolveSettings } from "../config/load.ts";
import type { Settings } from "../config/settings.ts";
import { runCapture } from "../pipeline/capture.ts";
import { UsageError } from "../errors.ts";

export function captureCommand() {
  return new Command("capture")
    .description(
      "Capture frames live (-i IFACE) or from a file (-r FILE), decode, filter, track flows, ship records",
    )
    .option(
      "-i, --interface <name>",
      "interface to capture on (live capture; needs root or CAP_NET_RAW)",
    )
    .option("-r, --read <file>", "read frames from a pcap or pcapng file instead of an interface")
    .option("-w, --write <file>", "write the frames that pass the filters to a pcap file")
    .option("-c, --count <n>", "stop after N frames", intArg(1, Number.MAX_SAFE_INTEGER))
    .option(
      "--duration <s>",
      "stop after S seconds (like tshark -a duration:S)",
      numArg(0.001, 31536000),
    )
    .option("--json", "print one JSON record per line on stdout")
    .option("--snaplen <bytes>", "bytes captured per frame (default 262144)", intArg(64, 262144))
    .option("--promisc", "promiscuous mode (default)")
    .option("--no-promisc", "do not put the interface in promiscuous mode")
    .option("--buffer-mb <mib>", "kernel ring size in MiB (default 64)", intArg(1, 4096))
    .option("--user <name>", "drop root to this user once the socket is open")
    .option("--processes", "live capture: name the local process of each flow (default)")
    .option("--no-processes", "do not attribute traffic to processes")
    .option("--status-interval <s>", "seconds between status lines on a terminal", numArg(0, 3600))
    .option("--no-reassemble", "decode each IP fragment on its own (no reassembly)")
    .option(
      "--reassembly-memory-mb <mib>",
      "memory for fragments awaiting reassembly (default 32)",
      intArg(1, 4096),
    )
    .option(
      "--reassembly-timeout <s>",
      "seconds a datagram waits for its fragments (default 30)",
      numArg(1, 3600),
    )
    .option(
      "--udp-port <name:ports>",
      "decode a tunnel protocol on other UDP ports, e.g. vxlan:4789,8472 (repeatable)",
      collect,
    )
    .option(
      "--filter <json|file>",
      "keep only records matching this JSON filter (repeatable)",
      collect,
    )
    .option("--exclude <json|file>", "drop records matching this JSON filter (repeatable)", collect)
    .option("--capture-self", "also capture netmon's own submission traffic")
    .option("--server <url>", "monitor server URL (records are spooled while it is down)")
    .addOption(
      new Option("--format <fmt>", "submission format").choices(["ndjson", "clickhouse"] as const),
    )
    .option("--server-token <token>", "bearer token for the server (or NETMON_SERVER_TOKEN)")
    .option("--table <name>", "ClickHouse table (format clickhouse)")
    .option("--gzip", "gzip ndjson batches")
    .option("--batch-records <n>", "close a batch at N records", intArg(1, 10000000))
    .option("--batch-bytes <n>", "close a batch at N bytes", intArg(1024, 1073741824))
    .option("--batch-seconds <s>", "close a batch after S seconds", numArg(0.01, 3600))
    .option(
      "--retry-interval <s>",
      "seconds between probes while the server is down",
      numArg(0.1, 3600),
    )
    .option("--grace <s>", "seconds in-flight batches get at exit", numArg(0, 600))
    .option("--request-timeout <s>", "seconds a request may take (default 30)", numArg(0.1, 3600))
    .option("--spool <dir>", "spool directory (JSONL segments)")
    .option("--spool-max-bytes <n>", "spool size cap in bytes", intArg(1048576, 1099511627776))
    .option(
      "--flows",
      "track flows and emit flow records (default when shipping to --server/--spool)",
    )
    .option("--no-flows", "do not track flows")
    .option("--flows-only", "ship flow records only, no packet records")
    .option("--community-id", "add Community ID to packet records")
    .option("--tcp-timeout <s>", "TCP idle timeout in seconds", numArg(1, 86400))
    .option("--udp-timeout <s>", "UDP idle timeout in seconds", numArg(1, 86400))
    .option("--icmp-timeout <s>", "ICMP idle timeout in seconds", numArg(1, 86400))
    .option(
      "--active-timeout <s>",
      "interim flow record every S seconds for long flows",
      numArg(1, 604800),
    )
    .option("--max-flows <n>", "cap on tracked flows", intArg(16, 10000000))
    .option("--config <file>", "INI configuration file")
    .option("--log-file <file>", "also write log lines to this file")
    .addOption(
      new Option("--log-level <level>", "lowest level logged").choices(
        ["debug", "info", "warn", "error"] as const,
      ),
    )
    .action(async (o, cmd) => {
      /** Only values the user typed count as flags (commander fills defaults for --no-x). */
      const given = <T>(key: string, v: T): T | undefined =>
        cmd.getOptionValueSource(key) === "cli" ? v : undefined;
      if (o.read && o.interface) {
        throw new UsageError("capture: give either -i IFACE or -r FILE, not both");
      }
      const flags: Partial<Settings> = {
        interface: o.interface,
        snaplen: o.snaplen,
        promisc: given("promisc", o.promisc),
        bufferMb: o.bufferMb,
        user: o.user,
        processes: given("processes", o.processes),
        statusInterval: o.statusInterval,
        reassemble: given("reassemble", o.reassemble),
        reassemblyMemoryMb: o.reassemblyMemoryMb,
        reassemblyTimeout: o.reassemblyTimeout,
        udpPorts: o.udpPort,
        filter: o.filter,
        exclude: o.exclude,
        captureSelf: o.captureSelf,
        serverUrl: o.server,
        serverFormat: o.format,
        serverToken: o.serverToken,
        serverTable: o.table,
        gzip: o.gzip,
        batchRecords: o.batchRecords,
        batchBytes: o.batchBytes,
        batchSeconds: o.batchSeconds,
        retryInterval: o.retryInterval,
        graceSeconds: o.grace,
        requestTimeout: o.requestTimeout,
        spoolDir: o.spool,
        spoolMaxBytes: o.spoolMaxBytes,
        flows: given("flows", o.flows),
        flowsOnly: o.flowsOnly,
        communityId: o.communityId,
        tcpIdleTimeout: o.tcpTimeout,
        udpIdleTimeout: o.udpTimeout,
        icmpIdleTimeout: o.icmpTimeout,
        activeTimeout: o.activeTimeout,
        maxFlows: o.maxFlows,
        logFile: o.logFile,
        logLevel: o.logLevel,
      };
      const { settings, sources } = await resolveSettings(flags, o.config);
      // Flow records by default where records are shipped; on stdout and in -w runs only when asked.
      if (sources.flows === "default") {
        settings.flows = settings.serverUrl !== "" || o.spool !== undefined || settings.flowsOnly ||
          settings.communityId;
      }
      if (!o.read && !settings.interface) {
        throw new UsageError("capture: give -i IFACE (live) or -r FILE (capture file)");
      }
      const code = await runCapture({
        settings,
        readFile: o.read,
        writeFile: o.write,
        count: o.count ?? 0,
        durationS: o.duration ?? 0,
        json: o.json === true,
        spoolGiven: o.spool !== undefined,
      });
      if (code !== 0) Deno.exitCode = code;
    });
}
