/**
 * `netmon proc` orchestration: finds the process (a pid, or `--name` like pgrep), then either
 * streams tab documents (`--once`, `--count`, `--json`, or output not to a terminal) or runs
 * the terminal view (src/ui/live.ts) on a {@link ProcSource}. src/ui never imports this
 * folder: it gets its rows through the ViewSource interface.
 *
 * @module
 */
import { RuntimeFailure, UsageError } from "../errors.ts";
import { runLive } from "../ui/live.ts";
import type { Key } from "../ui/keys.ts";
import type { RowContext, Screen, SourceAction, ViewSource } from "../ui/source.ts";
import { writeAllSync } from "../ui/terminal.ts";
import { listDir } from "../../ffi/procfs.ts";
import { tabLines } from "./columns.ts";
import { readStat } from "./read.ts";
import { escapeControl } from "../output/escape.ts";
import type { ProcStat } from "./stat.ts";
import { type TabDoc, TabModel, type TabName } from "./tabs.ts";
import { refresh } from "./snapshot.ts";
import { TargetNetns } from "./netns.ts";
import { ProcSource } from "./view.ts";

export interface ProcOptions {
  /** The pid, or null when `name` picks the process. */
  pid: number | null;
  /** A pgrep pattern (regular expression on the process name). */
  name?: string;
  tab: TabName;
  /** Seconds between refreshes. */
  interval: number;
  /** Number of refreshes; undefined = until the process exits or the user quits. */
  count?: number;
  json: boolean;
  ownOnly: boolean;
  /** Force streaming output even on a terminal (set by --once / --count / --json). */
  stream: boolean;
  /** Skip the instructions screen. */
  noIntro?: boolean;
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

/** A process found by name. */
export interface NameMatch {
  pid: number;
  name: string;
  command: string;
}

/** The command line of `pid` (arguments joined by spaces), or `[comm]` when it has none. */
export function commandOf(pid: number, comm: string): string {
  try {
    const parts = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((p) => p !== "");
    return parts.length > 0 ? parts.join(" ") : `[${comm}]`;
  } catch {
    return `[${comm}]`;
  }
}

/**
 * Processes whose name (/proc/<pid>/comm, as pgrep matches it) matches the extended
 * regular expression `pattern`, netmon itself excluded, lowest pid first.
 */
export function findByName(pattern: string, root = "/proc"): NameMatch[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch {
    throw new UsageError(`proc: --name: not a regular expression: '${pattern}'`);
  }
  const out: NameMatch[] = [];
  for (const p of listDir(root) ?? []) {
    if (!/^\d+$/.test(p)) continue;
    const pid = Number(p);
    if (pid === Deno.pid) continue;
    const st = readStat(pid, root);
    if (st === null || st.state === "Z" || st.state === "X") continue;
    if (!re.test(st.comm)) continue;
    out.push({ pid, name: st.comm, command: commandOf(pid, st.comm) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** The one-line error for several matches where no list can be shown. */
export function ambiguous(pattern: string, m: NameMatch[]): UsageError {
  const shown = m.slice(0, 8).map((x) => `${x.pid} (${x.command.slice(0, 40)})`).join(", ");
  return new UsageError(
    `proc: ${m.length} processes match '${pattern}': ${shown}${m.length > 8 ? ", ..." : ""}; ` +
      "give one pid, or a pattern only one matches",
  );
}

/** Plain-text rendering of one refresh (no escape codes). */
export function textReport(start: ProcStat, doc: TabDoc): string {
  const head = `pid ${start.pid} (${
    escapeControl(start.comm)
  })  tab: ${doc.tab}  rows: ${doc.rows.length}`;
  return [head, ...(doc.notes ?? []).map((n) => `note: ${n}`), ...tabLines(doc)].join("\n") + "\n";
}

/** The JSON document of one refresh: who, when, then the tab's document. */
export function jsonDoc(start: ProcStat, command: string, doc: TabDoc): string {
  return JSON.stringify({
    pid: start.pid,
    command,
    timestamp: new Date().toISOString(),
    ...doc,
  });
}

const enc = new TextEncoder();

/** Streams `count` refreshes to stdout; returns the exit code. */
export async function streamProc(o: ProcOptions, pid: number, start: ProcStat): Promise<number> {
  const model = new TabModel();
  const ns = new TargetNetns(pid);
  const command = commandOf(pid, start.comm);
  try {
    for (let i = 0; o.count === undefined || i < o.count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, o.interval * 1000));
      const { doc, gone } = refresh(pid, start, o.tab, model, ns, {
        ownOnly: o.ownOnly,
        tick: true,
      });
      if (gone) throw new RuntimeFailure(`proc: ${gone}`);
      const out = o.json
        ? jsonDoc(start, command, doc) + "\n"
        : (i > 0 ? "\n" : "") + textReport(start, doc);
      writeAllSync(Deno.stdout, enc.encode(out));
    }
  } finally {
    ns.close();
  }
  return 0;
}

/** A list of processes to choose from (several matched `--name`). */
class ChooseSource implements ViewSource {
  readonly tabs = ["processes"];
  readonly help = [{ keys: "Enter", does: "watch the process under the cursor" }];
  readonly intro = null;
  readonly commands = [];
  chosen: number | null = null;
  readonly #pattern: string;
  readonly #matches: NameMatch[];
  constructor(pattern: string, matches: NameMatch[]) {
    this.#pattern = pattern;
    this.#matches = matches;
  }
  screen(): Screen {
    return {
      title: `netmon proc --name ${this.#pattern}`,
      info: `${this.#matches.length} processes match: choose one with Up/Down and Enter (q quits)`,
      tables: [{
        columns: [{ title: "PID", align: "right" }, { title: "Name" }, { title: "Command" }],
        rows: this.#matches.map((m) => ({
          cells: [String(m.pid), m.name, m.command],
          keys: [m.pid, m.name, m.command],
          id: String(m.pid),
        })),
      }],
    };
  }
  key(key: Key, at: RowContext): SourceAction | null {
    if (key.name !== "enter" || at.row?.id === undefined) return null;
    this.chosen = Number(at.row.id);
    return { effect: "quit" };
  }
  command(): SourceAction | null {
    return null;
  }
  ended(): string | null {
    return null;
  }
  close(): void {}
}

/** Entry point used by src/cli/proc.ts. */
export async function runProc(o: ProcOptions): Promise<number> {
  const interactive = !o.stream && Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  let pid = o.pid;
  if (pid === null) {
    const pattern = o.name ?? "";
    const m = findByName(pattern);
    if (m.length === 0) throw new UsageError(`proc: no process matches '${pattern}'`);
    if (m.length === 1) pid = m[0].pid;
    else if (!interactive) throw ambiguous(pattern, m);
    else {
      const chooser = new ChooseSource(pattern, m);
      const code = await runLive(chooser, {
        tab: "processes",
        interval: 2,
        intro: false,
        name: "proc",
      });
      if (chooser.chosen === null) return code;
      pid = chooser.chosen;
    }
  }
  const start = requireProcess(pid);
  if (!interactive) return await streamProc(o, pid, start);
  const src = new ProcSource(pid, start, { ownOnly: o.ownOnly });
  return await runLive(src, {
    tab: o.tab,
    interval: o.interval,
    intro: o.noIntro !== true,
    name: "proc",
  });
}
