/**
 * Side-by-side decode speed of two netmon trees on one capture (for a change that must
 * not slow the decoders down): in-process read + decode + JSON.stringify per CPU second
 * (process.cpuUsage: steadier than wall time on a shared machine), the trees alternating
 * round after round, and the CLI (`capture -r FILE --json > /dev/null`, wall and CPU)
 * alternating too; medians. Not run by `deno task bench` (its name starts with _).
 *
 * Usage: deno run -A bench/_ab.ts OLD_ROOT NEW_ROOT FILE [rounds=7]
 */
import process from "node:process";
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
  /** In-process frames per CPU second (user + system of this process). */
  rates: number[];
  /** CLI wall and CPU seconds. */
  cli: number[];
  cliCpu: number[];
}

async function rate(root: string): Promise<number> {
  const { openCaptureFile } = await import(`${root}/src/capture/file.ts`);
  const { decodeFrame, newDecoder } = await import(`${root}/src/decode/mod.ts`);
  const src = await openCaptureFile(file);
  const dec = newDecoder();
  let n = 0;
  let bytes = 0;
  const c0 = process.cpuUsage();
  await src.run((view: DataView, b: Uint8Array, off: number, meta: unknown) => {
    n++;
    bytes += JSON.stringify(decodeFrame(dec, view, b, off, meta)).length;
  }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  src.close();
  if (bytes < 0) console.log(bytes);
  const c = process.cpuUsage(c0);
  return n / ((c.user + c.system) / 1e6);
}

const trees: Tree[] = [
  { name: "old", root: oldRoot, rates: [], cli: [], cliCpu: [] },
  { name: "new", root: newRoot, rates: [], cli: [], cliCpu: [] },
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
    const t1 = await timeCmd(argv);
    t.cli.push(t1.wall);
    t.cliCpu.push(t1.cpu);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [o, n] = trees;
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}; ${rounds} rounds`);
console.log(
  "| tree | in-process frames/CPU-s (median) | CLI wall s (median) | CLI CPU s (median) |",
);
console.log("|---|---:|---:|---:|");
for (const t of trees) {
  console.log(
    `| ${t.name} | ${Math.round(median(t.rates))} | ${median(t.cli).toFixed(3)} | ` +
      `${median(t.cliCpu).toFixed(3)} |`,
  );
}
console.log(
  `new/old: in-process rate ${(median(n.rates) / median(o.rates)).toFixed(3)}, ` +
    `CLI wall ${(median(n.cli) / median(o.cli)).toFixed(3)}, ` +
    `CLI CPU ${(median(n.cliCpu) / median(o.cliCpu)).toFixed(3)}`,
);
