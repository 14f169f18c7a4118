/**
 * Self-traffic exclusion: frames between this host and the monitor server.
 * (Placeholder with the final interface; lands with issue 4.)
 */
import type { Frame } from "../decode/frame.ts";

export interface SelfExclusion {
  /** Classic BPF program (struct sock_filter[], 8 bytes each) to attach with SO_ATTACH_FILTER. */
  bpf: Uint8Array;
  /** User-space guard on a decoded frame: true = this is submission traffic. */
  matches(f: Frame): boolean;
  /** Human description for logs. */
  describe(): string;
}

export function buildSelfExclusion(_serverUrl: string): Promise<SelfExclusion | null> {
  return Promise.resolve(null);
}
