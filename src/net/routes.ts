/**
 * Gateways from every routing table: one RTM_GETROUTE dump per family (the kernel dumps
 * all tables; `ip route` filters to "main" in user space, /proc/net/route shows only main).
 * A route becomes a {@link Gateway} entry per next hop when it has a gateway, or when it is
 * a default route (then the gateway may be null: `default dev wg0`).
 *
 * @example
 * ```ts
 * import { listGateways } from "./routes.ts";
 * for (const g of listGateways()) if (g.Default) console.log(g.Family, g.Gateway, g.Interface);
 * ```
 * @module
 */
import { ipv4, ipv6 } from "../decode/format.ts";
import {
  align4,
  type Attr,
  attrMap,
  dump,
  LE,
  type NlMessage,
  RTM,
  type Transport,
  u32,
} from "./netlink.ts";
import { openRouteSocket } from "../../ffi/netlink.ts";
import { interfaceNames, listInterfaces } from "./interfaces.ts";
import { tableNames } from "./tables.ts";

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (u8), flags u32. */
export const RTMSG = {
  FAMILY: 0,
  DST_LEN: 1,
  SRC_LEN: 2,
  TOS: 3,
  TABLE: 4,
  PROTOCOL: 5,
  SCOPE: 6,
  TYPE: 7,
  FLAGS: 8,
} as const;
export const RTMSG_LEN = 12;
/** struct rtnexthop: len u16, flags u8, hops u8, ifindex i32; attributes follow. */
const RTNH = { LEN: 0, FLAGS: 2, HOPS: 3, IFINDEX: 4 } as const;
const RTNH_LEN = 8;
/** struct rtvia: family u16, then the address. */
const RTVIA = { FAMILY: 0, ADDR: 2 } as const;

/** RTA_* attribute types (linux/rtnetlink.h). */
export const RTA = {
  DST: 1,
  OIF: 4,
  GATEWAY: 5,
  PRIORITY: 6,
  PREFSRC: 7,
  METRICS: 8,
  MULTIPATH: 9,
  TABLE: 15,
  VIA: 18,
} as const;
const RTN_UNICAST = 1;
const RTM_F_CLONED = 0x200;
const RTNH_F_ONLINK = 0x4;

const AF_INET = 2;
const AF_INET6 = 10;

/** Route protocols (linux/rtnetlink.h RTPROT_*, /etc/iproute2/rt_protos). */
export const PROTOCOLS: Readonly<Record<number, string>> = {
  0: "unspec",
  1: "redirect",
  2: "kernel",
  3: "boot",
  4: "static",
  8: "gated",
  9: "ra",
  10: "mrt",
  11: "zebra",
  12: "bird",
  13: "dnrouted",
  14: "xorp",
  15: "ntk",
  16: "dhcp",
  17: "mrouted",
  18: "keepalived",
  42: "babel",
  99: "openr",
  186: "bgp",
  187: "isis",
  188: "ospf",
  189: "rip",
  192: "eigrp",
};

export interface Gateway {
  Family: "IPv4" | "IPv6";
  /** Outgoing interface name (null if the route names none). */
  Interface: string | null;
  Interface_Index: number | null;
  /** Next-hop address; null for a default route straight out of a device. */
  Gateway: string | null;
  /** "default" or the destination prefix "10.1.0.0/16". */
  Destination: string;
  Default: boolean;
  Table: number;
  Table_Name: string;
  /** RTA_PRIORITY; 0 when the route has none (the kernel's value). */
  Metric: number;
  Protocol: string;
  Preferred_Source: string | null;
  /** True when this entry is one next hop of a multipath route. */
  Multipath: boolean;
  /** Multipath weight (rtnh_hops + 1); null for single-path routes. */
  Weight: number | null;
  Onlink: boolean;
}

/** An IPv4 or IPv6 address attribute's text (null when too short or another family). */
export function addr(bytes: Uint8Array, family: number, off: number, end: number): string | null {
  if (family === AF_INET && end - off >= 4) return ipv4(bytes, off);
  if (family === AF_INET6 && end - off >= 16) return ipv6(bytes, off);
  return null;
}

/** Next hop from RTA_GATEWAY or RTA_VIA (an IPv6 gateway for an IPv4 route, RFC 5549). */
function nextHop(m: NlMessage, family: number, a: Map<number, Attr>): string | null {
  const gw = a.get(RTA.GATEWAY);
  if (gw) return addr(m.bytes, family, gw.off, gw.end);
  const via = a.get(RTA.VIA);
  if (via && via.end - via.off > RTVIA.ADDR) {
    const f = m.view.getUint16(via.off + RTVIA.FAMILY, LE);
    return addr(m.bytes, f, via.off + RTVIA.ADDR, via.end);
  }
  return null;
}

/** Route fields shared by its next hops, before interface names are known. */
export interface RawGateway extends Omit<Gateway, "Interface" | "Table_Name"> {
  Interface: null;
  Table_Name: string;
}

/** Parses one RTM_NEWROUTE message into zero or more gateway entries. */
export function parseRoute(m: NlMessage, tables: Map<number, string>): RawGateway[] {
  if (m.end - m.off < RTMSG_LEN) return [];
  const v = m.view;
  const family = v.getUint8(m.off + RTMSG.FAMILY);
  if (family !== AF_INET && family !== AF_INET6) return [];
  if (v.getUint8(m.off + RTMSG.TYPE) !== RTN_UNICAST) return [];
  if (v.getUint32(m.off + RTMSG.FLAGS, LE) & RTM_F_CLONED) return [];
  const a = attrMap(v, m.off + RTMSG_LEN, m.end);
  const dstLen = v.getUint8(m.off + RTMSG.DST_LEN);
  const dstAttr = a.get(RTA.DST);
  const dst = dstAttr ? addr(m.bytes, family, dstAttr.off, dstAttr.end) : null;
  const isDefault = dstLen === 0;
  const table = u32(v, a.get(RTA.TABLE)) ?? v.getUint8(m.off + RTMSG.TABLE);
  const prefsrc = a.get(RTA.PREFSRC);
  const base = {
    Family: family === AF_INET ? "IPv4" : "IPv6",
    Interface: null,
    Destination: isDefault
      ? "default"
      : `${dst ?? (family === AF_INET ? "0.0.0.0" : "::")}/${dstLen}`,
    Default: isDefault,
    Table: table,
    Table_Name: tables.get(table) ?? String(table),
    Metric: u32(v, a.get(RTA.PRIORITY)) ?? 0,
    Protocol: PROTOCOLS[v.getUint8(m.off + RTMSG.PROTOCOL)] ??
      String(v.getUint8(m.off + RTMSG.PROTOCOL)),
    Preferred_Source: prefsrc ? addr(m.bytes, family, prefsrc.off, prefsrc.end) : null,
  } as const;
  const mp = a.get(RTA.MULTIPATH);
  if (mp) {
    const out: RawGateway[] = [];
    let off = mp.off;
    while (off + RTNH_LEN <= mp.end) {
      const len = v.getUint16(off + RTNH.LEN, LE);
      if (len < RTNH_LEN || off + len > mp.end) break;
      const na = attrMap(v, off + RTNH_LEN, off + len);
      out.push({
        ...base,
        Interface_Index: v.getInt32(off + RTNH.IFINDEX, LE) || null,
        Gateway: nextHop(m, family, na),
        Multipath: true,
        Weight: v.getUint8(off + RTNH.HOPS) + 1,
        Onlink: (v.getUint8(off + RTNH.FLAGS) & RTNH_F_ONLINK) !== 0,
      });
      off += align4(len);
    }
    return isDefault ? out : out.filter((g) => g.Gateway !== null);
  }
  const gw = nextHop(m, family, a);
  if (gw === null && !isDefault) return [];
  return [{
    ...base,
    Interface_Index: u32(v, a.get(RTA.OIF)) ?? null,
    Gateway: gw,
    Multipath: false,
    Weight: null,
    Onlink: (v.getUint32(m.off + RTMSG.FLAGS, LE) & RTNH_F_ONLINK) !== 0,
  }];
}

/** Orders entries by interface, family, default first, table, metric. */
function compare(a: Gateway, b: Gateway): number {
  return (a.Interface ?? "").localeCompare(b.Interface ?? "") ||
    a.Family.localeCompare(b.Family) ||
    Number(b.Default) - Number(a.Default) ||
    a.Table - b.Table ||
    a.Metric - b.Metric;
}

/** Resolves interface indexes to names and sorts the entries. */
export function assembleGateways(raw: RawGateway[], names: Map<number, string>): Gateway[] {
  return raw.map((g): Gateway => ({
    Interface: g.Interface_Index === null ? null : names.get(g.Interface_Index) ?? null,
    Interface_Index: g.Interface_Index,
    Family: g.Family,
    Default: g.Default,
    Destination: g.Destination,
    Gateway: g.Gateway,
    Table: g.Table,
    Table_Name: g.Table_Name,
    Metric: g.Metric,
    Protocol: g.Protocol,
    Preferred_Source: g.Preferred_Source,
    Multipath: g.Multipath,
    Weight: g.Weight,
    Onlink: g.Onlink,
  })).sort(compare);
}

/** Gateways of every routing table in the current network namespace, IPv4 then IPv6. */
export function listGateways(t?: Transport): Gateway[] {
  const own = t ? null : openRouteSocket();
  const sock = (t ?? own)!;
  try {
    const names = interfaceNames(listInterfaces(sock));
    const tables = tableNames();
    const raw: RawGateway[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      const body = new Uint8Array(RTMSG_LEN);
      body[RTMSG.FAMILY] = family;
      for (const m of dump(sock, RTM.GETROUTE, body, RTM.NEWROUTE)) {
        raw.push(...parseRoute(m, tables));
      }
    }
    return assembleGateways(raw, names);
  } finally {
    own?.close();
  }
}
