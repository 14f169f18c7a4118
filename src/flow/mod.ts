/**
 * Flow tracking (TCP/UDP/ICMP), Zeek conn.log style. (Placeholder with the final
 * interface; lands with issue 6.)
 */
import type { Frame } from "../decode/frame.ts";
import type { PacketRecord } from "../decode/record.ts";
import type { FrameMeta } from "../capture/source.ts";
import type { Settings } from "../config/settings.ts";

export interface FlowStats {
  active: number;
  emitted: number;
  evicted: number;
}

export class FlowTracker {
  constructor(
    _settings: Settings,
    _emit: (rec: PacketRecord) => void,
  ) {}

  /** Sees one decoded frame (f.sum holds its numbers). May add Community_ID to `rec`. */
  observe(_f: Frame, _meta: FrameMeta, _rec: PacketRecord): void {}

  /** Emits flows idle or active past their timeouts at time `nowSec` (packet or wall clock). */
  expire(_nowSec: number): void {}

  /** Emits every open flow (end of file, shutdown). */
  flushAll(): void {}

  stats(): FlowStats {
    return { active: 0, emitted: 0, evicted: 0 };
  }
}
