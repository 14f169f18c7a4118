/** The in-process shipper rig shared by the shipper tests: settings, logger, pushes, checks. */
import assert from "node:assert/strict";
import { ShipperCore } from "../../src/submit/shipper.ts";
import { Spool } from "../../src/submit/spool.ts";
import { defaultSettings, type Settings } from "../../src/config/settings.ts";
import type { Logger } from "../../src/log/mod.ts";
import { FakeServer, type Script } from "./fake_server.ts";

export interface Rig {
  shipper: ShipperCore;
  dir: string;
  logs: string[];
}

/** A logger that keeps `level: message` lines. */
export function memLogger(lines: string[]): Logger {
  const put = (lv: string) => (m: string) => void lines.push(`${lv}: ${m}`);
  return {
    debug: put("debug"),
    info: put("info"),
    warn: put("warn"),
    error: put("error"),
    close: () => Promise.resolve(),
  };
}

/** Test settings: small batches, short timers; `over` replaces any of them. */
export function rigSettings(url: string, dir: string, over: Partial<Settings> = {}): Settings {
  return {
    ...defaultSettings(),
    serverUrl: url,
    spoolDir: dir,
    batchRecords: 50,
    batchSeconds: 0.05,
    retryInterval: 0.1,
    graceSeconds: 60,
    ...over,
  };
}

export async function rig(
  url: string,
  dir: string,
  over: Partial<Settings> = {},
  runId = "run1",
): Promise<Rig> {
  const s = rigSettings(url, dir, over);
  const logs: string[] = [];
  const log = memLogger(logs);
  const spool = await Spool.open(dir, s.spoolMaxBytes, log);
  return { shipper: new ShipperCore(s, log, spool, { agentId: "ag", runId }), dir, logs };
}

export async function pushAll(sh: ShipperCore, n: number, chunk = 100): Promise<void> {
  for (let i = 0; i < n; i++) {
    assert.equal(sh.push({ UDP: { Source_Port: i } }), true);
    if (i % chunk === chunk - 1) await sh.ready();
  }
}

/** Sequences 1..n of `run` (any run when omitted) each stored exactly once, except `missing`. */
export function assertExactlyOnce(
  srv: { stored: { Run_ID: string; Sequence: number }[] },
  n: number,
  missing: Set<number> = new Set(),
  run?: string,
) {
  const seen = new Map<number, number>();
  for (const e of srv.stored) {
    if (run !== undefined && e.Run_ID !== run) continue;
    seen.set(e.Sequence, (seen.get(e.Sequence) ?? 0) + 1);
  }
  const dups = [...seen].filter(([, c]) => c > 1).map(([s]) => s);
  assert.deepEqual(dups, [], "duplicates");
  const lost: number[] = [];
  for (let i = 1; i <= n; i++) if (!seen.has(i) && !missing.has(i)) lost.push(i);
  assert.deepEqual(lost, [], "lost");
}

export async function withRig(
  script: Script,
  fn: (srv: FakeServer, dir: string) => Promise<void>,
): Promise<void> {
  const srv = new FakeServer(script);
  const dir = await Deno.makeTempDir({ prefix: "netmon-ship-" });
  try {
    await fn(srv, dir);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

export async function spoolEmpty(dir: string): Promise<boolean> {
  const info = await Spool.inspect(dir);
  return info.segments.every((s) => s.records === 0);
}

/** Records waiting in a spool as `Spool.inspect` (what `spool status` uses) counts them. */
export async function spoolRecords(dir: string): Promise<number> {
  const info = await Spool.inspect(dir);
  return info.segments.reduce((a, s) => a + s.records, 0);
}

/** The numbers of the summary's balance line (asserting that they add up). */
export function balance(summary: string) {
  const m =
    /records: (\d+) from earlier runs \+ (\d+) accepted = (\d+) shipped \+ (\d+) refused as bad \+ (\d+) waiting \+ (\d+) dropped/
      .exec(summary);
  assert.ok(m, `no balance line in:\n${summary}`);
  const [earlier, accepted, shipped, dead, waiting, dropped] = m.slice(1).map(Number);
  assert.equal(earlier + accepted, shipped + dead + waiting + dropped, "the balance adds up");
  return { earlier, accepted, shipped, dead, waiting, dropped };
}
