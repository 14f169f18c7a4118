/**
 * The network namespaces of this host, for attributing traffic seen on a host-side veth or
 * bridge to the process in a container's namespace: every namespace some process is in
 * (`/proc/<pid>/ns/net`) or that `ip netns` named (`/run/netns/NAME`), the addresses
 * assigned in each (RTM_GETADDR through a route socket opened inside it), and a
 * NETLINK_SOCK_DIAG socket inside each one that traffic concerns (opened on first use).
 * Sockets are opened with setns(2) (ffi/netlink.ts), so this needs CAP_SYS_ADMIN; without
 * it only netmon's own namespace is used.
 *
 * @module
 */
import {
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  NetlinkOsError,
  type NetlinkSocket,
  openNetlinkSocket,
} from "../../ffi/netlink.ts";
import { listDir, readLink } from "../../ffi/procfs.ts";
import { dump, RTM } from "../net/netlink.ts";
import { IFADDRMSG_LEN, parseAddr } from "../net/interfaces.ts";
import { nsInode } from "./procinfo.ts";

const EPERM = 1;

/** One network namespace. */
export interface Netns {
  inode: number;
  /** A path that opens it. */
  path: string;
  /** Its `ip netns` name, when it has one. */
  name: string | null;
  /** netmon's own namespace (the captured interface's). */
  own: boolean;
  /** Addresses assigned in it (text, RFC 5952). */
  addresses: Set<string>;
  diag: NetlinkSocket | null;
  /** Opening a socket inside it failed (no privileges, namespace gone). */
  broken: boolean;
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x.x.x (every namespace has its own). */
export function isLoopback(addr: string): boolean {
  return addr.startsWith("127.") || addr === "::1" || addr.startsWith("::ffff:127.");
}

export class Namespaces {
  readonly #root: string;
  readonly #runDir: string;
  readonly #byInode = new Map<number, Netns>();
  readonly #byAddress = new Map<string, Netns[]>();
  readonly own: Netns;
  /** Whether sockets may be opened in other namespaces (setns allowed). */
  others = true;
  refreshes = 0;

  constructor(root = "/proc", runDir = "/run/netns") {
    this.#root = root;
    this.#runDir = runDir;
    const link = readLink(`${root}/thread-self/ns/net`) ?? readLink(`${root}/self/ns/net`) ?? "";
    this.own = {
      inode: nsInode(link) ?? 0,
      path: `${root}/thread-self/ns/net`,
      name: null,
      own: true,
      addresses: new Set(),
      diag: null,
      broken: false,
    };
    this.#byInode.set(this.own.inode, this.own);
  }

  /** Every namespace known. */
  all(): Netns[] {
    return [...this.#byInode.values()];
  }

  /** Relists namespaces and their addresses; closes the sockets of those gone. */
  refresh(): void {
    this.refreshes++;
    const seen = new Map<number, { path: string; name: string | null }>();
    for (const name of listDir(this.#runDir) ?? []) {
      const path = `${this.#runDir}/${name}`;
      try {
        seen.set(Deno.statSync(path).ino ?? 0, { path, name });
      } catch { /* removed meanwhile */ }
    }
    const buf = new Uint8Array(64);
    for (const p of listDir(this.#root) ?? []) {
      const c = p.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const ino = nsInode(readLink(`${this.#root}/${p}/ns/net`, buf) ?? "");
      if (ino !== null && !seen.has(ino)) {
        seen.set(ino, { path: `${this.#root}/${p}/ns/net`, name: null });
      }
    }
    seen.delete(0);
    for (const [ino, ns] of this.#byInode) {
      if (!ns.own && !seen.has(ino)) {
        ns.diag?.close();
        this.#byInode.delete(ino);
      }
    }
    for (const [ino, where] of seen) {
      const had = this.#byInode.get(ino);
      if (had) {
        if (!had.own) {
          had.path = where.path;
          had.name = where.name ?? had.name;
        } else had.name = where.name ?? had.name;
        continue;
      }
      if (!this.others) continue;
      this.#byInode.set(ino, {
        inode: ino,
        path: where.path,
        name: where.name,
        own: false,
        addresses: new Set(),
        diag: null,
        broken: false,
      });
    }
    this.#byAddress.clear();
    for (const ns of this.#byInode.values()) {
      ns.addresses = this.#addresses(ns);
      for (const a of ns.addresses) {
        const list = this.#byAddress.get(a);
        if (list) list.push(ns);
        else this.#byAddress.set(a, [ns]);
      }
    }
  }

  /** Namespaces in which `addr` is a local address (loopback: netmon's own only). */
  forAddress(addr: string): Netns[] {
    if (isLoopback(addr)) return [this.own];
    return this.#byAddress.get(addr) ?? [];
  }

  /** The NETLINK_SOCK_DIAG socket inside `ns`, or null when it cannot be opened. */
  diag(ns: Netns): NetlinkSocket | null {
    if (ns.diag !== null || ns.broken) return ns.diag;
    try {
      ns.diag = openNetlinkSocket(NETLINK_SOCK_DIAG, ns.own ? undefined : ns.path);
    } catch (e) {
      this.#failed(ns, e);
    }
    return ns.diag;
  }

  #addresses(ns: Netns): Set<string> {
    const out = new Set<string>();
    if (ns.broken) return out;
    let sock: NetlinkSocket | null = null;
    try {
      sock = openNetlinkSocket(NETLINK_ROUTE, ns.own ? undefined : ns.path);
      for (const m of dump(sock, RTM.GETADDR, new Uint8Array(IFADDRMSG_LEN), RTM.NEWADDR)) {
        const a = parseAddr(m);
        if (a) out.add(a.addr.Address);
      }
    } catch (e) {
      this.#failed(ns, e);
    } finally {
      sock?.close();
    }
    return out;
  }

  /** A namespace that cannot be entered is left alone; EPERM means none other can be. */
  #failed(ns: Netns, e: unknown): void {
    ns.broken = true;
    if (!ns.own && e instanceof NetlinkOsError && e.errno === EPERM) this.others = false;
  }

  close(): void {
    for (const ns of this.#byInode.values()) {
      ns.diag?.close();
      ns.diag = null;
    }
  }
}
