/**
 * What netmon remembers about sockets: each socket seen by an inet_diag dump or query, keyed
 * by namespace and exact tuple (local and remote address and port), with the process found
 * to hold it. A socket missing from later dumps is kept for a grace window, so a flow whose
 * socket closed before its packets were looked at still gets the answer; a TIME_WAIT socket
 * (no inode any more) keeps its cookie, which leads back to the socket it was.
 *
 * @module
 */
import type { DiagSocket } from "../net/sock_diag.ts";
import type { KnownProcess } from "./procinfo.ts";

/** A socket as remembered. */
export interface SocketMemo {
  inode: number;
  cookie: number;
  uid: number;
  state: number;
  /** performance.now() when a dump or query last showed it. */
  seen: number;
  /** The process found holding it (kept after the socket is gone). */
  proc: KnownProcess | null;
}

/** `a.b.c.d` for `::ffff:a.b.c.d` (IPv4 traffic on a dual-stack socket is keyed as IPv4). */
export function unmapped(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

/** The key of one tuple in one namespace. */
export function tupleKey(
  ns: number,
  proto: number,
  local: string,
  lport: number,
  remote: string,
  rport: number,
): string {
  return `${ns}|${proto}|${local}|${lport}|${remote}|${rport}`;
}

export class SocketMemory {
  readonly #byKey = new Map<string, SocketMemo>();
  readonly #byCookie = new Map<number, SocketMemo>();
  /** Milliseconds a socket no dump or query has shown is still remembered. */
  readonly graceMs: number;

  constructor(graceMs: number) {
    this.graceMs = graceMs;
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Records a socket under `key` (from a dump: its own tuple; from a query: the one asked). */
  put(key: string, s: DiagSocket, now: number): SocketMemo {
    let m = this.#byKey.get(key);
    const prev = s.Cookie !== 0 ? this.#byCookie.get(s.Cookie) : undefined;
    if (m === undefined || m.cookie !== s.Cookie) {
      m = { inode: s.Inode, cookie: s.Cookie, uid: s.UID, state: s.State, seen: now, proc: null };
      this.#byKey.set(key, m);
    }
    m.seen = now;
    m.state = s.State;
    if (s.Inode !== 0) m.inode = s.Inode;
    // The same socket seen before (a TIME_WAIT socket keeps its cookie): same process.
    if (m.proc === null && prev !== undefined && prev !== m) m.proc = prev.proc;
    if (s.Cookie !== 0 && (prev === undefined || prev.proc === null || m.proc !== null)) {
      this.#byCookie.set(s.Cookie, m);
    }
    return m;
  }

  /** Records the sockets of one dump of namespace `ns` under their own tuples. */
  load(ns: number, sockets: DiagSocket[], now: number): void {
    for (const s of sockets) {
      const key = tupleKey(
        ns,
        s.Protocol,
        unmapped(s.Local_Address),
        s.Local_Port,
        unmapped(s.Remote_Address),
        s.Remote_Port,
      );
      this.put(key, s, now);
    }
  }

  get(key: string): SocketMemo | undefined {
    return this.#byKey.get(key);
  }

  /** Forgets sockets not seen for the grace window. */
  expire(now: number): void {
    for (const [k, m] of this.#byKey) if (now - m.seen > this.graceMs) this.#byKey.delete(k);
    for (const [c, m] of this.#byCookie) if (now - m.seen > this.graceMs) this.#byCookie.delete(c);
  }
}
