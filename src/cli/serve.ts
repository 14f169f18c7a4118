import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon serve` (placeholder until its issue lands). */
export function serveCommand() {
  return new Command("serve")
    .description("serve (not yet implemented)")
    .action(() => {
      throw new UsageError("serve: not implemented yet");
    });
}
