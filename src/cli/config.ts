import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon config` (placeholder until its issue lands). */
export function configCommand() {
  return new Command("config")
    .description("config (not yet implemented)")
    .action(() => {
      throw new UsageError("config: not implemented yet");
    });
}
