/**
 * Every route of every routing table, as `ip route show table all` lists them: destination,
 * gateway, device, metric, table, type (unicast, local, broadcast, unreachable, ...),
 * protocol, scope, preferred source and MTU, for IPv4 and IPv6 alike, from one RTM_GETROUTE
 * dump per family. (src/net/routes.ts keeps only the routes with a gateway, for
 * `netmon gateways`.)
 *
 * @module
 */
import { attrMap, dump, type NlMessage, RTM, type Transport, u32 } from "./netlink.ts";
import { addr, PROTOCOLS, RTA, RTMSG, RTMSG_LEN } from "./routes.ts";

/** RTAX_MTU inside RTA_METRICS. */
const RTAX_MTU = 2;
const RTM_F_CLONED = 0x200;
const AF_INET = 2;
const AF_INET6 = 10;

/** Route types (linux/rtnetlink.h RTN_*), named as ip route prints them. */
export const ROUTE_TYPES: Readonly<Record<number, string>> = {
  0: "unspec",
  1: "unicast",
  2: "local",
  3: "broadcast",
  4: "anycast",
  5: "multicast",
  6: "blackhole",
  7: "unreachable",
  8: "prohibit",
  9: "throw",
  10: "nat",
  11: "xresolve",
};

/** Route scopes (RT_SCOPE_*). */
const SCOPES: Readonly<Record<number, string>> = {
  0: "universe",
  200: "site",
  253: "link",
  254: "host",
  255: "nowhere",
};

export interface RouteEntry {
  Family: "IPv4" | "IPv6";
  /** `198.51.100.0/24`, `::/0`. */
  Destination: string;
  Gateway: string | null;
  Interface_Index: number | null;
  /** RTA_PRIORITY (0 when the route has none). */
  Metric: number;
  Table: number;
  Type: string;
  Protocol: string;
  Scope: string;
  Preferred_Source: string | null;
  /** The route's own MTU metric (RTAX_MTU), or null when it has none. */
  Route_MTU: number | null;
}

/** One RTM_NEWROUTE message (cache clones skipped); multipath routes give their first hop. */
export function parseRouteEntry(m: NlMessage): RouteEntry | null {
  if (m.end - m.off < RTMSG_LEN) return null;
  const v = m.view;
  const family = v.getUint8(m.off + RTMSG.FAMILY);
  if (family !== AF_INET && family !== AF_INET6) return null;
  if (v.getUint32(m.off + RTMSG.FLAGS, true) & RTM_F_CLONED) return null;
  const a = attrMap(v, m.off + RTMSG_LEN, m.end);
  const dstLen = v.getUint8(m.off + RTMSG.DST_LEN);
  const d = a.get(RTA.DST);
  const dst = d ? addr(m.bytes, family, d.off, d.end) : null;
  const gw = a.get(RTA.GATEWAY);
  const src = a.get(RTA.PREFSRC);
  let mtu: number | null = null;
  const metrics = a.get(RTA.METRICS);
  if (metrics) mtu = u32(v, attrMap(v, metrics.off, metrics.end).get(RTAX_MTU)) ?? null;
  let oif = u32(v, a.get(RTA.OIF)) ?? null;
  let gateway = gw ? addr(m.bytes, family, gw.off, gw.end) : null;
  const mp = a.get(RTA.MULTIPATH);
  if (mp && mp.end - mp.off >= 8) {
    // struct rtnexthop: len u16, flags u8, hops u8, ifindex i32, then attributes.
    oif = v.getInt32(mp.off + 4, true) || oif;
    const hop = attrMap(v, mp.off + 8, mp.off + v.getUint16(mp.off, true)).get(RTA.GATEWAY);
    if (hop) gateway = addr(m.bytes, family, hop.off, hop.end);
  }
  const proto = v.getUint8(m.off + RTMSG.PROTOCOL);
  const type = v.getUint8(m.off + RTMSG.TYPE);
  const scope = v.getUint8(m.off + RTMSG.SCOPE);
  return {
    Family: family === AF_INET ? "IPv4" : "IPv6",
    Destination: `${dst ?? (family === AF_INET ? "0.0.0.0" : "::")}/${dstLen}`,
    Gateway: gateway,
    Interface_Index: oif,
    Metric: u32(v, a.get(RTA.PRIORITY)) ?? 0,
    Table: u32(v, a.get(RTA.TABLE)) ?? v.getUint8(m.off + RTMSG.TABLE),
    Type: ROUTE_TYPES[type] ?? String(type),
    Protocol: PROTOCOLS[proto] ?? String(proto),
    Scope: SCOPES[scope] ?? String(scope),
    Preferred_Source: src ? addr(m.bytes, family, src.off, src.end) : null,
    Route_MTU: mtu,
  };
}

/** Every route of every table in the namespace of `t`, IPv4 then IPv6. */
export function listRoutes(t: Transport): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const family of [AF_INET, AF_INET6]) {
    const body = new Uint8Array(RTMSG_LEN);
    body[RTMSG.FAMILY] = family;
    for (const m of dump(t, RTM.GETROUTE, body, RTM.NEWROUTE)) {
      const r = parseRouteEntry(m);
      if (r) out.push(r);
    }
  }
  return out;
}
