/**
 * Shipping records: batcher -> submitter -> server, with the JSONL spool behind it.
 * (Placeholder with the final interface; lands with issue 5.)
 */
import type { PacketRecord } from "../decode/record.ts";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/mod.ts";

export interface Shipper {
  /** Takes one record (sync, never blocks). Returns false when it was dropped (queue full). */
  push(rec: PacketRecord): boolean;
  /** Resolves when the queue has room again (used by file replay for back-pressure). */
  ready(): Promise<void>;
  /** Short status fragment for the status line: "submitted N, spooled N, queue N". */
  status(): string;
  /** Ends shipping: closes the open batch, waits the grace period, returns summary lines. */
  close(): Promise<string[]>;
}

export function createShipper(_settings: Settings, _log: Logger): Promise<Shipper> {
  return Promise.reject(new Error("shipping records is not implemented yet"));
}
