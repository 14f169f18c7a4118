/**
 * netmon proc as a {@link ViewSource} for the terminal view in src/ui: reads a refresh of
 * the watched process's network (snapshot.ts), turns tab documents into tables
 * (columns.ts), adds its own keys (a tab's first letter, `o` for own sockets only) and
 * ends the view as soon as the process exits (a pidfd, polled on a helper thread).
 *
 * @module
 */
import type { Key } from "../ui/keys.ts";
import type { KeyHelp, RowContext, Screen, SourceAction, ViewSource } from "../ui/source.ts";
import { closeFd, pidfdOpen, waitPidfd } from "../../ffi/procfs.ts";
import { tabTables } from "./columns.ts";
import { processGone } from "./read.ts";
import type { ProcStat } from "./stat.ts";
import { SOCKET_TABS, TAB_NAMES, type TabDoc, TabModel, type TabName } from "./tabs.ts";
import type { SocketRow } from "./sockets.ts";
import { refresh } from "./snapshot.ts";
import { TargetNetns } from "./netns.ts";

/** The instructions screen (shown until a key is pressed). */
export const INTRO: readonly string[] = [
  "netmon proc shows the network of the namespace this process lives in:",
  "its sockets (tcp, udp, raw, icmp), neighbours (arp), interface counters (traffic),",
  "protocol counters (stats, analysis) and routes (routing).",
  "",
  "  Tab / Shift+Tab or 1-9   change tab (or a tab's first letter)",
  "  Up / Down, PgUp / PgDn   move through the rows",
  "  Left / Right             scroll the columns",
  "  < / >  and  I            sort by another column, reverse the order",
  "  /                        search the rows",
  "  o                        only the sockets this process holds (marked *)",
  "  set 6  Enter             refresh every 6 seconds (type it as is)",
  "  ?                        every key",
  "  q                        quit",
];

const HELP: readonly KeyHelp[] = [
  {
    keys: "t u a s r i",
    does: "tab by first letter (repeat to cycle: t tcp/traffic, a arp/analysis, r raw/routing)",
  },
  { keys: "o", does: "socket tabs: only the sockets the process holds (marked *) / all" },
  { keys: ":own", does: "the same as o" },
];

/** Next tab after `current` whose name starts with `ch` (cycles: t -> tcp -> traffic). */
function tabByLetter(current: TabName, ch: string): TabName | null {
  const start = TAB_NAMES.indexOf(current);
  for (let k = 1; k <= TAB_NAMES.length; k++) {
    const t = TAB_NAMES[(start + k) % TAB_NAMES.length];
    if (t.startsWith(ch)) return t;
  }
  return null;
}

export class ProcSource implements ViewSource {
  readonly tabs = TAB_NAMES;
  readonly help = HELP;
  readonly intro = INTRO;
  readonly commands = ["own"];
  readonly ending: Promise<void>;
  readonly #pid: number;
  readonly #start: ProcStat;
  readonly #model = new TabModel();
  readonly #ns: TargetNetns;
  #ownOnly: boolean;
  #gone: string | null = null;
  #closed = false;
  #pidfd = -1;
  /** The last document built (for tests and --json in the view). */
  doc: TabDoc | null = null;

  constructor(pid: number, start: ProcStat, opts: { ownOnly: boolean }) {
    this.#pid = pid;
    this.#start = start;
    this.#ownOnly = opts.ownOnly;
    this.#ns = new TargetNetns(pid);
    this.ending = this.#watch();
  }

  /** Resolves when the process exits: at once with a pidfd, else within 200 ms. */
  async #watch(): Promise<void> {
    this.#pidfd = pidfdOpen(this.#pid);
    while (!this.#closed) {
      if (this.#pidfd >= 0) await waitPidfd(this.#pidfd, 500);
      else await new Promise((r) => setTimeout(r, 200));
      if (this.#closed) return;
      const why = processGone(this.#pid, this.#start.startTime);
      if (why !== null) {
        this.#gone = why;
        return;
      }
    }
  }

  screen(tab: string, tick: boolean): Screen {
    const t = tab as TabName;
    const r = refresh(this.#pid, this.#start, t, this.#model, this.#ns, {
      ownOnly: this.#ownOnly,
      tick,
    });
    if (r.gone) this.#gone = r.gone;
    this.doc = r.doc;
    let info = `${t}: ${r.doc.rows.length} rows`;
    if (SOCKET_TABS.has(t)) {
      const own = (r.doc.rows as SocketRow[]).filter((x) => x.Own).length;
      info = `${t}: ${r.doc.rows.length} sockets, ${own} held by the process (marked *)` +
        (this.#ownOnly ? ", showing only those" : "");
    }
    if (r.doc.notes?.length) info += "  |  " + r.doc.notes.join("  |  ");
    return {
      title: `netmon proc ${this.#pid} (${this.#start.comm})  own only: ${
        this.#ownOnly ? "on" : "off"
      }`,
      info,
      tables: tabTables(r.doc),
    };
  }

  key(key: Key, at: RowContext): SourceAction | null {
    if (key.name !== "char") return null;
    const ch = key.ch ?? "";
    if (ch === "o") return this.#toggleOwn();
    const t = tabByLetter(at.tab as TabName, ch.toLowerCase());
    return t === null ? null : { effect: "refresh", tab: t };
  }

  command(cmd: string): SourceAction | null {
    return cmd === "own" ? this.#toggleOwn() : null;
  }

  #toggleOwn(): SourceAction {
    this.#ownOnly = !this.#ownOnly;
    return { effect: "refresh", message: `own sockets only: ${this.#ownOnly ? "on" : "off"}` };
  }

  ended(): string | null {
    return this.#gone;
  }

  close(): void {
    this.#closed = true;
    this.#ns.close();
    // The watcher's poll returns within its timeout; the pidfd closes after it.
    this.ending.then(() => closeFd(this.#pidfd));
  }
}
