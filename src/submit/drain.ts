/**
 * `netmon spool drain`: send everything in a spool to a server, oldest segment first,
 * deleting each segment once all of it was acknowledged.
 */
import type { Logger } from "../log/mod.ts";
import { type Batch, batchKey } from "./batch.ts";
import { Backoff, deliver, REQUEST_TIMEOUT_S, Submitter } from "./http.ts";
import { Spool, type UnreadableSegment } from "./spool.ts";
import { isNotFound, isPermission, myUid, userName } from "./files.ts";
import { RuntimeFailure } from "../errors.ts";

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
  /** Segments left in place because they cannot be read. */
  unreadable: UnreadableSegment[];
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
    timeoutMs: o.timeoutMs ?? REQUEST_TIMEOUT_S * 1000,
  });
  const r: DrainResult = {
    ok: false,
    shipped: 0,
    batches: 0,
    duplicateBatches: 0,
    deadRecords: 0,
    tornLines: spool.counters.tornLines,
    waiting: 0,
    unreadable: [],
    problem: "",
  };
  const backoff = new Backoff(1000, 60_000);
  const giveUpAt = Date.now() + o.waitSeconds * 1000;
  const dead = async (b: Batch, why: string, conflict: boolean) => {
    try {
      await spool.deadLetter(b);
    } catch (e) {
      // Not in the dead letter file: stop here, the batch stays in its segment.
      throw new RuntimeFailure(`cannot keep refused batch ${batchKey(b)}: ${(e as Error).message}`);
    }
    if (conflict) {
      o.log.error(
        `netmon bug: the server has Idempotency-Key ${batchKey(b)} with another body (${why}); ` +
          `batch of ${b.records} records not counted as stored, moved to the dead letter file; ` +
          `please report this`,
      );
    } else {
      o.log.warn(`batch ${batchKey(b)} refused as bad (${why}); moved to the dead letter file`);
    }
  };
  try {
    outer: for (let seg = spool.oldestClosed(); seg !== null; seg = spool.oldestClosed()) {
      spool.busy = seg.name;
      let data;
      try {
        data = await spool.read(seg);
      } catch (e) {
        // Unreadable: read() took it out of the index and said so; go on with the others.
        if (isPermission(e) || (e as { code?: string }).code === "ENOTPLAIN") continue;
        if (isNotFound(e)) {
          spool.forget(seg);
          continue;
        }
        throw e;
      }
      for (let i = data.from; i < data.batches.length; i++) {
        const b = data.batches[i];
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
        // Acknowledged (or dead-lettered): not waiting any more; the last one deletes it.
        await spool.acknowledge(seg, data, i + 1);
      }
      spool.busy = null;
    }
  } finally {
    r.deadRecords = spool.counters.deadRecords;
    r.waiting = spool.waiting.records;
    r.unreadable = spool.unreadable;
    r.ok = r.waiting === 0 && r.unreadable.length === 0;
    if (r.problem === "" && r.unreadable.length > 0) {
      r.problem = `${r.unreadable.length} spool segments cannot be read (${
        r.unreadable.map((u) => `${u.name}: ${u.why}`).join(", ")
      }); make them readable by ${userName(myUid())} and drain again`;
    }
    await spool.close();
  }
  return r;
}
