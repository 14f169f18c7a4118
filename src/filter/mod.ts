/**
 * JSON filters: compile `--filter` / `--exclude` arguments (inline JSON or file paths,
 * JSONC) into predicates over packet and flow records. Everything is checked before
 * capture starts; problems are a {@link UsageError} of one line naming the filter,
 * the path inside it and the closest valid name. See docs/filters.md.
 *
 * @example
 * ```ts
 * import { compileFilterSet } from "./src/filter/mod.ts";
 * const fs = await compileFilterSet(['{"TCP": {"Port": 80}}'], []);
 * fs.packets?.({ TCP: { Source_Port: 80, Destination_Port: 5555 } }); // true
 * ```
 */
import type { PacketRecord } from "../decode/record.ts";
import { UsageError } from "../errors.ts";
import { type CompiledFilter, compileFilterValue, FilterError } from "./compile.ts";
import { isInline, parseJsonc, readFilterSource } from "./load.ts";

export type RecordPredicate = (rec: PacketRecord) => boolean;

export interface FilterSet {
  /** Decides packet records: true = keep. null when no filter applies to packets. */
  packets: RecordPredicate | null;
  /** Decides flow records: true = keep. null when no filter applies to flows. */
  flows: RecordPredicate | null;
}

/** Parses and compiles one argument; `label` is "filter 1", "exclude 2", ... */
export async function compileFilterArg(arg: string, label: string): Promise<CompiledFilter[]> {
  let origin = isInline(arg) ? "inline" : arg;
  try {
    const src = await readFilterSource(arg);
    origin = src.origin;
    return compileFilterValue(parseJsonc(src.text));
  } catch (e) {
    const msg = e instanceof FilterError || e instanceof Error ? e.message : String(e);
    throw new UsageError(`${label} (${origin}): ${msg}`);
  }
}

/**
 * Compiles keep (`--filter`) and drop (`--exclude`) filters. A record is kept when it
 * matches ANY keep filter that applies to its record type (or there is none) and NO
 * drop filter. Filters naming "Flow" apply to flow records, filters naming only layers both
 * record types carry (Process, Peer_Process) to both, all others to packet records.
 */
export async function compileFilterSet(keep: string[], drop: string[]): Promise<FilterSet> {
  const k: CompiledFilter[] = [];
  const d: CompiledFilter[] = [];
  // Appended one by one: spreading a list of 100k filters into push() overflows the stack.
  for (let i = 0; i < keep.length; i++) {
    for (const f of await compileFilterArg(keep[i], `filter ${i + 1}`)) k.push(f);
  }
  for (let i = 0; i < drop.length; i++) {
    for (const f of await compileFilterArg(drop[i], `exclude ${i + 1}`)) d.push(f);
  }
  return {
    packets: combine(k, d, "packet"),
    flows: combine(k, d, "flow"),
  };
}

/**
 * `keep any && !drop any` as one generated function whose call sites each see a single
 * filter (V8 can inline them), rather than a loop over an array of predicates.
 */
function combine(
  keep: CompiledFilter[],
  drop: CompiledFilter[],
  type: "packet" | "flow",
): RecordPredicate | null {
  const ks = keep.filter((f) => f.record === type || f.record === "any").map((f) => f.match);
  const ds = drop.filter((f) => f.record === type || f.record === "any").map((f) => f.match);
  if (ks.length === 0 && ds.length === 0) return null;
  if (ks.length === 1 && ds.length === 0) return ks[0];
  if (ks.length + ds.length > INLINE_FILTERS) return loopOver(ks, ds);
  const k = ks.map((_, i) => `k${i}(rec)`).join(" || ");
  const d = ds.map((_, i) => `d${i}(rec)`).join(" || ");
  const test = ks.length === 0 ? `!(${d})` : ds.length === 0 ? k : `(${k}) && !(${d})`;
  const names = [...ks.map((_, i) => `k${i}`), ...ds.map((_, i) => `d${i}`)];
  const source = `"use strict"; /* netmon ${type} filters ${combined++} */\n` +
    `return function filters(rec) { return ${test}; };`;
  const make = new Function(...names, source) as (...p: RecordPredicate[]) => RecordPredicate;
  return make(...ks, ...ds);
}

let combined = 0;
/** Up to this many filters are combined in generated code; more are looped over. */
const INLINE_FILTERS = 64;

/** `keep any && !drop any` as loops (long lists: no giant expression, no argument spread). */
function loopOver(ks: RecordPredicate[], ds: RecordPredicate[]): RecordPredicate {
  const kn = ks.length;
  const dn = ds.length;
  return (rec) => {
    let keep = kn === 0;
    for (let i = 0; i < kn && !keep; i++) keep = ks[i](rec);
    if (!keep) return false;
    for (let i = 0; i < dn; i++) if (ds[i](rec)) return false;
    return true;
  };
}
