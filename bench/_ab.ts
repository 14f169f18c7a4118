/**
 * Side-by-side decode speed of two netmon trees on one capture (for a change that must
 * not slow the decoders down): in-process read + decode + JSON.stringify, the trees
 * alternating round after round, and the CLI (`capture -r FILE --json > /dev/null`)
 * alternating too; medians. Not run by `deno task bench` (its name starts with _).
 *
 * Usage: deno run -A bench/_ab.ts OLD_ROOT NEW_ROOT FILE [rounds=7]
 */
import { timeCmd } from "./_timing.ts";

const [oldRoot, newRoot, file, roundsArg] = Deno.args;
if (!oldRoot || !newRoot || !file) {
  console.error("usage: deno run -A bench/_ab.ts OLD_ROOT NEW_ROOT FILE [rounds]");
  Deno.exit(2);
}
const rounds = Number(roundsArg ?? 7);

interface Tree {
  name: string;
  root: string;
  rates: number[];
  cli: number[];
}

async function rate(root: string): Promise<number> {
  const { openCaptureFile } = await import(`${root}/src/capture/file.ts`);
  const { decodeFrame, newDecoder } = await import(`${root}/src/decode/mod.ts`);
  const src = await openCaptureFile(file);
  const dec = newDecoder();
  let n = 0;
  let bytes = 0;
  const t0 = performance.now();
  await src.run((view: DataView, b: Uint8Array, off: number, meta: unknown) => {
    n++;
    bytes += JSON.stringify(decodeFrame(dec, view, b, off, meta)).length;
  }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  src.close();
  if (bytes < 0) console.log(bytes);
  return n / ((performance.now() - t0) / 1000);
}

const trees: Tree[] = [
  { name: "old", root: oldRoot, rates: [], cli: [] },
  { name: "new", root: newRoot, rates: [], cli: [] },
];
for (const t of trees) await rate(t.root); // warm-up (JIT, page cache)
for (let r = 0; r < rounds; r++) {
  for (const t of r % 2 === 0 ? trees : [...trees].reverse()) t.rates.push(await rate(t.root));
}
for (let r = 0; r < Math.max(3, Math.floor(rounds / 2)); r++) {
  for (const t of r % 2 === 0 ? trees : [...trees].reverse()) {
    const argv = [
      Deno.execPath(),
      "run",
      "-A",
      `${t.root}/main.ts`,
      "capture",
      "-r",
      file,
      "--json",
    ];
    t.cli.push((await timeCmd(argv)).wall);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [o, n] = trees;
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}; ${rounds} rounds`);
console.log("| tree | in-process frames/s (median) | CLI wall s (median) |");
console.log("|---|---:|---:|");
for (const t of trees) {
  console.log(`| ${t.name} | ${Math.round(median(t.rates))} | ${median(t.cli).toFixed(3)} |`);
}
console.log(
  `new/old: in-process ${(median(n.rates) / median(o.rates)).toFixed(3)}, ` +
    `CLI time ${(median(n.cli) / median(o.cli)).toFixed(3)}`,
);
