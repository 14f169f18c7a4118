import { parseIpv4 } from "../src/filter/addr.ts";
import { ipv4 } from "../src/decode/format.ts";
const N = 4000;
const cons: string[] = [], flat: string[] = [];
const b = new Uint8Array([10, 1, 2, 3]);
for (let i = 0; i < N; i++) { b[3] = i & 255; b[2] = i >> 8; cons.push(ipv4(b, 0)); flat.push(JSON.parse(JSON.stringify(ipv4(b, 0)))); }
function t(arr: string[], name: string, f: (s: string) => number) {
  let best = Infinity, x = 0;
  for (let r = 0; r < 7; r++) { const t0 = performance.now(); for (let k = 0; k < 50; k++) for (let i = 0; i < N; i++) x += f(arr[i]); best = Math.min(best, performance.now() - t0); }
  console.log(name, (best * 1e6 / (N * 50)).toFixed(1), "ns", x > 0);
}
t(flat, "flat parse", (s) => parseIpv4(s));
t(cons, "cons parse", (s) => parseIpv4(s));
t(flat, "flat startsWith", (s) => s.startsWith("10.1.") ? 1 : 0);
t(cons, "cons startsWith", (s) => s.startsWith("10.1.") ? 1 : 0);
t(flat, "flat ===", (s) => s === "10.1.2.3" ? 1 : 0);
