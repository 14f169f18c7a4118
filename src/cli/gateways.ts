import { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";

/** `netmon gateways` (placeholder until its issue lands). */
export function gatewaysCommand() {
  return new Command("gateways")
    .description("gateways (not yet implemented)")
    .action(() => {
      throw new UsageError("gateways: not implemented yet");
    });
}
