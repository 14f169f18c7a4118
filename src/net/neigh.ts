/**
 * Neighbour tables (ARP for IPv4, NDP for IPv6) from rtnetlink RTM_GETNEIGH dumps
 * (linux/neighbour.h): what `ip neigh` shows. /proc has no file for IPv6 neighbours.
 *
 * @module
 */
import { ipv4, ipv6, mac } from "../decode/format.ts";
import { attrMap, dump, LE, type NlMessage, type Transport } from "./netlink.ts";

const RTM_NEWNEIGH = 28;
const RTM_GETNEIGH = 30;
/** struct ndmsg: family u8, pad u8, pad u16, ifindex i32, state u16, flags u8, type u8. */
const NDM = { FAMILY: 0, IFINDEX: 4, STATE: 8, FLAGS: 10, TYPE: 11 } as const;
const NDMSG_LEN = 12;
const NDA = { DST: 1, LLADDR: 2 } as const;
const AF_INET = 2;
const AF_INET6 = 10;

/** NUD_* states by bit, named as `ip neigh` prints them. */
const NUD: ReadonlyArray<[number, string]> = [
  [0x01, "INCOMPLETE"],
  [0x02, "REACHABLE"],
  [0x04, "STALE"],
  [0x08, "DELAY"],
  [0x10, "PROBE"],
  [0x20, "FAILED"],
  [0x40, "NOARP"],
  [0x80, "PERMANENT"],
];
const NTF_ROUTER = 0x80;

export interface Neighbour {
  Family: "IPv4" | "IPv6";
  IP_Address: string;
  /** Link-layer address; null while unresolved. */
  HW_Address: string | null;
  Interface_Index: number;
  /** NUD state names (usually one). */
  State: string[];
  Router: boolean;
}

/** Parses one RTM_NEWNEIGH message. */
export function parseNeighbour(m: NlMessage): Neighbour | null {
  if (m.end - m.off < NDMSG_LEN) return null;
  const v = m.view;
  const family = v.getUint8(m.off + NDM.FAMILY);
  if (family !== AF_INET && family !== AF_INET6) return null;
  const a = attrMap(v, m.off + NDMSG_LEN, m.end);
  const dst = a.get(NDA.DST);
  const alen = family === AF_INET ? 4 : 16;
  if (!dst || dst.end - dst.off < alen) return null;
  const ll = a.get(NDA.LLADDR);
  const state = v.getUint16(m.off + NDM.STATE, LE);
  return {
    Family: family === AF_INET ? "IPv4" : "IPv6",
    IP_Address: family === AF_INET ? ipv4(m.bytes, dst.off) : ipv6(m.bytes, dst.off),
    HW_Address: ll && ll.end - ll.off === 6 ? mac(m.bytes, ll.off) : null,
    Interface_Index: v.getInt32(m.off + NDM.IFINDEX, LE),
    State: NUD.filter(([bit]) => (state & bit) !== 0).map(([, n]) => n),
    Router: (v.getUint8(m.off + NDM.FLAGS) & NTF_ROUTER) !== 0,
  };
}

/** Every neighbour of one family (4 or 6) in the namespace of `t`. */
export function listNeighbours(t: Transport, family: 4 | 6): Neighbour[] {
  const body = new Uint8Array(NDMSG_LEN);
  body[NDM.FAMILY] = family === 4 ? AF_INET : AF_INET6;
  return dump(t, RTM_GETNEIGH, body, RTM_NEWNEIGH).map(parseNeighbour).filter((n): n is Neighbour =>
    n !== null
  );
}
