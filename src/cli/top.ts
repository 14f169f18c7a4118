/** `netmon top -i IFACE`: traffic per process, live (like nethogs and bandwhich). */
import { Command } from "@commander-js/extra-typings";
import { numArg } from "./parse.ts";
import { runTop } from "../top/run.ts";
import { UsageError } from "../errors.ts";

export function topCommand() {
  return new Command("top")
    .description(
      "Traffic per process on one interface, live: bytes/s sent and received (current, 10 s, 40 s), totals, connections",
    )
    .option("-i, --interface <name>", "interface to capture on (needs root)")
    .option(
      "--interval <s>",
      "seconds between refreshes (default 2); with --once, how long to count",
      numArg(0.1, 3600),
    )
    .option("--once", "count for one interval, print the processes and exit")
    .option("--json", "with --once: one JSON document")
    .action(async (o) => {
      if (!o.interface) {
        throw new UsageError("top: give the interface to watch: netmon top -i IFACE");
      }
      if (o.json && !o.once) throw new UsageError("top: --json goes with --once");
      const interactive = !o.once && Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
      const code = await runTop({
        interface: o.interface,
        interval: o.interval ?? 2,
        once: o.once === true || !interactive,
        json: o.json === true,
      });
      if (code !== 0) Deno.exitCode = code;
    });
}
