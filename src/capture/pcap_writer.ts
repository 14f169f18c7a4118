/**
 * Writes frames as a classic pcap file (microsecond, host byte order).
 * (Placeholder with the final interface; lands with issue 2.)
 */
import type { FrameMeta } from "./source.ts";

export interface FrameWriter {
  write(bytes: Uint8Array, off: number, meta: FrameMeta): void;
  close(): Promise<void>;
}

export function createPcapWriter(path: string, _linkType: number, _snaplen: number): Promise<FrameWriter> {
  return Promise.reject(new Error(`writing ${path}: not implemented yet`));
}
