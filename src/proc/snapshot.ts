/**
 * One refresh of netmon proc: the /proc/<pid>/net files and netlink answers a tab needs,
 * read together and checked against the process still being the same one.
 *
 * @module
 */
import { type NetFile, processGone, readNetFile, readOwnSockets } from "./read.ts";
import type { ProcStat } from "./stat.ts";
import type { TargetNetns } from "./netns.ts";
import {
  type NetlinkSnapshot,
  RATE_FILES,
  type Snapshot,
  SOCKET_TABS,
  TAB_FILES,
  TAB_NETLINK,
  type TabDoc,
  type TabModel,
  type TabName,
} from "./tabs.ts";

/** Reads the files a refresh needs. */
export function readSnapshot(pid: number, files: Iterable<NetFile>): Snapshot {
  const snap: Snapshot = {
    files: {},
    own: { inodes: new Set(), denied: false },
    at: performance.now(),
  };
  for (const f of new Set(files)) {
    let text = readNetFile(pid, f);
    // The neighbour tables (and their statistics) are one per kernel, shared by every
    // namespace; Linux shows the files in the initial namespace only.
    if (text === null && f.startsWith("stat/") && pid !== 1) {
      text = readNetFile(1, f);
      if (text !== null) snap.sharedStats = true;
    }
    snap.files[f] = text;
  }
  return snap;
}

/** Files for a refresh of `tab` (plus the rate files on a tick). */
export function filesFor(tab: TabName, tick: boolean): NetFile[] {
  return tick ? [...TAB_FILES[tab], ...RATE_FILES] : TAB_FILES[tab];
}

/** The netlink answers `tab` needs (and, on a tick, the TCP sockets rates come from). */
export function readNetlink(ns: TargetNetns | null, tab: TabName, tick: boolean): NetlinkSnapshot {
  const want = new Set(TAB_NETLINK[tab] ?? []);
  if (tick) want.add("tcp");
  const out: NetlinkSnapshot = {};
  if (ns === null || want.size === 0) return out;
  if (want.has("tcp")) out.tcp = ns.tcpSockets();
  if (want.has("links")) out.links = ns.links();
  if (want.has("routes")) out.routes = ns.routes();
  if (want.has("neighbours6")) out.neighbours6 = ns.neighbours(6);
  out.denied = ns.denied;
  return out;
}

/**
 * Takes one refresh: snapshot, own sockets, netlink, then checks the process is still the
 * same one. On a tick the model's rates move on; otherwise (a tab switch) they stay as the
 * last tick left them, so they always cover a whole refresh interval.
 */
export function refresh(
  pid: number,
  start: ProcStat,
  tab: TabName,
  model: TabModel,
  ns: TargetNetns | null,
  opts: { ownOnly: boolean; tick: boolean },
): { doc: TabDoc; gone: string | null } {
  const snap = readSnapshot(pid, filesFor(tab, opts.tick));
  if (SOCKET_TABS.has(tab)) snap.own = readOwnSockets(pid);
  snap.net = readNetlink(ns, tab, opts.tick);
  // Checked after reading so that rows from a reused pid or a dying process are never shown.
  const gone = processGone(pid, start.startTime);
  if (opts.tick) model.observe(snap);
  return { doc: model.build(tab, snap, { ownOnly: opts.ownOnly }), gone };
}
