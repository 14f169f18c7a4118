import { BIG } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import type { PacketRecord } from "../src/decode/record.ts";
import { compileFilterSet } from "../src/filter/mod.ts";
const recs: PacketRecord[] = [];
const src = await openCaptureFile(BIG);
const dec = newDecoder();
await src.run((view, bytes, off, meta) => { recs.push(decodeFrame(dec, view, bytes, off, meta)); }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
for (const f of Deno.args) {
  const p = (await compileFilterSet([f], [])).packets!;
  let best = Infinity, m = 0;
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); m = 0; for (let j = 0; j < recs.length; j++) if (p(recs[j])) m++; best = Math.min(best, performance.now() - t0); }
  console.log(`${(best * 1e6 / recs.length).toFixed(0)} ns  ${m}  ${f}`);
}
let best = Infinity; let m = 0;
for (let i = 0; i < 5; i++) { const t0 = performance.now(); m = 0; for (let j = 0; j < recs.length; j++) if (recs[j]["TCP"] !== undefined) m++; best = Math.min(best, performance.now() - t0); }
console.log(`${(best * 1e6 / recs.length).toFixed(0)} ns  ${m}  raw rec.TCP lookup`);
