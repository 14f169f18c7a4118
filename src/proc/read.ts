/**
 * The only file in src/proc that touches /proc: reads the raw text of net files, the
 * socket inodes a process holds, and its stat line. Everything else parses strings.
 *
 * @module
 */
import { parseStat, type ProcStat } from "./stat.ts";

/** Files under /proc/<pid>/net that netmon proc reads. */
export type NetFile =
  | "tcp"
  | "tcp6"
  | "udp"
  | "udp6"
  | "raw"
  | "raw6"
  | "icmp"
  | "icmp6"
  | "arp"
  | "dev"
  | "route"
  | "ipv6_route"
  | "snmp"
  | "snmp6"
  | "netstat"
  | "stat/arp_cache"
  | "stat/ndisc_cache";

/** Root of the proc filesystem; tests may point it at a copy. */
export const PROC_ROOT = "/proc";

/** Text of /proc/<pid>/net/<name>, or null when the file is missing (e.g. IPv6 disabled). */
export function readNetFile(pid: number, name: NetFile, root = PROC_ROOT): string | null {
  try {
    return Deno.readTextFileSync(`${root}/${pid}/net/${name}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export interface OwnSockets {
  inodes: Set<number>;
  /** True when /proc/<pid>/fd could not be listed (another user's process without privileges). */
  denied: boolean;
}

/** Socket inodes from the `socket:[N]` links in /proc/<pid>/fd. */
export function readOwnSockets(pid: number, root = PROC_ROOT): OwnSockets {
  const inodes = new Set<number>();
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(`${root}/${pid}/fd`)];
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied) return { inodes, denied: true };
    if (e instanceof Deno.errors.NotFound) return { inodes, denied: false };
    throw e;
  }
  let deniedLinks = 0;
  for (const ent of entries) {
    try {
      const target = Deno.readLinkSync(`${root}/${pid}/fd/${ent.name}`);
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(Number(m[1]));
    } catch (e) {
      // An fd closed between listing and readlink is normal; a refused readlink is not.
      if (e instanceof Deno.errors.PermissionDenied) deniedLinks++;
    }
  }
  return { inodes, denied: entries.length > 0 && deniedLinks === entries.length };
}

/** /proc/<pid>/stat parsed, or null when the process does not exist. */
export function readStat(pid: number, root = PROC_ROOT): ProcStat | null {
  try {
    return parseStat(Deno.readTextFileSync(`${root}/${pid}/stat`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Why the process watched since `startTime` is no longer there, or null while it runs:
 * gone, a zombie/dead, or its pid now belongs to another process (start time differs).
 */
export function processGone(pid: number, startTime: number, root = PROC_ROOT): string | null {
  const st = readStat(pid, root);
  if (!st) return `process ${pid} has exited`;
  if (st.startTime !== startTime) return `process ${pid} has exited (pid reused by '${st.comm}')`;
  if (st.state === "Z") return `process ${pid} has exited (zombie)`;
  if (st.state === "X" || st.state === "x") return `process ${pid} has exited (dead)`;
  return null;
}
