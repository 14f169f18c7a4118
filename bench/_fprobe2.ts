import { BIG } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import { compileFilterSet } from "../src/filter/mod.ts";
import { buildSelfExclusion } from "../src/filter/self.ts";
const f = Deno.args[0];
const pred = (await compileFilterSet([f], [])).packets!;
const self = (await buildSelfExclusion("http://192.0.2.1:8080/ingest"))!;
async function pass(mode: number) {
  const src = await openCaptureFile(BIG);
  const dec = newDecoder();
  let k = 0;
  const t0 = performance.now();
  await src.run((view, bytes, off, meta) => {
    const rec = decodeFrame(dec, view, bytes, off, meta);
    if (mode & 1 && self.matches(dec)) k++;
    if (mode & 2 && pred(rec)) k++;
  }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  src.close();
  return performance.now() - t0;
}
const best = [Infinity, Infinity, Infinity, Infinity];
await pass(0);
for (let i = 0; i < 4; i++) for (const m of [0, 1, 2, 3]) best[m] = Math.min(best[m], await pass(m));
console.log(best.map((b) => (b * 4).toFixed(0) + "ns").join(" "), f);
