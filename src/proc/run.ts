/**
 * `netmon proc` orchestration: validates the pid, then either streams tab documents
 * (`--once`, `--count`, `--json`, or output not to a terminal) or hands over to the
 * interactive view in src/ui/live.ts.
 *
 * @module
 */
import { RuntimeFailure, UsageError } from "../errors.ts";
import { tabLines } from "../ui/columns.ts";
import { writeAllSync } from "../ui/terminal.ts";
import { escapeControl } from "../output/escape.ts";
import { type NetFile, processGone, readNetFile, readOwnSockets, readStat } from "./read.ts";
import type { ProcStat } from "./stat.ts";
import {
  RATE_FILES,
  type Snapshot,
  SOCKET_TABS,
  TAB_FILES,
  type TabDoc,
  TabModel,
  type TabName,
} from "./tabs.ts";

export interface ProcOptions {
  pid: number;
  tab: TabName;
  /** Seconds between refreshes. */
  interval: number;
  /** Number of refreshes; undefined = until the process exits or the user quits. */
  count?: number;
  json: boolean;
  ownOnly: boolean;
  /** Force streaming output even on a terminal (set by --once / --count / --json). */
  stream: boolean;
}

/** Validates a pid argument as typed by the user; throws a one-line UsageError. */
export function parsePid(arg: string | undefined): number {
  if (arg === undefined || arg.trim() === "") {
    throw new UsageError("proc: give the process id to watch, e.g. netmon proc 1234");
  }
  const s = arg.trim();
  if (/^-\d+$/.test(s)) throw new UsageError(`proc: process id must be positive, got '${arg}'`);
  if (!/^\d+$/.test(s)) throw new UsageError(`proc: process id must be a number, got '${arg}'`);
  const pid = Number(s);
  if (pid < 1 || pid > 4194304) throw new UsageError(`proc: process id out of range: ${arg}`);
  return pid;
}

/** The stat line of a live process, or a UsageError (exit 2) when there is none. */
export function requireProcess(pid: number): ProcStat {
  const st = readStat(pid);
  if (!st) throw new UsageError(`proc: no such process: ${pid}`);
  if (st.state === "Z" || st.state === "X") {
    throw new UsageError(`proc: process ${pid} is a zombie`);
  }
  return st;
}

/** Reads the files a refresh needs. */
export function readSnapshot(pid: number, files: Iterable<NetFile>): Snapshot {
  const snap: Snapshot = {
    files: {},
    own: { inodes: new Set(), denied: false },
    at: performance.now(),
  };
  for (const f of new Set(files)) snap.files[f] = readNetFile(pid, f);
  return snap;
}

/** Files for a refresh of `tab` (plus the rate files when `withRates`). */
export function filesFor(tab: TabName, withRates: boolean): NetFile[] {
  return withRates ? [...TAB_FILES[tab], ...RATE_FILES] : TAB_FILES[tab];
}

/** Takes one refresh: snapshot, own sockets, then checks the process is still the same. */
export function refresh(
  pid: number,
  start: ProcStat,
  tab: TabName,
  model: TabModel,
  opts: { ownOnly: boolean; withRates: boolean },
): { doc: TabDoc; gone: string | null } {
  const snap = readSnapshot(pid, filesFor(tab, opts.withRates));
  if (SOCKET_TABS.has(tab)) snap.own = readOwnSockets(pid);
  // Checked after reading so that rows from a reused pid or a dying process are never shown.
  const gone = processGone(pid, start.startTime);
  model.observe(snap);
  return { doc: model.build(tab, snap, { ownOnly: opts.ownOnly }), gone };
}

/** Plain-text rendering of one refresh (no escape codes). */
export function textReport(start: ProcStat, doc: TabDoc): string {
  const head = `pid ${start.pid} (${
    escapeControl(start.comm)
  })  tab: ${doc.tab}  rows: ${doc.rows.length}`;
  return [head, ...(doc.notes ?? []).map((n) => `note: ${n}`), ...tabLines(doc)].join("\n") + "\n";
}

const enc = new TextEncoder();

/** Streams `count` refreshes to stdout; returns the exit code. */
export async function streamProc(o: ProcOptions, start: ProcStat): Promise<number> {
  const model = new TabModel();
  for (let i = 0; o.count === undefined || i < o.count; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, o.interval * 1000));
    const { doc, gone } = refresh(o.pid, start, o.tab, model, {
      ownOnly: o.ownOnly,
      withRates: false,
    });
    if (gone) throw new RuntimeFailure(`proc: ${gone}`);
    const out = o.json ? JSON.stringify(doc) + "\n" : (i > 0 ? "\n" : "") + textReport(start, doc);
    writeAllSync(Deno.stdout, enc.encode(out));
  }
  return 0;
}

/** Entry point used by src/cli/proc.ts. */
export async function runProc(o: ProcOptions): Promise<number> {
  const start = requireProcess(o.pid);
  const interactive = !o.stream && Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  if (!interactive) return await streamProc(o, start);
  const { runLive } = await import("../ui/live.ts");
  return await runLive(o, start);
}
