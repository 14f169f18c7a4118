/**
 * Helper of bench/live.ts (run inside the capture namespace): reads the live ring with
 * one pipeline stage at a time and prints, on stderr, the CPU time per frame:
 *   ring    the sink does nothing (ring walk + FrameMeta only)
 *   decode  + decodeFrame()
 *   json    + JSON.stringify() of the record
 * CPU counted from the moment the socket is open (process start excluded). Stops on SIGINT. Usage: deno run -A bench/_live_stages.ts IFACE ring|decode|json
 */
import { openLive } from "../src/capture/live.ts";
import { defaultSettings } from "../src/config/settings.ts";
import { createLogger } from "../src/log/mod.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";

const [iface, mode] = Deno.args;
const src = await openLive({
  settings: { ...defaultSettings(), interface: iface },
  log: createLogger("warn"),
  bpf: null,
});
/** User + system CPU seconds of this process so far. */
function cpuNow(): number {
  const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}
const cpu0 = cpuNow();
const abort = new AbortController();
Deno.addSignalListener("SIGINT", () => abort.abort());
const dec = newDecoder();
let frames = 0;
let chars = 0;
await src.run((view, bytes, off, meta) => {
  frames++;
  if (mode === "decode") decodeFrame(dec, view, bytes, off, meta);
  else if (mode === "json") {
    chars += JSON.stringify(decodeFrame(dec, view, bytes, off, meta)).length;
  }
}, { signal: abort.signal, ready: () => Promise.resolve() });
const cpu = cpuNow() - cpu0;
const st = src.stats();
src.close();
console.error(JSON.stringify({ mode, frames, cpu, drops: st?.drops ?? 0, chars }));
