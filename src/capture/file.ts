/**
 * pcap / pcapng file source. (Placeholder with the final interface; lands with issue 2.)
 */
import type { PacketSource } from "./source.ts";
import { UsageError } from "../errors.ts";

export function openCaptureFile(path: string): Promise<PacketSource> {
  return Promise.reject(new UsageError(`cannot read '${path}': capture files are not supported yet`));
}
