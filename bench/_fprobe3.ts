import { BIG } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import type { PacketRecord } from "../src/decode/record.ts";
import { compileFilterSet } from "../src/filter/mod.ts";
const recs: PacketRecord[] = [];
const src = await openCaptureFile(BIG);
const dec = newDecoder();
const ac = new AbortController();
await src.run((view, bytes, off, meta) => { if (recs.length < 4000) recs.push(decodeFrame(dec, view, bytes, off, meta)); else ac.abort(); }, { signal: ac.signal, ready: () => Promise.resolve() });
const N = recs.length;
function time(p: (r: PacketRecord) => boolean): [number, number] {
  let best = Infinity, m = 0;
  for (let i = 0; i < 7; i++) { const t0 = performance.now(); m = 0; for (let k = 0; k < 50; k++) for (let j = 0; j < N; j++) if (p(recs[j])) m++; best = Math.min(best, performance.now() - t0); }
  return [best * 1e6 / (N * 50), m / 50];
}
for (const f of Deno.args) {
  const p = (await compileFilterSet([f], [])).packets!;
  const [ns, m] = time(p);
  console.log(`${ns.toFixed(0)} ns  ${m}  ${f}`);
}
const [ns, m] = time((r) => r["TCP"] !== undefined);
console.log(`${ns.toFixed(0)} ns ${m} raw rec.TCP`);
const key = Deno.args.length > 100 ? "x" : "TCP";
const [ns2] = time((r) => r[key] !== undefined);
console.log(`${ns2.toFixed(0)} ns raw rec[key]`);
import { compileValue } from "../src/filter/compile.ts";
const vp = compileValue({ kind: "ipv4" }, "10.0.0.0/8", "x");
const [a1] = time((r) => { const l = r.IPv4 as any; if (l === undefined) return false; return vp(l.Source_Address) || vp(l.Destination_Address); });
console.log(a1.toFixed(0), "hand");
const ka = "Source_Address", kb = "Destination_Address", kl = "IPv4";
const [a2] = time((r) => { const l = r[kl] as any; if (l === undefined) return false; return vp(l[ka]) || vp(l[kb]); });
console.log(a2.toFixed(0), "hand keyed");
const [a3] = time((r) => { const l = r[kl] as any; if (l === undefined) return false; return typeof l[ka] === "string" || typeof l[kb] === "string"; });
console.log(a3.toFixed(0), "lookups only");
let cnt = 0;
const [a4] = time((r) => { const l = r[kl] as any; if (l === undefined) return false; const s = l[ka] as string; cnt += s.length; return false; });
console.log(a4.toFixed(0), "lookups only");
