/**
 * netmon: a Linux network monitor.
 *
 * Argument parsing lives in src/cli/; this file wires the subcommands together and is the
 * only place that decides the process exit code for errors.
 *
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { UsageError } from "./src/errors.ts";
import { escapeControl } from "./src/output/escape.ts";
import { captureCommand } from "./src/cli/capture.ts";
import { procCommand } from "./src/cli/proc.ts";
import { topCommand } from "./src/cli/top.ts";
import { interfacesCommand } from "./src/cli/interfaces.ts";
import { gatewaysCommand } from "./src/cli/gateways.ts";
import { configCommand } from "./src/cli/config.ts";
import { serveCommand } from "./src/cli/serve.ts";
import { spoolCommand } from "./src/cli/spool.ts";

export const VERSION = "0.1.0";

/** Builds the command tree. Exported for tests. */
export function buildProgram(): Command {
  const program = new Command()
    .name("netmon")
    .description("Linux network monitor: packet capture agent and per-process network view")
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride();
  for (
    const sub of [
      captureCommand(),
      procCommand(),
      topCommand(),
      interfacesCommand(),
      gatewaysCommand(),
      configCommand(),
      serveCommand(),
      spoolCommand(),
    ]
  ) {
    // deno-lint-ignore no-explicit-any
    program.addCommand(sub as any);
  }
  applyOverrides(program);
  return program;
}

/** Every subcommand throws instead of exiting, so main() decides the exit code. */
function applyOverrides(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
    outputError: (s, write) =>
      write("netmon: " + s.split("\n")[0].trim().replace(/^error: /, "") + "\n"),
  });
  // deno-lint-ignore no-explicit-any
  for (const sub of cmd.commands as any[]) applyOverrides(sub);
}

/** Runs netmon with the given arguments and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return Deno.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are "errors" to commander; they already printed.
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.version" ||
        e.code === "commander.help"
      ) return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(`netmon: ${escapeControl(e.message)}`);
      return e.exitCode;
    }
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`netmon: internal error: ${escapeControl(msg)}`);
    if (Deno.env.get("NETMON_DEBUG")) console.error(e);
    return 1;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
