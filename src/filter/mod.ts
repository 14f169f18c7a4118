/**
 * JSON filters: compile `--filter` / `--exclude` arguments (inline JSON or file paths)
 * into predicates. (Placeholder with the final interface; lands with issue 4.)
 */
import type { PacketRecord } from "../decode/record.ts";

export type RecordPredicate = (rec: PacketRecord) => boolean;

export interface FilterSet {
  /** Decides packet records: true = keep. null when no filter applies to packets. */
  packets: RecordPredicate | null;
  /** Decides flow records: true = keep. null when no filter applies to flows. */
  flows: RecordPredicate | null;
}

export function compileFilterSet(_keep: string[], _drop: string[]): Promise<FilterSet> {
  return Promise.resolve({ packets: null, flows: null });
}
