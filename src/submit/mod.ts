/**
 * Shipping records: batcher -> submitter -> server, with the JSONL spool behind it.
 *
 * - batch.ts: envelope, batches, batcher; identity.ts: Agent_ID / Run_ID
 * - http.ts: POST, response classes, 413 split, backoff; clickhouse.ts: ClickHouse format
 * - spool.ts: JSONL segments, cap, crash recovery, dead letter file
 * - shipper.ts: the queue, live sends, spooling, drain; drain.ts: `netmon spool drain`
 * - server.ts: `netmon serve`
 *
 * @module
 */
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/mod.ts";
import { loadIdentity } from "./identity.ts";
import { type Shipper, ShipperCore } from "./shipper.ts";
import { Spool } from "./spool.ts";
import { prepareSpoolFor } from "./files.ts";
import { UsageError } from "../errors.ts";

export type { Shipper } from "./shipper.ts";

/** Before `--user` drops root: the spool directory made for that user (files.ts). */
export async function prepareSpoolForUser(dir: string, name: string): Promise<void> {
  const { lookupUser } = await import("../capture/packet_socket.ts");
  await prepareSpoolFor(dir, { name, ...lookupUser(name) });
}

/**
 * Opens the spool (lock, crash recovery) and starts shipping; with a server URL the
 * spool left by earlier runs starts draining at once.
 *
 * @example
 * ```ts
 * const shipper = await createShipper(settings, log);
 * shipper.push({ IPv4: { Source: "10.0.0.1" } });
 * for (const line of await shipper.close()) console.error(line);
 * ```
 */
export async function createShipper(settings: Settings, log: Logger): Promise<Shipper> {
  checkServerSettings(settings);
  const spool = await Spool.open(settings.spoolDir, settings.spoolMaxBytes, log);
  try {
    const id = await loadIdentity(settings.spoolDir);
    return new ShipperCore(settings, log, spool, id);
  } catch (e) {
    await spool.close();
    throw e;
  }
}

/** Rejects a server URL or ClickHouse table netmon cannot use (one-line usage error). */
export function checkServerSettings(s: Settings): void {
  if (s.serverUrl !== "") {
    let u: URL;
    try {
      u = new URL(s.serverUrl);
    } catch {
      throw new UsageError(`--server: not a URL: '${s.serverUrl}'`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new UsageError(`--server: want an http:// or https:// URL, got '${s.serverUrl}'`);
    }
  }
  if (
    s.serverFormat === "clickhouse" &&
    !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(s.serverTable)
  ) {
    throw new UsageError(`--table: want [database.]table, got '${s.serverTable}'`);
  }
}
