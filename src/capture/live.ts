/**
 * Live AF_PACKET source through FFI. (Placeholder with the final interface; lands with issue 3.)
 */
import type { PacketSource } from "./source.ts";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/mod.ts";
import { UsageError } from "../errors.ts";

export interface LiveOptions {
  settings: Settings;
  log: Logger;
  /** Classic BPF program to attach (self-traffic exclusion), or null. */
  bpf: Uint8Array | null;
}

export function openLive(opts: LiveOptions): Promise<PacketSource> {
  return Promise.reject(new UsageError(`live capture on '${opts.settings.interface}' is not implemented yet`));
}
