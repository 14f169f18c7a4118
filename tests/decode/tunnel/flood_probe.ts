/**
 * Run by reassembly_test.ts in its own Deno with --expose-gc: feeds `N` first fragments
 * of datagrams that never complete to one decoder and prints, as JSON, the reassembly
 * statistics, the largest number of bytes held and how much the heap grew (after a GC).
 */
import { decodeFrame, newDecoder } from "../../../src/decode/mod.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";

const n = Number(Deno.args[0] ?? "100000");
const payload = 200;
const gc = (globalThis as { gc?: () => void }).gc!;
const dec = newDecoder();
const meta = newFrameMeta();
const frame = new Uint8Array(14 + 20 + payload).fill(0x42);
frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0], 0);
gc();
const before = Deno.memoryUsage().heapUsed;
let maxHeld = 0;
for (let i = 0; i < n; i++) {
  const ip = [0x45, 0, 0, 20 + payload, (i >> 8) & 0xff, i & 0xff, 0x20, 0, 64, 17, 0, 0];
  ip.push(192, 0, 2, (i >> 16) + 1, 198, 51, 100, 2);
  let s = 0;
  for (let k = 0; k < 20; k += 2) s += (ip[k] << 8) | ip[k + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  ip[10] = (~s >> 8) & 0xff;
  ip[11] = ~s & 0xff;
  frame.set(ip, 14);
  meta.capLen = meta.wireLen = frame.length;
  meta.sec = 1_700_000_000 + Math.floor(i / 10_000);
  decodeFrame(dec, new DataView(frame.buffer), frame, 0, meta);
  const held = dec.reassembly!.stats().bytesHeld;
  if (held > maxHeld) maxHeld = held;
}
gc();
const grown = Deno.memoryUsage().heapUsed - before;
console.log(JSON.stringify({ ...dec.reassembly!.stats(), maxHeld, grown }));
