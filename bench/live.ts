/**
 * Live capture benchmark: trafgen floods 60-byte UDP frames across a veth pair between two
 * throwaway namespaces; on the receiving end
 *   deno run -A main.ts capture -i IF --json > /dev/null        (ring of --buffer-mb 64)
 *   tcpdump -i IF -n -B 65536 -w /dev/null                      (same 64 MiB buffer)
 * capture the same flood side by side, at 100k and 200k frames/s (trafgen --rate over two
 * sender CPUs) and at the maximum of one sender CPU. Each run is bounded: a frame count per
 * rate, `timeout 60` on trafgen, SIGINT then SIGKILL for the capturers. Reports frames that reached the interface (its rx counter), and for both tools
 * what they captured, what the kernel counted for them and what it dropped, plus the CPU
 * time each process used per captured frame (the machine-independent number: drops depend
 * on what else competes for the CPUs).
 *
 * Usage: deno run -A bench/live.ts [seconds-per-rate]   (root, trafgen, tcpdump)
 * Environment: NETMON_LIVE_RECVMMSG=1 benchmarks the recvmmsg fallback instead of the ring;
 * BENCH_RATES=100000,max picks the rates; BENCH_STAGES=0 skips the per-stage CPU table
 * (bench/_live_stages.ts: ring only, + decode, + JSON.stringify).
 */
import { Lab, signal, sleep, waitFor } from "../tests/live/netns.ts";
import { have, isRoot } from "../tests/helpers/run.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SECONDS = Number(Deno.args[0] ?? 5);
/** Frames sent at "max": bounded too. */
const MAX_FRAMES = 3_000_000;
const RATES: (number | "max")[] = (Deno.env.get("BENCH_RATES") ?? "100000,200000,max").split(",")
  .map((r) => (r === "max" ? "max" : Number(r)));

interface Summary {
  captured: number;
  received: number;
  dropped: number;
}

function summary(stderr: string): Summary {
  const num = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? NaN);
  return {
    captured: num(/^(\d+) packets? captured$/m),
    received: num(/^(\d+) packets? received by filter$/m),
    dropped: num(/^(\d+) packets? dropped by kernel$/m),
  };
}

async function collect(child: Deno.ChildProcess, ms: number): Promise<string> {
  const t = setTimeout(() => signal(child, "SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(t);
  return new TextDecoder().decode(out.stderr);
}

/** User + system CPU seconds of a process so far (all threads), from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function rxPackets(lab: Lab, dev: string): number {
  const j = JSON.parse(lab.sh(lab.nsB, `ip -s -j link show ${dev}`));
  return j[0].stats64.rx.packets;
}

async function runRate(lab: Lab, a: string, b: string, rate: number | "max") {
  const ix = lab.ifindex(lab.nsB, b);
  const spawn = (argv: string[], env?: Record<string, string>) =>
    new Deno.Command("ip", {
      args: ["netns", "exec", lab.nsB, ...argv],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env,
    }).spawn();
  const netmon = spawn([
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT}main.ts`,
    "capture",
    "-i",
    b,
    "--json",
    "--buffer-mb",
    "64",
  ]);
  const tcpdump = spawn(["tcpdump", "-i", b, "-n", "-Z", "root", "-B", "65536", "-w", "/dev/null"]);
  try {
    await waitFor("both capture sockets", () => lab.packetSockets(lab.nsB, ix) >= 2, 30_000);
    // CPU from here on: process start (module loading, tcpdump's setup) is not per-frame work.
    const cpuNm0 = cpuSeconds(netmon.pid);
    const cpuTd0 = cpuSeconds(tcpdump.pid);
    const rx0 = rxPackets(lab, b);
    const frames = rate === "max" ? MAX_FRAMES : rate * SECONDS;
    const packet = `{ eth(da=${lab.mac(lab.nsB, b)}, sa=${lab.mac(lab.nsA, a)}), ` +
      `ipv4(saddr=10.90.0.1, daddr=10.90.0.99, ttl=1), udp(sp=1000, dp=2000), fill(0x41, 18) }`;
    // trafgen's --rate is the total over its CPUs; two senders hold 200k/s where one may not.
    const args = ["-o", a, "-n", String(frames), "-P", rate === "max" ? "1" : "2", "-C"];
    if (rate !== "max") args.push("-b", `${rate}pps`);
    const t0 = performance.now();
    const tg = await new Deno.Command("ip", {
      args: ["netns", "exec", lab.nsA, "timeout", "60", "trafgen", ...args, packet],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const secs = (performance.now() - t0) / 1000;
    const tgOut = new TextDecoder().decode(tg.stdout);
    const sent = Number(/(\d+) packets outgoing/.exec(tgOut)?.[1] ?? NaN);
    await sleep(2000); // let both drain what is queued
    const rx = rxPackets(lab, b) - rx0;
    const cpuNm = cpuSeconds(netmon.pid) - cpuNm0;
    const cpuTd = cpuSeconds(tcpdump.pid) - cpuTd0;
    signal(netmon, "SIGINT");
    signal(tcpdump, "SIGINT");
    const nm = summary(await collect(netmon, 60_000));
    const td = summary(await collect(tcpdump, 30_000));
    return { rate, sent, secs, rx, nm, td, cpuNm, cpuTd };
  } finally {
    signal(netmon, "SIGKILL");
    signal(tcpdump, "SIGKILL");
    await netmon.status;
    await tcpdump.status;
  }
}

/** CPU microseconds per captured frame. */
const perFrame = (cpu: number, frames: number): string =>
  frames > 0 ? (cpu * 1e6 / frames).toFixed(2) : "-";

/** One stage run: bench/_live_stages.ts on the receiving end of a rate-limited flood. */
async function runStage(
  lab: Lab,
  a: string,
  b: string,
  mode: string,
  frames: number,
  rate: number,
) {
  const ix = lab.ifindex(lab.nsB, b);
  const p = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      lab.nsB,
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}bench/_live_stages.ts`,
      b,
      mode,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    await waitFor("the stage probe's socket", () => lab.packetSockets(lab.nsB, ix) >= 1, 30_000);
    const packet = `{ eth(da=${lab.mac(lab.nsB, b)}, sa=${lab.mac(lab.nsA, a)}), ` +
      `ipv4(saddr=10.90.0.1, daddr=10.90.0.99, ttl=1), udp(sp=1000, dp=2000), fill(0x41, 18) }`;
    await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lab.nsA,
        "timeout",
        "60",
        "trafgen",
        "-o",
        a,
        "-n",
        String(frames),
        "-P",
        "2",
        "-C",
        "-b",
        `${rate}pps`,
        packet,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    await sleep(2000);
    signal(p, "SIGINT");
    const err = await collect(p, 30_000);
    const line = err.trim().split("\n").pop() ?? "{}";
    return JSON.parse(line) as { mode: string; frames: number; cpu: number; drops: number };
  } finally {
    signal(p, "SIGKILL");
    await p.status;
  }
}

if (!isRoot() || !have("trafgen") || !have("tcpdump")) {
  console.log("live capture benchmark skipped: needs root, trafgen (netsniff-ng) and tcpdump");
  Deno.exit(0);
}

const lab = new Lab();
const rows: string[] = [];
const stages: string[] = [];
try {
  lab.create();
  const v = lab.veth("f", "10.90.0");
  await sleep(1000);
  for (const rate of RATES) {
    console.error(`live bench: ${rate === "max" ? "max" : rate + " frames/s"} ...`);
    const r = await runRate(lab, v.a, v.b, rate);
    const achieved = `${Math.round(r.sent / r.secs / 1000)}k/s`;
    const offered = rate === "max" ? `max (${achieved})` : `${rate / 1000}k/s (${achieved})`;
    rows.push(
      `| ${offered} | ${r.sent} | ${r.rx} | ${r.nm.captured} | ${r.nm.received} | ${r.nm.dropped} | ` +
        `${r.td.captured} | ${r.td.received} | ${r.td.dropped} | ` +
        `${perFrame(r.cpuNm, r.nm.captured)} | ${perFrame(r.cpuTd, r.td.captured)} |`,
    );
  }
  // Where netmon's time goes: the same flood read by one stage at a time.
  if (Deno.env.get("BENCH_STAGES") !== "0") {
    for (const mode of ["ring", "decode", "json"]) {
      console.error(`live bench: stage ${mode} ...`);
      const r = await runStage(lab, v.a, v.b, mode, 100_000 * SECONDS, 100_000);
      stages.push(`| ${mode} | ${r.frames} | ${r.drops} | ${perFrame(r.cpu, r.frames)} |`);
    }
  }
} finally {
  lab.destroy();
}
const mode = Deno.env.get("NETMON_LIVE_RECVMMSG") === "1" ? "recvmmsg fallback" : "TPACKET_V3 ring";
console.log(
  [
    `Live capture (${mode}, ${SECONDS} s per rate, 60-byte UDP frames over a veth, 64 MiB buffer each)`,
    "",
    "| offered (achieved) | trafgen sent | reached interface | netmon captured | netmon recv by filter | netmon dropped | " +
    "tcpdump captured | tcpdump recv by filter | tcpdump dropped | netmon CPU µs/frame | tcpdump CPU µs/frame |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    ...(stages.length === 0 ? [] : [
      "",
      `CPU per frame by stage (in one process, ${SECONDS} s at 100k frames/s)`,
      "",
      "| stages | frames | dropped | CPU µs/frame |",
      "|---|---|---|---|",
      ...stages,
    ]),
  ].join("\n"),
);
