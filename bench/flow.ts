/**
 * Flow tracking cost: frames/s of read + decode alone beside read + decode + flow
 * tracking on the bench capture (in one process, alternating, best of 3), and
 * tshark's conversation statistics on the 20k-frame slice as the peer.
 * Target (issue 6): flow tracking costs under 20%.
 */
import { BIG, DEFAULT_FRAMES, generateBenchPcap, SLICE, SLICE_FRAMES } from "./gen_pcap.ts";
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";
import { FlowTracker } from "../src/flow/mod.ts";
import { defaultSettings } from "../src/config/settings.ts";

try {
  Deno.statSync(BIG);
} catch {
  generateBenchPcap(BIG, DEFAULT_FRAMES);
}

async function pass(withFlows: boolean): Promise<{ frames: number; ms: number; flows: number }> {
  const src = await openCaptureFile(BIG);
  const dec = newDecoder();
  let emitted = 0;
  const s = defaultSettings();
  const flows = withFlows ? new FlowTracker(s, () => emitted++) : null;
  let frames = 0;
  let lastExpire = 0;
  const t0 = performance.now();
  await src.run((view, bytes, off, meta) => {
    frames++;
    const rec = decodeFrame(dec, view, bytes, off, meta);
    if (flows !== null) {
      flows.observe(dec, meta, rec);
      if (meta.sec !== lastExpire) {
        lastExpire = meta.sec;
        flows.expire(meta.sec);
      }
    }
  }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  flows?.flushAll();
  const ms = performance.now() - t0;
  src.close();
  return { frames, ms, flows: emitted };
}

let bestDecode = Infinity, bestFlows = Infinity, frames = 0, flowCount = 0;
await pass(false); // warm-up
for (let i = 0; i < 3; i++) {
  const a = await pass(false);
  const b = await pass(true);
  frames = a.frames;
  flowCount = b.flows;
  bestDecode = Math.min(bestDecode, a.ms);
  bestFlows = Math.min(bestFlows, b.ms);
}

let tsharkFps = NaN;
try {
  const t0 = performance.now();
  const out = new Deno.Command("tshark", {
    args: ["-r", SLICE, "-q", "-z", "conv,tcp", "-z", "conv,udp"],
    stdout: "null",
    stderr: "null",
    env: { HOME: "/tmp" },
  }).outputSync();
  if (out.success) tsharkFps = SLICE_FRAMES / ((performance.now() - t0) / 1000);
} catch { /* tshark missing */ }

const fps = (ms: number) => frames / (ms / 1000);
const overhead = (bestFlows / bestDecode - 1) * 100;
console.log(`frames: ${frames}, flow records: ${flowCount}\n`);
console.log("| run | frames/s | vs decode alone |");
console.log("|---|---:|---:|");
console.log(`| netmon read + decode | ${fps(bestDecode).toFixed(0)} | 1.00 |`);
console.log(
  `| netmon read + decode + flows | ${fps(bestFlows).toFixed(0)} | ${
    (bestDecode / bestFlows).toFixed(2)
  } |`,
);
if (!Number.isNaN(tsharkFps)) {
  console.log(
    `| tshark -q -z conv,tcp -z conv,udp (20k slice) | ${tsharkFps.toFixed(0)} | ${
      (tsharkFps / fps(bestDecode)).toFixed(3)
    } |`,
  );
}
console.log(`\nflow tracking overhead: ${overhead.toFixed(1)}% (target < 20%)`);
