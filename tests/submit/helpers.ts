/** Helpers for the shipping tests: synthetic captures, `netmon serve` as a subprocess, checks. */
import { MAIN } from "../helpers/run.ts";
import type { ServerStats } from "../../src/server/server.ts";

/**
 * Writes a classic pcap of `n` Ethernet/IPv4/UDP frames, 10.0.x.y -> 10.1.0.1, with
 * `flows` distinct source ports (so the flow tracker sees that many flows).
 */
export async function writeUdpPcap(path: string, n: number, flows = 16): Promise<void> {
  const FRAME = 14 + 20 + 8 + 16;
  const buf = new Uint8Array(24 + n * (16 + FRAME));
  const v = new DataView(buf.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 1, true);
  let o = 24;
  const t0 = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    v.setUint32(o, t0 + Math.floor(i / 1000), true);
    v.setUint32(o + 4, (i % 1000) * 1000, true);
    v.setUint32(o + 8, FRAME, true);
    v.setUint32(o + 12, FRAME, true);
    o += 16;
    buf.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], o);
    const ip = o + 14;
    buf[ip] = 0x45;
    v.setUint16(ip + 2, 20 + 8 + 16);
    v.setUint16(ip + 4, i & 0xffff);
    buf[ip + 8] = 64;
    buf[ip + 9] = 17;
    const f = i % flows;
    buf.set([10, 0, (f >> 8) & 0xff, f & 0xff, 10, 1, 0, 1], ip + 12);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += v.getUint16(ip + k);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(ip + 10, ~sum & 0xffff);
    const udp = ip + 20;
    v.setUint16(udp, 40000 + (i % flows));
    v.setUint16(udp + 2, 9999);
    v.setUint16(udp + 4, 8 + 16);
    v.setUint16(udp + 6, 0);
    for (let k = 0; k < 16; k++) buf[udp + 8 + k] = (i + k) & 0xff;
    o += FRAME;
  }
  await Deno.writeFile(path, buf);
}

/** A `netmon serve` subprocess. */
export class ServeProcess {
  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly db: string,
    readonly log: string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /**
   * Starts `netmon serve --listen 127.0.0.1:PORT --db DB` (or `--store` for a clickhouse://
   * URL) and waits until it listens. `opts.prefix` runs it under another command (e.g.
   * `prlimit --nofile=64 --`).
   */
  static async start(
    db: string,
    port = 0,
    extra: string[] = [],
    opts: { prefix?: string[]; env?: Record<string, string> } = {},
  ): Promise<ServeProcess> {
    const argv = [
      ...(opts.prefix ?? []),
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      "serve",
      "--listen",
      `127.0.0.1:${port}`,
      ...(db.startsWith("clickhouse://") ? ["--store", db] : ["--db", db]),
      ...extra,
    ];
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: opts.env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log: string[] = [];
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const deadline = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 30_000);
    let found = 0;
    while (found === 0) {
      const { done, value } = await reader.read();
      if (done) break;
      buf += value;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(buf);
      if (m) found = Number(m[1]);
    }
    clearTimeout(deadline);
    if (found === 0) {
      await child.status;
      throw new Error(`netmon serve did not start:\n${buf}`);
    }
    log.push(buf);
    // Keep reading stderr so the child never blocks on a full pipe.
    (async () => {
      try {
        while (true) {
          const { done, value } = await reader.read();
          if (done) break;
          log.push(value);
        }
      } catch { /* closed */ }
    })();
    return new ServeProcess(child, found, db, log);
  }

  /** Stops the server (SIGTERM, or SIGKILL to simulate a crash) and waits for it. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    await this.child.status;
  }

  async stats(): Promise<ServerStats> {
    const r = await fetch(`${this.url}api/stats`);
    return await r.json();
  }

  /** Every stored record's envelope, paging through /api/records. */
  async envelopes(): Promise<Env[]> {
    return await fetchEnvelopes(this.url);
  }
}

export interface Env {
  Record_Type: string;
  Agent_ID: string;
  Run_ID: string;
  Sequence: number;
  Batch: number;
}

export async function fetchEnvelopes(base: string): Promise<Env[]> {
  const out: Env[] = [];
  let after = 0;
  while (true) {
    const r = await fetch(`${base}api/records?limit=10000&after=${after}`);
    const page = await r.json() as { records: { record: { Netmon: Env } }[]; next: number };
    if (!Array.isArray(page.records)) throw new Error(`page ${r.status}: ${JSON.stringify(page)}`);
    for (const x of page.records) out.push(x.record.Netmon);
    if (page.records.length === 0) break;
    after = page.next;
  }
  return out;
}

/** Per run: how many records, duplicates (same sequence twice), and the highest sequence. */
export function tally(envs: Env[]): Map<string, { count: number; dups: number; max: number }> {
  const seen = new Map<string, Set<number>>();
  const out = new Map<string, { count: number; dups: number; max: number }>();
  for (const e of envs) {
    let s = seen.get(e.Run_ID);
    let t = out.get(e.Run_ID);
    if (!s || !t) {
      s = new Set();
      t = { count: 0, dups: 0, max: 0 };
      seen.set(e.Run_ID, s);
      out.set(e.Run_ID, t);
    }
    if (s.has(e.Sequence)) t.dups++;
    else s.add(e.Sequence);
    t.count++;
    t.max = Math.max(t.max, e.Sequence);
  }
  return out;
}

/** The numbers an agent's summary line reports. */
export function summaryNumbers(
  stderr: string,
): { accepted: number; shipped: number; waiting: number } {
  const accepted = Number(
    /; (\d+) records accepted/.exec(stderr)?.[1] ?? /(\d+) records accepted/.exec(stderr)?.[1] ??
      -1,
  );
  const shipped = Number(/shipped (\d+) records/.exec(stderr)?.[1] ?? -1);
  const waiting = Number(/(\d+) records waiting in spool/.exec(stderr)?.[1] ?? 0);
  return { accepted, shipped, waiting };
}

/** Starts `netmon capture ...` as a subprocess (for tests that kill it). */
export function spawnNetmon(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}
