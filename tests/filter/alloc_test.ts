/** Matching a record allocates nothing (measured in a process of its own, alloc_probe.ts). */
import assert from "node:assert/strict";
import { ROUNDS } from "./alloc_probe.ts";

Deno.test("matching allocates nothing", () => {
  // In a process of its own whose young generation (128 MiB) the runs cannot fill, so
  // the only collections are the probe's explicit ones: --trace-gc proves it, and then
  // the heap growth of a run is exactly what it allocated (no GC timing involved).
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc,--trace-gc,--min-semi-space-size=128,--max-semi-space-size=128",
      new URL("alloc_probe.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const lines = text.trim().split("\n");
  const result = JSON.parse(lines.find((l) => l.startsWith("{"))!);
  const collections = lines.filter((l) => /\d+ ms: (Scavenge|Mark-Compact|Minor)/.test(l));
  assert.equal(
    collections.length,
    result.gcs,
    `collections other than the explicit ones:\n${collections.join("\n")}`,
  );
  assert.ok(collections.every((l) => l.includes("testing")), collections.join("\n"));
  assert.equal(result.matched, (ROUNDS / 3) * 2);
  // 300k matches allocating even 16 bytes each grow the heap by 4.8 MB in every run; the
  // first runs may still see the JIT's own allocations, so the least growth counts.
  const least = Math.min(...result.grown);
  assert.ok(least < 64 * 1024, `heap grew by ${result.grown.join(", ")} bytes`);
});
