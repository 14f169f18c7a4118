/**
 * Decode benchmark: frames/s of
 *   deno run -A main.ts capture -r big.pcap --json > /dev/null
 * beside `tcpdump -nn -r big.pcap > /dev/null` and `tshark -r big.pcap -T json > /dev/null`
 * on the generated capture (bench/gen_pcap.ts, 250k mixed frames). tshark runs on the
 * first 20k frames (same mix) and its rate is reported as measured on that slice.
 * Each command runs RUNS times after one warm-up; the median wall time counts
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
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const RUNS = 3;

function have(cmd: string): boolean {
  return new Deno.Command("sh", {
    args: ["-c", `command -v ${cmd}`],
    stdout: "null",
    stderr: "null",
  })
    .outputSync().success;
}

/** Median wall time (s) of running argv with stdout to /dev/null. */
async function timeCmd(argv: string[]): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdout: "null",
      stderr: "piped",
      env: { HOME: "/tmp" },
    }).output();
    const dt = (performance.now() - t0) / 1000;
    if (!out.success) {
      throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return dt;
  };
  await once(); // warm-up (page cache, Deno's module cache)
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** In-process rate of reading (and optionally decoding / stringifying) every frame. */
async function inProcess(path: string, mode: "read" | "decode" | "json"): Promise<number> {
  const best: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const src = await openCaptureFile(path);
    const dec = newDecoder();
    let n = 0;
    let bytes = 0;
    const t0 = performance.now();
    await src.run((view, b, off, meta) => {
      n++;
      if (mode === "read") return;
      const rec = decodeFrame(dec, view, b, off, meta);
      if (mode === "json") bytes += JSON.stringify(rec).length;
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
    best.push(n / ((performance.now() - t0) / 1000));
    src.close();
    if (bytes < 0) console.log(bytes);
  }
  best.sort((a, b) => a - b);
  return best[Math.floor(best.length / 2)];
}

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
  seconds: number;
}
const rows: Row[] = [];
const netmonArgv = [Deno.execPath(), "run", "-A", `${ROOT}main.ts`, "capture", "-r", BIG, "--json"];
const netmonS = await timeCmd(netmonArgv);
rows.push({ what: "`netmon capture -r big.pcap --json`", frames, seconds: netmonS });
let tcpdumpRate = 0;
if (have("tcpdump")) {
  const s = await timeCmd(["tcpdump", "-nn", "-r", BIG]);
  tcpdumpRate = frames / s;
  rows.push({ what: "`tcpdump -nn -r big.pcap`", frames, seconds: s });
}
let tsharkRate = 0;
if (have("tshark")) {
  const s = await timeCmd(["tshark", "-r", SLICE, "-T", "json"]);
  tsharkRate = sliceFrames / s;
  rows.push({
    what: `\`tshark -r slice.pcap -T json\` (first ${sliceFrames} frames)`,
    frames: sliceFrames,
    seconds: s,
  });
}
const netmonRate = frames / netmonS;

const lines: string[] = [];
lines.push(
  `Capture: ${frames} mixed frames (bench/gen_pcap.ts), ${
    (Deno.statSync(BIG).size / 1e6).toFixed(1)
  } MB; median of ${RUNS} runs after a warm-up; output to /dev/null.`,
);
lines.push("");
lines.push("| command | frames | seconds | frames/s | netmon ratio |");
lines.push("|---|---:|---:|---:|---:|");
for (const r of rows) {
  const rate = r.frames / r.seconds;
  lines.push(
    `| ${r.what} | ${r.frames} | ${r.seconds.toFixed(3)} | ${Math.round(rate)} | ${
      (netmonRate / rate).toFixed(2)
    }x |`,
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
if (tcpdumpRate > 0) {
  lines.push(
    `Target >= tcpdump text output: ${verdict(netmonRate >= tcpdumpRate)} (${
      (netmonRate / tcpdumpRate).toFixed(2)
    }x).`,
  );
}
if (tsharkRate > 0) {
  lines.push(
    `Target >= 50x tshark JSON: ${verdict(netmonRate >= 50 * tsharkRate)} (${
      (netmonRate / tsharkRate).toFixed(1)
    }x).`,
  );
}
console.log(lines.join("\n"));
