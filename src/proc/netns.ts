/**
 * What netmon proc reads inside the watched process's network namespace through netlink
 * (sockets opened there with setns(2), ffi/netlink.ts): TCP sockets with struct tcp_info
 * (inet_diag, like `ss -ti`), every route of every table, links (for device MTUs and names)
 * and IPv6 neighbours, none of which /proc/<pid>/net has. Entering another namespace needs
 * root (CAP_SYS_ADMIN); without it each reader returns null and the tab says why.
 *
 * @module
 */
import {
  NETLINK_ROUTE,
  NETLINK_SOCK_DIAG,
  type NetlinkSocket,
  openNetlinkSocket,
} from "../../ffi/netlink.ts";
import { type DiagSocket, dumpSockets, IPPROTO } from "../net/sock_diag.ts";
import { listRoutes, type RouteEntry } from "../net/route_table.ts";
import { listNeighbours, type Neighbour } from "../net/neigh.ts";
import { listInterfaces } from "../net/interfaces.ts";
import { errorText } from "../errors.ts";

export interface LinkInfo {
  Name: string;
  MTU: number;
}

/** Netlink readers for one process's network namespace. */
export class TargetNetns {
  readonly path: string;
  #route: NetlinkSocket | null = null;
  #diag: NetlinkSocket | null = null;
  /** Why the namespace cannot be read, once that is known. */
  denied: string | null = null;

  constructor(pid: number, root = "/proc") {
    this.path = `${root}/${pid}/ns/net`;
  }

  #open(proto: number): NetlinkSocket | null {
    if (this.denied !== null) return null;
    try {
      return openNetlinkSocket(proto, this.path);
    } catch (e) {
      this.denied = `netlink in the process's namespace: ${errorText(e)} (needs root)`;
      return null;
    }
  }

  #routeSock(): NetlinkSocket | null {
    return this.#route ??= this.#open(NETLINK_ROUTE);
  }

  /** TCP sockets (both families) with tcp_info, or null. */
  tcpSockets(): DiagSocket[] | null {
    const t = this.#diag ??= this.#open(NETLINK_SOCK_DIAG);
    if (t === null) return null;
    return this.#guard(() => [
      ...dumpSockets(t, 4, IPPROTO.TCP, { info: true }),
      ...dumpSockets(t, 6, IPPROTO.TCP, { info: true }),
    ]);
  }

  routes(): RouteEntry[] | null {
    const t = this.#routeSock();
    return t === null ? null : this.#guard(() => listRoutes(t));
  }

  links(): Map<number, LinkInfo> | null {
    const t = this.#routeSock();
    if (t === null) return null;
    return this.#guard(() =>
      new Map(listInterfaces(t).map((i) => [i.Index, { Name: i.Name, MTU: i.MTU }]))
    );
  }

  neighbours(family: 4 | 6): Neighbour[] | null {
    const t = this.#routeSock();
    return t === null ? null : this.#guard(() => listNeighbours(t, family));
  }

  #guard<T>(fn: () => T): T | null {
    try {
      return fn();
    } catch (e) {
      this.denied = `netlink in the process's namespace: ${errorText(e)}`;
      return null;
    }
  }

  close(): void {
    this.#route?.close();
    this.#diag?.close();
    this.#route = this.#diag = null;
  }
}
