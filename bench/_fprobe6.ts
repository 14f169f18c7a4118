import { BIG } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import type { PacketRecord } from "../src/decode/record.ts";
const all: PacketRecord[] = [];
const src = await openCaptureFile(BIG);
const dec = newDecoder();
await src.run((view, bytes, off, meta) => { all.push(decodeFrame(dec, view, bytes, off, meta)); }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
const recs = all.filter((_, i) => i % 62 === 0).slice(0, 4000);
all.length = 0;
const N = recs.length;
function time(name: string, p: (r: PacketRecord) => boolean) {
  let best = Infinity, m = 0;
  for (let i = 0; i < 7; i++) { const t0 = performance.now(); m = 0; for (let k = 0; k < 50; k++) for (let j = 0; j < N; j++) if (p(recs[j])) m++; best = Math.min(best, performance.now() - t0); }
  console.log(`${(best * 1e6 / (N * 50)).toFixed(1)} ns ${m / 50} ${name}`);
}
const shapes = new Set(recs.map((r) => Object.keys(r).join(",")));
console.log("distinct key lists:", shapes.size);
const K = ["ARP", "LLDP", "CDP", "STP"];
time("rec.ARP", (r) => r.ARP !== undefined);
time("rec[K0]", (r) => r[K[0]] !== undefined);
time("4 absent-ish lookups", (r) => r[K[0]] !== undefined || r[K[1]] !== undefined || r[K[2]] !== undefined || r[K[3]] !== undefined);
const want = new Set(K);
time("for-in + Set", (r) => { for (const k in r) if (want.has(k)) return true; return false; });
const wantObj: Record<string, boolean> = Object.create(null); for (const k of K) wantObj[k] = true;
time("for-in + dict", (r) => { for (const k in r) if (wantObj[k] === true) return true; return false; });
time("hasOwn x4", (r) => Object.hasOwn(r, K[0]) || Object.hasOwn(r, K[1]) || Object.hasOwn(r, K[2]) || Object.hasOwn(r, K[3]));
time("in x4", (r) => K[0] in r || K[1] in r || K[2] in r || K[3] in r);
const getters = K.map((k) => new Function("o", `return o[${JSON.stringify(k)}];`) as (o: PacketRecord) => unknown);
const g0 = getters[0], g1 = getters[1], g2 = getters[2], g3 = getters[3];
time("getter x1", (r) => g0(r) !== undefined);
time("getter x4", (r) => g0(r) !== undefined || g1(r) !== undefined || g2(r) !== undefined || g3(r) !== undefined);
const arr = getters;
time("getter array x4", (r) => { for (let i = 0; i < 4; i++) if (arr[i](r) !== undefined) return true; return false; });
const gen = new Function(`return (r) => r.ARP !== undefined || r.LLDP !== undefined || r.CDP !== undefined || r.STP !== undefined;`)() as (r: PacketRecord) => boolean;
time("generated x4", gen);
