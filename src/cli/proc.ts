/** `netmon proc <pid>`: a live view of a process's network namespace from /proc/<pid>/net. */
import { Command, Option } from "@commander-js/extra-typings";
import { intArg, numArg } from "./parse.ts";
import { parsePid, runProc } from "../proc/run.ts";
import { TAB_NAMES } from "../proc/tabs.ts";
import { UsageError } from "../errors.ts";

export function procCommand() {
  return new Command("proc")
    .description(
      "Live view of a process's network (tcp, udp, arp, traffic, stats, raw, icmp, routing, analysis) from /proc/<pid>/net",
    )
    .argument("[pid]", "process id to watch")
    .option("--name <pattern>", "pick the process by name, like pgrep (a regular expression)")
    .addOption(new Option("--tab <name>", "tab to show (default tcp)").choices(TAB_NAMES))
    .option("--once", "print one refresh and exit")
    .option("--count <n>", "print N refreshes and exit", intArg(1, Number.MAX_SAFE_INTEGER))
    .option("--interval <s>", "seconds between refreshes (default 2)", numArg(0.1, 3600))
    .option("--json", "one JSON document per refresh on stdout (with pid, command, timestamp)")
    .option("--own-only", "socket tabs: only the sockets the process holds")
    .option("--no-intro", "start without the instructions screen")
    .action(async (pidArg, o) => {
      if (pidArg !== undefined && o.name !== undefined) {
        throw new UsageError("proc: give a pid or --name, not both");
      }
      const pid = o.name !== undefined ? null : parsePid(pidArg);
      if (o.name !== undefined && o.name.trim() === "") {
        throw new UsageError("proc: --name needs a pattern");
      }
      const count = o.once ? 1 : o.count;
      const code = await runProc({
        pid,
        name: o.name,
        tab: o.tab ?? "tcp",
        interval: o.interval ?? 2,
        count,
        json: o.json === true,
        ownOnly: o.ownOnly === true,
        stream: count !== undefined || o.json === true,
        noIntro: o.intro === false,
      });
      if (code !== 0) Deno.exitCode = code;
    });
}
