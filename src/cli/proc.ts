import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon proc` (placeholder until its issue lands). */
export function procCommand() {
  return new Command("proc")
    .description("proc (not yet implemented)")
    .action(() => {
      throw new UsageError("proc: not implemented yet");
    });
}
