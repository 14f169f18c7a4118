import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon interfaces` (placeholder until its issue lands). */
export function interfacesCommand() {
  return new Command("interfaces")
    .description("interfaces (not yet implemented)")
    .action(() => {
      throw new UsageError("interfaces: not implemented yet");
    });
}
