/**
 * Shipping benchmark:
 *  1. records/s end to end: `netmon capture -r big.pcap --server URL` into `netmon serve`
 *     (subprocess, SQLite) and, where Debian's clickhouse-server is installed, into a
 *     throwaway ClickHouse with `--format clickhouse`. Rate = records accepted by the
 *     agent / agent wall time (process start included); the server's count is checked.
 *  2. Agent RSS during an outage under load: the server URL points at a closed port, the
 *     agent replays a 4x copy of big.pcap (1M frames) into the spool (cap 512 MiB, so
 *     the oldest segments are dropped and counted near the end); RSS and spool size are
 *     sampled every 250 ms. Run twice: default V8 flags, and with a 2 MiB young
 *     generation semi-space (--v8-flags=--max-semi-space-size=2), which is where most
 *     of the difference to the 200 MB target sits.
 *
 * Usage: deno run -A bench/submit.ts [frames=250000]   (markdown tables on stdout)
 */
import { BIG, DEFAULT_FRAMES, generateBenchPcap, OUT_DIR } from "./gen_pcap.ts";
import { ServeProcess } from "../tests/submit/helpers.ts";
import { ClickHouse, clickHouseMissing } from "../tests/submit/clickhouse_server.ts";
import { clickHouseDdl } from "../src/submit/clickhouse.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const OUTAGE = `${OUT_DIR}outage.pcap`;
const OUTAGE_COPIES = 4;

function kib(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.startsWith("seg-")) n += Deno.statSync(`${dir}/${e.name}`).size;
    }
  } catch { /* not yet */ }
  return n;
}

interface AgentRun {
  code: number;
  seconds: number;
  accepted: number;
  shipped: number;
  waiting: number;
  peakRssMb: number;
  samples: { t: number; rssMb: number; spoolMb: number }[];
  stderr: string;
}

/** Runs the agent, sampling its RSS (and the spool size) every 250 ms. */
async function agent(args: string[], spool: string, v8: string[] = []): Promise<AgentRun> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...v8, "-A", MAIN, "capture", ...args, "--spool", spool],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const samples: AgentRun["samples"] = [];
  let peak = 0;
  const timer = setInterval(() => {
    const hwm = kib(child.pid, "VmHWM");
    if (hwm > peak) peak = hwm;
    samples.push({
      t: (performance.now() - t0) / 1000,
      rssMb: kib(child.pid, "VmRSS") / 1024,
      spoolMb: dirBytes(spool) / 1048576,
    });
  }, 250);
  const out = await child.output();
  clearInterval(timer);
  const stderr = new TextDecoder().decode(out.stderr);
  const num = (re: RegExp) => Number(re.exec(stderr)?.[1] ?? 0);
  return {
    code: out.code,
    seconds: (performance.now() - t0) / 1000,
    accepted: num(/(\d+) records accepted/),
    shipped: num(/shipped (\d+) records/),
    waiting: num(/(\d+) records waiting in spool/),
    peakRssMb: peak / 1024,
    samples,
    stderr,
  };
}

function outagePcap(): void {
  const b = Deno.readFileSync(BIG);
  const f = Deno.openSync(OUTAGE, { write: true, create: true, truncate: true });
  f.writeSync(b);
  for (let i = 1; i < OUTAGE_COPIES; i++) {
    let off = 0;
    const body = b.subarray(24);
    while (off < body.length) off += f.writeSync(body.subarray(off));
  }
  f.close();
}

const frames = Number(Deno.args[0] ?? DEFAULT_FRAMES);
try {
  Deno.statSync(BIG);
} catch {
  console.error(`generating ${BIG} (${frames} frames)`);
  generateBenchPcap(BIG, frames);
}
const tmp = await Deno.makeTempDir({ prefix: "netmon-bench-submit-" });
const rows: string[] = [];
const rowsNote: string[] = [];
try {
  // 1a. netmon serve
  const srv = await ServeProcess.start(`${tmp}/bench.sqlite`);
  try {
    const r = await agent(["-r", BIG, "--server", srv.url], `${tmp}/spool-serve`);
    const st = await srv.stats();
    if (r.code !== 0) throw new Error(`agent failed:\n${r.stderr}`);
    const serverRss = kib(srv.child.pid, "VmHWM") / 1024;
    rows.push(
      `| netmon serve (ndjson, SQLite WAL) | ${r.accepted} | ${r.seconds.toFixed(1)} | ` +
        `${(r.accepted / r.seconds).toFixed(0)} | ${
          st.records === r.accepted ? "yes" : `no (${st.records})`
        } | ` +
        `${r.peakRssMb.toFixed(0)} | ${serverRss.toFixed(0)} |`,
    );
  } finally {
    await srv.stop();
  }
  // 1b. A server that reads and discards: the agent's own ceiling.
  {
    let n = 0;
    const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
      const t = await req.text();
      for (let i = t.indexOf("\n"); i >= 0; i = t.indexOf("\n", i + 1)) n++;
      return new Response('{"stored":1}');
    });
    try {
      const url = `http://127.0.0.1:${sink.addr.port}/`;
      for (const fmt of ["ndjson", "clickhouse"]) {
        n = 0;
        const r = await agent(
          ["-r", BIG, "--server", url, "--format", fmt],
          `${tmp}/spool-sink-${fmt}`,
        );
        if (r.code !== 0) throw new Error(`agent failed:\n${r.stderr}`);
        rows.push(
          `| discard server, format ${fmt} (agent ceiling) | ${r.accepted} | ${
            r.seconds.toFixed(1)
          } | ` +
            `${(r.accepted / r.seconds).toFixed(0)} | ${
              n === r.accepted ? "yes" : `no (${n})`
            } | ` +
            `${r.peakRssMb.toFixed(0)} | - |`,
        );
      }
    } finally {
      await sink.shutdown();
    }
  }
  // 1c. ClickHouse
  const missing = clickHouseMissing();
  if (missing) {
    rowsNote.push(`ClickHouse: skipped (${missing}).`);
  } else {
    const ch = await ClickHouse.start();
    try {
      await ch.query("CREATE DATABASE IF NOT EXISTS netmon");
      await ch.query(clickHouseDdl("netmon.records"));
      const r = await agent(
        ["-r", BIG, "--server", ch.url, "--format", "clickhouse"],
        `${tmp}/spool-ch`,
      );
      if (r.code !== 0) throw new Error(`agent failed:\n${r.stderr}`);
      const n = Number((await ch.query("SELECT count() FROM netmon.records")).trim());
      const version = (await ch.query("SELECT version()")).trim();
      rows.push(
        `| ClickHouse ${version} (format clickhouse) | ${r.accepted} | ${r.seconds.toFixed(1)} | ` +
          `${(r.accepted / r.seconds).toFixed(0)} | ${n === r.accepted ? "yes" : `no (${n})`} | ` +
          `${r.peakRssMb.toFixed(0)} | - |`,
      );
    } finally {
      await ch.stop();
    }
  }
  console.log(
    "| target | records | agent s | records/s | all stored once | agent peak RSS MB | server peak RSS MB |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  for (const n of rowsNote) console.log(`\n${n}`);

  // 2. Outage under load, with V8's default young generation and with a small one.
  outagePcap();
  for (const v8 of [[], ["--v8-flags=--max-semi-space-size=2"]]) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const spool = `${tmp}/spool-outage`;
    const r = await agent(
      [
        "-r",
        OUTAGE,
        "--server",
        `http://127.0.0.1:${port}/`,
        "--retry-interval",
        "1",
        "--grace",
        "1",
        "--spool-max-bytes",
        String(512 * 1024 * 1024),
      ],
      spool,
      v8,
    );
    await Deno.remove(spool, { recursive: true }).catch(() => {});
    if (r.code !== 0) throw new Error(`agent failed:\n${r.stderr}`);
    const dropped = Number(/(\d+) at the spool size cap/.exec(r.stderr)?.[1] ?? 0);
    console.log(
      `\nOutage under load (deno run ${v8.join(" ") || "(default V8 flags)"}): server down ` +
        `(closed port), ${OUTAGE_COPIES}x big.pcap replayed into the spool (cap 512 MiB): ` +
        `${r.accepted} records in ${r.seconds.toFixed(1)} s ` +
        `(${
          (r.accepted / r.seconds).toFixed(0)
        } records/s), ${r.waiting} waiting, ${dropped} dropped ` +
        `at the cap; agent peak RSS ${r.peakRssMb.toFixed(0)} MB.\n`,
    );
    console.log("| t (s) | spool MB | agent RSS MB |");
    console.log("|---|---|---|");
    const step = Math.max(1, Math.floor(r.samples.length / 10));
    for (let i = 0; i < r.samples.length; i += step) {
      const s = r.samples[i];
      console.log(`| ${s.t.toFixed(1)} | ${s.spoolMb.toFixed(0)} | ${s.rssMb.toFixed(0)} |`);
    }
  }
} finally {
  await Deno.remove(tmp, { recursive: true });
  await Deno.remove(OUTAGE).catch(() => {});
}
