/**
 * Run by match_test.ts in its own process (young generation of 128 MiB, --trace-gc):
 * warms the filter up, then measures MEASURED runs of ROUNDS matches, each after an
 * explicit collection, and prints the heap growth of each run as one JSON line. A
 * collection other than the explicit ones would show in the trace; without one, a run's
 * growth is exactly what it allocated.
 */
import { compileFilterSet } from "../../src/filter/mod.ts";
import { ALLOC_FILTER, allocRecords } from "./records.ts";

export const ROUNDS = 300_000;
export const MEASURED = 5;

if (import.meta.main) {
  const p = (await compileFilterSet([ALLOC_FILTER], [])).packets!;
  const recs = allocRecords();
  const run = (): number => {
    let n = 0;
    for (let i = 0; i < ROUNDS; i++) if (p(recs[i % recs.length])) n++;
    return n;
  };
  run(); // warm up: the JIT compiles the filter and this loop
  run();
  const gc = (globalThis as unknown as { gc(): void }).gc;
  const grown: number[] = [];
  let matched = 0;
  for (let k = 0; k < MEASURED; k++) {
    gc();
    const before = Deno.memoryUsage().heapUsed;
    matched = run();
    grown.push(Deno.memoryUsage().heapUsed - before);
  }
  console.log(JSON.stringify({ grown, matched, gcs: MEASURED }));
}
