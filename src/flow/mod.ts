/**
 * Flow tracking (TCP/UDP/ICMP and other IP protocols), Zeek conn.log style, with
 * Community ID v1. Flow records are `{"Flow": {...}}` and go through the same
 * filters, outputs and shipper as packet records.
 */
import type { Frame } from "../decode/frame.ts";
import type { PacketRecord } from "../decode/record.ts";
import type { FrameMeta } from "../decode/meta.ts";
import type { Settings } from "../config/settings.ts";
import { FlowTable } from "./tracker.ts";
import type { FlowAnnotator } from "./annotate.ts";

export { communityIdV1 } from "./community_id.ts";
export type { FlowAnnotator, FlowNote } from "./annotate.ts";

export interface FlowStats {
  active: number;
  emitted: number;
  evicted: number;
}

export class FlowTracker {
  readonly #table: FlowTable;
  readonly #communityId: boolean;

  /** `annotator` adds fields of its own to flow records (process attribution). */
  constructor(
    settings: Settings,
    emit: (rec: PacketRecord) => void,
    annotator: FlowAnnotator | null = null,
  ) {
    this.#communityId = settings.communityId;
    this.#table = new FlowTable(
      {
        tcpIdleTimeout: settings.tcpIdleTimeout,
        udpIdleTimeout: settings.udpIdleTimeout,
        icmpIdleTimeout: settings.icmpIdleTimeout,
        activeTimeout: settings.activeTimeout,
        maxFlows: settings.maxFlows,
        communityId: settings.communityId,
      },
      emit,
      annotator,
    );
  }

  /** Sees one decoded frame (f.sum holds its numbers). Adds Community_ID to `rec` when asked. */
  observe(f: Frame, meta: FrameMeta, rec: PacketRecord): void {
    const cid = this.#table.observe(f, meta);
    if (this.#communityId && cid !== "") rec.Community_ID = cid;
  }

  /**
   * Emits flows idle or active past their timeouts at time `nowSec` (packet or wall clock),
   * at most `max` of them; true when more are due.
   */
  expire(nowSec: number, max = Infinity): boolean {
    return this.#table.expire(nowSec, max);
  }

  /** Emits up to `max` open flows (end of file, shutdown); returns how many remain. */
  flush(max = Infinity): number {
    return this.#table.flush(max);
  }

  /** Emits every open flow. */
  flushAll(): void {
    this.#table.flushAll();
  }

  stats(): FlowStats {
    return { active: this.#table.size, emitted: this.#table.emitted, evicted: this.#table.evicted };
  }
}
