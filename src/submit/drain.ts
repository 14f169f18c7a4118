/**
 * `netmon spool drain`: send everything in a spool to a server, oldest segment first,
 * deleting each segment once all of it was acknowledged.
 */
import type { Logger } from "../log/mod.ts";
import { type Batch, batchKey } from "./batch.ts";
import { Backoff, deliver, Submitter } from "./http.ts";
import { Spool } from "./spool.ts";

export interface DrainOptions {
  spoolDir: string;
  spoolMaxBytes: number;
  url: string;
  format: "ndjson" | "clickhouse";
  token: string;
  table: string;
  gzip: boolean;
  /** Seconds to keep retrying a server that is down or busy before giving up. */
  waitSeconds: number;
  log: Logger;
  timeoutMs?: number;
}

export interface DrainResult {
  /** True when the spool is empty. */
  ok: boolean;
  shipped: number;
  batches: number;
  duplicateBatches: number;
  deadRecords: number;
  tornLines: number;
  waiting: number;
  /** Why draining stopped early. */
  problem: string;
}

export async function drainSpool(o: DrainOptions): Promise<DrainResult> {
  const spool = await Spool.open(o.spoolDir, o.spoolMaxBytes, o.log);
  const sub = new Submitter({
    url: o.url,
    format: o.format,
    token: o.token,
    table: o.table,
    gzip: o.gzip,
    timeoutMs: o.timeoutMs ?? 30_000,
  });
  const r: DrainResult = {
    ok: false,
    shipped: 0,
    batches: 0,
    duplicateBatches: 0,
    deadRecords: 0,
    tornLines: spool.counters.tornLines,
    waiting: 0,
    problem: "",
  };
  const backoff = new Backoff(1000, 60_000);
  const giveUpAt = Date.now() + o.waitSeconds * 1000;
  const dead = async (b: Batch, why: string) => {
    await spool.deadLetter(b);
    o.log.warn(`batch ${batchKey(b)} refused as bad (${why}); moved to the dead letter file`);
  };
  try {
    outer: for (let seg = spool.oldestClosed(); seg !== null; seg = spool.oldestClosed()) {
      spool.busy = seg.name;
      for (const b of await spool.read(seg)) {
        while (true) {
          const d = await deliver(sub, b, dead);
          r.shipped += d.stored;
          r.batches += d.storedBatches;
          r.duplicateBatches += d.duplicates;
          if (d.outcome.kind === "ok") break;
          if (d.outcome.kind === "config") {
            r.problem =
              `server ${sub.where} refuses batches (${d.outcome.why}): configuration error?`;
            break outer;
          }
          if (d.outcome.kind !== "retry") break;
          const delay = backoff.next(d.outcome.retryAfterMs);
          if (Date.now() + delay > giveUpAt) {
            r.problem = `server ${sub.where} cannot take records: ${d.outcome.why}`;
            break outer;
          }
          o.log.info(`${d.outcome.why}; trying again in ${(delay / 1000).toFixed(1)} s`);
          await new Promise((res) => setTimeout(res, delay));
        }
      }
      await spool.remove(seg);
      spool.busy = null;
    }
  } finally {
    r.deadRecords = spool.counters.deadRecords;
    r.waiting = spool.waiting.records;
    r.ok = r.waiting === 0;
    await spool.close();
  }
  return r;
}
