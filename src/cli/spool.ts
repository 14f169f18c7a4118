import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon spool` (placeholder until its issue lands). */
export function spoolCommand() {
  return new Command("spool")
    .description("spool (not yet implemented)")
    .action(() => {
      throw new UsageError("spool: not implemented yet");
    });
}
