/**
 * Which process holds a socket: socket inode -> pid, from the `socket:[inode]` links in
 * /proc/<pid>/fd (the only place Linux says it; inet_diag gives the inode, never a pid).
 *
 * Two kinds of scan, both through ffi/procfs.ts (no string per descriptor):
 * - a *full* scan reads every process's descriptors and rebuilds the map (on a timer);
 * - a *targeted* scan looks for given inodes only, in the processes most likely to hold a
 *   new socket first: those that recently did (a client making one connection after another),
 *   then processes not read yet (curl, just started), then those known to hold sockets, and
 *   last (at most every {@link EXHAUSTIVE_GAP_MS}) every other process; it stops as soon as
 *   every inode is found.
 *
 * A socket shared by several processes (inherited across fork) is reported as held by the
 * lowest pid among them.
 *
 * @module
 */
import { NumericDir } from "../../ffi/procfs.ts";

/** Least time between two searches of every process started by misses. */
export const EXHAUSTIVE_GAP_MS = 500;
/** Pids remembered as recent owners of new sockets. */
const RECENT = 32;

export interface OwnerStats {
  fullScans: number;
  targetedScans: number;
  /** Descriptor links read, over all scans. */
  linksRead: number;
  /** Milliseconds spent scanning, over all scans. */
  scanMs: number;
  /** Processes whose descriptors could not be read at the last full scan. */
  unreadable: number;
}

/** Socket inode -> pid for every process of this pid namespace. */
export class SocketOwners {
  readonly #root: string;
  #owner = new Map<number, number>();
  /** Pids that held sockets at the last scan that read them, with how many. */
  #holders = new Map<number, number>();
  #pids = new Set<number>();
  /** Pids whose descriptors have been read at least once. */
  #read = new Set<number>();
  #recent: number[] = [];
  #lastFull = -Infinity;
  #lastExhaustive = -Infinity;
  readonly #dir = new NumericDir();
  readonly stats: OwnerStats = {
    fullScans: 0,
    targetedScans: 0,
    linksRead: 0,
    scanMs: 0,
    unreadable: 0,
  };

  constructor(root = "/proc") {
    this.#root = root;
  }

  /** The pid holding `inode`, as of the last scan that saw it. */
  pidOf(inode: number): number | undefined {
    return this.#owner.get(inode);
  }

  /** Inodes known. */
  get size(): number {
    return this.#owner.size;
  }

  /** Reads every process's descriptors and replaces the map. */
  fullScan(): void {
    const t0 = performance.now();
    this.#lastFull = t0;
    const owner = new Map<number, number>();
    const holders = new Map<number, number>();
    let unreadable = 0;
    const pids = this.#listPids();
    for (const pid of pids) {
      const n = this.#scanPid(pid, (ino) => {
        const had = owner.get(ino);
        if (had === undefined || pid < had) owner.set(ino, pid);
      });
      if (n < 0) unreadable++;
      else if (n > 0) holders.set(pid, n);
    }
    this.#owner = owner;
    this.#holders = holders;
    this.#pids = new Set(pids);
    this.#read = new Set(pids);
    this.stats.unreadable = unreadable;
    this.stats.fullScans++;
    this.stats.scanMs += performance.now() - t0;
  }

  /**
   * Looks for the inodes in `wanted` (removing each one found) in the likeliest processes
   * first: recent owners of new sockets, processes never read yet, known socket holders
   * (fewest sockets first) and, when `exhaustive`, every other process; stops once all are
   * found. Returns the pids found to hold any of them.
   */
  targetedScan(wanted: Set<number>, exhaustive = false): Set<number> {
    const t0 = performance.now();
    this.stats.targetedScans++;
    if (exhaustive) this.#lastExhaustive = t0;
    const found = new Set<number>();
    const seen = new Set<number>();
    const scan = (pid: number) => {
      seen.add(pid);
      const n = this.#scanPid(pid, (ino) => {
        const had = this.#owner.get(ino);
        if (had === undefined || pid < had) this.#owner.set(ino, pid);
        if (wanted.delete(ino)) found.add(pid);
      });
      this.#read.add(pid);
      if (n > 0) this.#holders.set(pid, n);
      else this.#holders.delete(pid);
    };
    // Recent owners first, before even listing /proc: a client making one connection after
    // another is found in one directory read.
    for (const p of [...this.#recent]) {
      if (wanted.size === 0) break;
      scan(p);
    }
    if (wanted.size > 0) {
      const listed = this.#listPids();
      const alive = new Set(listed);
      for (const p of this.#read) if (!alive.has(p)) this.#read.delete(p);
      this.#pids = alive;
      const order: number[] = [];
      const add = (p: number) => {
        if (!seen.has(p) && alive.has(p)) {
          seen.add(p);
          order.push(p);
        }
      };
      for (const p of listed) if (!this.#read.has(p)) add(p);
      for (const [p] of [...this.#holders].sort((a, b) => a[1] - b[1])) add(p);
      if (exhaustive) { for (const p of listed) add(p); }
      for (const pid of order) {
        if (wanted.size === 0) break;
        scan(pid);
      }
    }
    for (const p of found) this.#noteRecent(p);
    this.stats.scanMs += performance.now() - t0;
    return found;
  }

  /** True when a miss may search every process now (at most every EXHAUSTIVE_GAP_MS). */
  exhaustiveAllowed(nowMs = performance.now()): boolean {
    return nowMs - this.#lastExhaustive >= EXHAUSTIVE_GAP_MS &&
      nowMs - this.#lastFull >= EXHAUSTIVE_GAP_MS;
  }

  /** Milliseconds until a miss may search every process. */
  nextExhaustiveIn(nowMs = performance.now()): number {
    return Math.max(
      0,
      this.#lastExhaustive + EXHAUSTIVE_GAP_MS - nowMs,
      this.#lastFull + EXHAUSTIVE_GAP_MS - nowMs,
    );
  }

  /** performance.now() of the last search that read every process (full or exhaustive). */
  get lastExhaustive(): number {
    return Math.max(this.#lastExhaustive, this.#lastFull);
  }

  #noteRecent(pid: number): void {
    const i = this.#recent.indexOf(pid);
    if (i >= 0) this.#recent.splice(i, 1);
    this.#recent.unshift(pid);
    if (this.#recent.length > RECENT) this.#recent.pop();
  }

  #listPids(): number[] {
    const out: number[] = [];
    this.#dir.each(this.#root, (pid) => out.push(pid));
    return out;
  }

  /**
   * Calls `onSocket` for each socket inode in /proc/<pid>/fd; returns how many, or -1
   * when the directory cannot be read (gone, or not allowed).
   */
  #scanPid(pid: number, onSocket: (inode: number) => void): number {
    const dir = this.#dir;
    let n = 0, links = 0;
    const ok = dir.each(`${this.#root}/${pid}/fd`, (_fd, dirfd) => {
      links++;
      const ino = dir.socketInode(dirfd);
      if (ino >= 0) {
        onSocket(ino);
        n++;
      }
    });
    this.stats.linksRead += links;
    return ok ? n : -1;
  }
}

/** True when this process may read other processes' descriptors (root, CAP_SYS_PTRACE). */
export function canReadOtherProcesses(root = "/proc"): boolean {
  // pid 1 belongs to root everywhere; being allowed to list its fds is the test ss -p needs.
  return new NumericDir().each(`${root}/1/fd`, () => {});
}
