/**
 * Timing helpers of the benchmarks: tool lookup, median timings of a command, and
 * netmon's in-process read/decode/JSON rate on a capture.
 */
import { openCaptureFile } from "../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../src/decode/mod.ts";

/** Timed runs of each command (after one warm-up). */
export const RUNS = 3;

export function have(cmd: string): boolean {
  return new Deno.Command("sh", {
    args: ["-c", `command -v ${cmd}`],
    stdout: "null",
    stderr: "null",
  })
    .outputSync().success;
}

export interface Timing {
  /** Wall-clock seconds (median). */
  wall: number;
  /** User + system CPU seconds of the process (median). */
  cpu: number;
}

const HAVE_TIME = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile;
  } catch {
    return false;
  }
})();

/** Runs argv with stdout to /dev/null: one warm-up, then RUNS timed runs; medians. */
export async function timeCmd(argv: string[]): Promise<Timing> {
  const timeFile = Deno.makeTempFileSync({ prefix: "netmon_bench_" });
  const once = async (): Promise<Timing> => {
    const full = HAVE_TIME ? ["/usr/bin/time", "-o", timeFile, "-f", "%U %S", ...argv] : argv;
    const t0 = performance.now();
    const out = await new Deno.Command(full[0], {
      args: full.slice(1),
      stdout: "null",
      stderr: "piped",
      env: { HOME: "/tmp" },
    }).output();
    const wall = (performance.now() - t0) / 1000;
    if (!out.success) {
      throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    let cpu = NaN;
    if (HAVE_TIME) {
      const [u, s] = Deno.readTextFileSync(timeFile).trim().split("\n").pop()!.split(" ").map(
        Number,
      );
      cpu = u + s;
    }
    return { wall, cpu };
  };
  try {
    await once(); // warm-up (page cache, Deno's module cache)
    const runs: Timing[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await once());
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
  } finally {
    Deno.removeSync(timeFile);
  }
}

/** In-process rate of reading (and optionally decoding / stringifying) every frame. */
export async function inProcess(path: string, mode: "read" | "decode" | "json"): Promise<number> {
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
