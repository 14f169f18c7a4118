/**
 * Decode benchmark: frames/s of
 *   deno run -A main.ts capture -r big.pcap --json > /dev/null
 * beside `tcpdump -nn -r big.pcap > /dev/null` and `tshark -r big.pcap -T json > /dev/null`
 * on the generated capture (bench/gen_pcap.ts, 250k mixed frames). tshark runs on the
 * first 20k frames (same mix) and its rate is reported as measured on that slice.
 * Each command runs RUNS times after one warm-up; the medians of wall time and of the
 * process CPU time (user + system, via /usr/bin/time: stable when the machine is shared) count
 * (process start included, for every tool alike).
 *
 * Also measured in-process (no process start, no stdout): read only, read + decode,
 * read + decode + JSON.stringify, to show where the time goes.
 *
 * Usage: deno run -A bench/decode.ts [frames]   (prints a markdown table on stdout)
 */
import {
  BIG,
  DEFAULT_FRAMES,
  generateBenchPcap,
  OUT_DIR,
  SLICE,
  SLICE_FRAMES,
} from "./gen_pcap.ts";
import { have, inProcess, RUNS, timeCmd, type Timing } from "./_timing.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function countFrames(path: string): number {
  const b = Deno.readFileSync(path);
  const v = new DataView(b.buffer);
  let n = 0;
  for (let p = 24; p + 16 <= b.length; p += 16 + v.getUint32(p + 8, true)) n++;
  return n;
}

const frames = Number(Deno.args[0] ?? DEFAULT_FRAMES);
Deno.mkdirSync(OUT_DIR, { recursive: true });
let exists = false;
try {
  exists = Deno.statSync(BIG).isFile && countFrames(BIG) === frames;
} catch { /* generate */ }
if (!exists) generateBenchPcap(BIG, frames);
const sliceFrames = Math.min(SLICE_FRAMES, frames);

interface Row {
  what: string;
  frames: number;
  t: Timing;
}
const rows: Row[] = [];
const netmonArgv = [Deno.execPath(), "run", "-A", `${ROOT}main.ts`, "capture", "-r", BIG, "--json"];
const netmon: Row = {
  what: "`netmon capture -r big.pcap --json`",
  frames,
  t: await timeCmd(netmonArgv),
};
rows.push(netmon);
let tcpdump: Row | null = null;
if (have("tcpdump")) {
  tcpdump = {
    what: "`tcpdump -nn -r big.pcap`",
    frames,
    t: await timeCmd(["tcpdump", "-nn", "-r", BIG]),
  };
  rows.push(tcpdump);
}
let tshark: Row | null = null;
if (have("tshark")) {
  tshark = {
    what: `\`tshark -r slice.pcap -T json\` (first ${sliceFrames} frames)`,
    frames: sliceFrames,
    t: await timeCmd(["tshark", "-r", SLICE, "-T", "json"]),
  };
  rows.push(tshark);
}
const rate = (r: Row) => r.frames / r.t.wall;
const cpuRate = (r: Row) => r.frames / r.t.cpu;

const lines: string[] = [];
const load = Deno.loadavg()[0].toFixed(2);
lines.push(
  `Capture: ${frames} mixed frames (bench/gen_pcap.ts), ${
    (Deno.statSync(BIG).size / 1e6).toFixed(1)
  } MB; ` +
    `median of ${RUNS} runs after a warm-up; output to /dev/null; ` +
    `${navigator.hardwareConcurrency} CPUs, load average ${load} at the start.`,
);
lines.push("");
lines.push(
  "| command | frames | wall s | frames/s | netmon ratio | CPU s | frames/CPU-s | netmon ratio (CPU) |",
);
lines.push("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  lines.push(
    `| ${r.what} | ${r.frames} | ${r.t.wall.toFixed(3)} | ${Math.round(rate(r))} | ` +
      `${(rate(netmon) / rate(r)).toFixed(2)}x | ${r.t.cpu.toFixed(3)} | ${
        Math.round(cpuRate(r))
      } | ` +
      `${(cpuRate(netmon) / cpuRate(r)).toFixed(2)}x |`,
  );
}
lines.push("");
lines.push("In-process (no process start, no stdout), frames/s:");
lines.push("");
lines.push("| stage | frames/s |");
lines.push("|---|---:|");
for (const mode of ["read", "decode", "json"] as const) {
  const label = mode === "read"
    ? "read only"
    : mode === "decode"
    ? "read + decode"
    : "read + decode + JSON.stringify";
  lines.push(`| ${label} | ${Math.round(await inProcess(BIG, mode))} |`);
}
lines.push("");
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
if (tcpdump !== null) {
  lines.push(
    `Target >= tcpdump text output: ${verdict(rate(netmon) >= rate(tcpdump))} ` +
      `(wall ${(rate(netmon) / rate(tcpdump)).toFixed(2)}x, CPU ${
        (cpuRate(netmon) / cpuRate(tcpdump)).toFixed(2)
      }x).`,
  );
}
if (tshark !== null) {
  lines.push(
    `Target >= 50x tshark JSON: ${verdict(rate(netmon) >= 50 * rate(tshark))} ` +
      `(wall ${(rate(netmon) / rate(tshark)).toFixed(1)}x, CPU ${
        (cpuRate(netmon) / cpuRate(tshark)).toFixed(1)
      }x).`,
  );
}
console.log(lines.join("\n"));
