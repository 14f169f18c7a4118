/**
 * What netmon says about a process that owns a socket: `Process` in packet and flow records.
 * Read once per process (pid and start time) from /proc/<pid>/{stat,comm,cmdline,status,
 * cgroup,ns/net}; user names from /etc/passwd.
 *
 * @module
 */
import { parseStat } from "../proc/stat.ts";
import { containerOf, mainCgroup, parseCgroups } from "./container.ts";

/** The `Process` attributes of a record (see docs/attribution.md). */
export interface ProcessInfo {
  PID: number;
  /** /proc/<pid>/comm: the kernel's 15-character command name (what ps and pgrep match). */
  Name: string;
  /** The command line, arguments joined by spaces; `[Name]` when it has none (kernel threads). */
  Command: string;
  /** Effective user's name, or the number as text when /etc/passwd does not name it. */
  User: string;
  UID: number;
  /** Id of the container the process runs in (cgroup path), when it runs in one. */
  Container_ID?: string;
  Cgroup: string;
  /** Inode of the process's network namespace (`ip netns identify`, lsns's NS column). */
  Netns: number;
}

/** A ProcessInfo plus what netmon needs to tell a reused pid apart. */
export interface KnownProcess {
  info: ProcessInfo;
  /** Field 22 of /proc/<pid>/stat. */
  startTime: number;
}

let users: Map<number, string> | null = null;

/** Parses /etc/passwd into uid -> name. */
export function parsePasswd(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || f[0] === "" || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    if (Number.isInteger(uid) && !m.has(uid)) m.set(uid, f[0]);
  }
  return m;
}

/** The user name for `uid` (from /etc/passwd, read once), else the number. */
export function userName(uid: number): string {
  if (users === null) {
    try {
      users = parsePasswd(Deno.readTextFileSync("/etc/passwd"));
    } catch {
      users = new Map();
    }
  }
  return users.get(uid) ?? String(uid);
}

/** Effective uid from /proc/<pid>/status (`Uid: real effective saved fs`). */
export function effectiveUid(status: string): number | null {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  return m ? Number(m[2]) : null;
}

/** The namespace inode in a `net:[4026531840]` link. */
export function nsInode(link: string): number | null {
  const m = /^net:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/** The command line from /proc/<pid>/cmdline (NUL-separated), or null when empty. */
export function commandLine(raw: string): string | null {
  const parts = raw.split("\0");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.length === 0 ? null : parts.join(" ");
}

function read(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/**
 * Reads what netmon reports about `pid`, or null when it is gone (or is not readable).
 * A process that exits between two reads is reported as what was read.
 */
export function readProcess(pid: number, root = "/proc"): KnownProcess | null {
  const dir = `${root}/${pid}`;
  const statText = read(`${dir}/stat`);
  const st = statText === null ? null : parseStat(statText);
  if (st === null) return null;
  const name = (read(`${dir}/comm`) ?? st.comm).replace(/\n$/, "");
  const cmd = commandLine(read(`${dir}/cmdline`) ?? "");
  const status = read(`${dir}/status`) ?? "";
  const uid = effectiveUid(status) ?? 0;
  const cg = parseCgroups(read(`${dir}/cgroup`) ?? "");
  let netns = 0;
  try {
    netns = nsInode(Deno.readLinkSync(`${dir}/ns/net`)) ?? 0;
  } catch { /* gone or not allowed */ }
  const container = containerOf(cg);
  const info: ProcessInfo = {
    PID: pid,
    Name: name,
    Command: cmd ?? `[${name}]`,
    User: userName(uid),
    UID: uid,
    ...(container !== null ? { Container_ID: container } : {}),
    Cgroup: mainCgroup(cg),
    Netns: netns,
  };
  return { info, startTime: st.startTime };
}
