/**
 * Cost of process attribution: the same UDP flood (trafgen, 60-byte frames, 100 flows to a
 * socket bound in the receiving namespace, 100k frames/s) captured by two netmon processes
 * side by side on one veth, one with `--no-processes`, one with attribution on, while 10,000
 * sockets are open in that namespace (5,000 loopback TCP connections held by one process).
 * Reports CPU time per captured frame for both (the ratio is the cost, target at most +5%),
 * and the attributing one's own figures: lookup latency, socket queries, full rescans per
 * minute. Two configurations: packet records as JSON, and flow records only; each pair runs
 * BENCH_REPEAT (3) times and the median cost is shown (the machine may be shared).
 *
 * Usage: deno run -A bench/process.ts [seconds]   (root, trafgen, python3)
 */
import { Lab, signal, sleep, waitFor } from "../tests/live/netns.ts";
import { have, isRoot } from "../tests/helpers/run.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const SECONDS = Number(Deno.args[0] ?? 10);
const RATE = 100_000;
const SOCKET_PAIRS = 5000;
/** Pairs run per output mode; the table shows the median (the machine may be shared). */
const REPEAT = Number(Deno.env.get("BENCH_REPEAT") ?? 3);

function cpuSeconds(pid: number): number {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

const HOLDER = `
import socket, resource, sys, time, select
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 30000), hard))
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4096)
keep = []
for i in range(${SOCKET_PAIRS}):
    c = socket.socket(); c.connect(srv.getsockname()); a, _ = srv.accept(); keep += [c, a]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.90.0.2", 2000))
print(len(keep) + 2, flush=True)
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    r, _, _ = select.select([sys.stdin], [], [], 1.0)
    if r and not sys.stdin.read(1): break
`;

interface Run {
  frames: number;
  cpu: number;
  summary: string;
}

function captured(stderr: string): number {
  return Number(/^(\d+) packets? captured$/m.exec(stderr)?.[1] ?? NaN);
}

async function runPair(lab: Lab, a: string, b: string, mode: string[]): Promise<[Run, Run]> {
  const spawn = (extra: string[], prof: string[] = []) =>
    new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lab.nsB,
        Deno.execPath(),
        "run",
        ...prof,
        "-A",
        `${ROOT}main.ts`,
        "capture",
        "-i",
        b,
        "--buffer-mb",
        "64",
        ...mode,
        ...extra,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  const off = spawn(["--no-processes"]);
  // BENCH_PROFILE=DIR: a V8 CPU profile (and its markdown summary) of the attributing one.
  const profDir = Deno.env.get("BENCH_PROFILE");
  const on = spawn(
    ["--processes", "--log-level", "info"],
    profDir ? ["--cpu-prof-dir", profDir, "--cpu-prof-md"] : [],
  );
  try {
    const ix = lab.ifindex(lab.nsB, b);
    // Three packet sockets: one capture each, plus the SYN tap of the attributing one.
    await waitFor("capture sockets", () => lab.packetSockets(lab.nsB, ix) >= 3, 60_000);
    await sleep(1000);
    const c0 = [cpuSeconds(off.pid), cpuSeconds(on.pid)];
    const packet = `{ eth(da=${lab.mac(lab.nsB, b)}, sa=${lab.mac(lab.nsA, a)}), ` +
      `ipv4(saddr=10.90.0.1, daddr=10.90.0.2, ttl=64), udp(sp=dinc(1000, 1099), dp=2000), fill(0x41, 18) }`;
    await new Deno.Command("ip", {
      args: [
        "netns",
        "exec",
        lab.nsA,
        "timeout",
        "120",
        "trafgen",
        "-o",
        a,
        "-n",
        String(RATE * SECONDS),
        "-P",
        "2",
        "-C",
        "-b",
        `${RATE}pps`,
        packet,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    await sleep(2000);
    const cpu = [cpuSeconds(off.pid) - c0[0], cpuSeconds(on.pid) - c0[1]];
    signal(off, "SIGINT");
    signal(on, "SIGINT");
    const [eo, en] = await Promise.all([off.output(), on.output()]);
    const dec = new TextDecoder();
    const so = dec.decode(eo.stderr), sn = dec.decode(en.stderr);
    return [
      { frames: captured(so), cpu: cpu[0], summary: so },
      { frames: captured(sn), cpu: cpu[1], summary: sn },
    ];
  } finally {
    signal(off, "SIGKILL");
    signal(on, "SIGKILL");
  }
}

if (!isRoot() || !have("trafgen") || !have("python3")) {
  console.log("process attribution benchmark skipped: needs root, trafgen (netsniff-ng), python3");
  Deno.exit(0);
}

const lab = new Lab();
const rows: string[] = [];
const notes: string[] = [];
let holder: Deno.ChildProcess | null = null;
try {
  lab.create();
  const v = lab.veth("p", "10.90.0");
  // A file, not -c: the command line is part of every attributed record.
  const holderFile = Deno.makeTempFileSync({ prefix: "netmon-bench-", suffix: ".py" });
  Deno.writeTextFileSync(holderFile, HOLDER);
  holder = new Deno.Command("ip", {
    args: ["netns", "exec", lab.nsB, "python3", holderFile],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const sockets = Number((await reader.read()).value?.trim());
  reader.releaseLock();
  await sleep(1000);
  for (
    const [label, mode] of [["packets as JSON", ["--json"]], ["flows only", [
      "--flows-only",
      "--json",
    ]]] as const
  ) {
    const per = (r: Run) => (r.cpu * 1e6 / r.frames);
    const runs: { off: Run; on: Run; cost: number }[] = [];
    for (let i = 0; i < REPEAT; i++) {
      console.error(`process bench: ${label} (${i + 1}/${REPEAT}) ...`);
      const [off, on] = await runPair(lab, v.a, v.b, [...mode]);
      runs.push({ off, on, cost: (per(on) / per(off) - 1) * 100 });
    }
    const costs = runs.map((r) => `${r.cost.toFixed(1)}%`).join(", ");
    runs.sort((x, y) => x.cost - y.cost);
    const { off, on, cost } = runs[Math.floor(runs.length / 2)];
    rows.push(
      `| ${label} | ${off.frames} | ${per(off).toFixed(3)} | ${on.frames} | ${
        per(on).toFixed(3)
      } | ${cost >= 0 ? "+" : ""}${cost.toFixed(1)}% | ${costs} |`,
    );
    for (const l of on.summary.split("\n")) if (/processes:/.test(l)) notes.push(`${label}: ${l}`);
    const own = Number(/(\d+) ms CPU in all/.exec(on.summary)?.[1] ?? NaN);
    notes.push(
      `${label}: the resolver's own CPU over the whole run (start-up scans and dump included): ` +
        `${own} ms = ${(own * 1000 / on.frames).toFixed(3)} µs per frame`,
    );
  }
  notes.unshift(`sockets open in the capturing namespace: ${sockets}`);
} finally {
  if (holder) {
    try {
      await holder.stdin.close();
    } catch { /* closed */ }
    signal(holder, "SIGKILL");
    await holder.status;
  }
  lab.destroy();
}
console.log(
  [
    `Process attribution cost (${SECONDS} s at ${
      RATE / 1000
    }k frames/s of 60-byte UDP, 100 flows, ` +
    `${SOCKET_PAIRS * 2} sockets open; two captures side by side; load: ${
      Deno.loadavg().map((x) => x.toFixed(2)).join(" ")
    })`,
    "",
    "| output | frames (--no-processes) | CPU µs/frame | frames (attribution) | CPU µs/frame | cost (median) | every run |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...notes.map((n) => `- ${n}`),
  ].join("\n"),
);
