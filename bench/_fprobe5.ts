import { BIG } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import { readIpv4 } from "../src/filter/addr.ts";
import { compileValue } from "../src/filter/compile.ts";
const strs: string[] = [];
const src = await openCaptureFile(BIG);
const dec = newDecoder();
const ac = new AbortController();
await src.run((view, bytes, off, meta) => { const r = decodeFrame(dec, view, bytes, off, meta) as any; if (r.IPv4) strs.push(r.IPv4.Source_Address); if (strs.length >= 4000) ac.abort(); }, { signal: ac.signal, ready: () => Promise.resolve() });
const N = strs.length;
console.log(N, strs.slice(0, 5));
function t(name: string, f: (s: string) => number) {
  let best = Infinity, x = 0;
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); for (let k = 0; k < 50; k++) for (let i = 0; i < N; i++) x += f(strs[i]); best = Math.min(best, performance.now() - t0); }
  console.log(name, (best * 1e6 / (N * 50)).toFixed(1), "ns", x);
}
t("readIpv4", (s) => readIpv4(s) >= 0 ? 1 : 0);
const vp = compileValue({ kind: "ipv4" }, "10.0.0.0/8", "x");
t("vp", (s) => vp(s) ? 1 : 0);
t("len", (s) => s.length);
t("charCodeAt0", (s) => s.charCodeAt(0));
const flat = strs.map((s) => JSON.parse(JSON.stringify(s)) as string);
let best = Infinity, x = 0;
for (let r = 0; r < 7; r++) { const t0 = performance.now(); for (let k = 0; k < 50; k++) for (let i = 0; i < N; i++) x += readIpv4(flat[i]) >= 0 ? 1 : 0; best = Math.min(best, performance.now() - t0); }
console.log("flat readIpv4", (best * 1e6 / (N * 50)).toFixed(1));
