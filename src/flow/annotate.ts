/**
 * The tracker's one hook for attributes it does not compute itself (process attribution,
 * src/attribution): told once when a flow starts, asked to add its fields at each emit.
 * The tracker knows nothing of what the fields are.
 *
 * @module
 */
import type { Frame } from "../decode/frame.ts";
import type { PacketRecord } from "../decode/record.ts";

/** Something that adds fields to flow records (e.g. `Process`). */
export interface FlowAnnotator {
  /**
   * A flow starts with the frame `f`; `srcIsOriginator` is false when the tracker took the
   * frame's destination for the originator (a SYN-ACK seen first). Returns what to keep
   * with the flow, or null when there is nothing to add for it.
   */
  open(f: Frame, srcIsOriginator: boolean): FlowNote | null;
}

/** Kept with one flow; adds its fields to each of the flow's records. */
export interface FlowNote {
  addTo(rec: PacketRecord, final: boolean): void;
}
