/**
 * Network interfaces from rtnetlink: RTM_GETLINK (name, index, MAC, MTU, state, flags,
 * counters from IFLA_STATS64) and RTM_GETADDR (IPv4/IPv6 addresses with prefix lengths).
 * The same facts `ip -j -s addr` prints, in netmon's Title_Snake_Case.
 *
 * @example
 * ```ts
 * import { listInterfaces } from "./interfaces.ts";
 * for (const i of listInterfaces()) console.log(i.Name, i.Addresses.map((a) => a.Address));
 * ```
 * @module
 */
import { ipv4, ipv6, mac } from "../decode/format.ts";
import {
  type Attr,
  attrMap,
  dump,
  LE,
  type NlMessage,
  RTM,
  str,
  type Transport,
  u32,
  u64,
  u8,
} from "./netlink.ts";
import { openRouteSocket } from "../../ffi/netlink.ts";

/** struct ifinfomsg: family u8, pad u8, type u16, index i32, flags u32, change u32. */
const IFI = { FAMILY: 0, TYPE: 2, INDEX: 4, FLAGS: 8, CHANGE: 12 } as const;
export const IFINFOMSG_LEN = 16;
/** struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32. */
const IFA = { FAMILY: 0, PREFIXLEN: 1, FLAGS: 2, SCOPE: 3, INDEX: 4 } as const;
export const IFADDRMSG_LEN = 8;

/** IFLA_* attribute types (linux/if_link.h). */
const IFLA = {
  ADDRESS: 1,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  STATS: 7,
  MASTER: 10,
  OPERSTATE: 16,
  LINKINFO: 18,
  STATS64: 23,
  LINK_NETNSID: 37,
} as const;
const IFLA_INFO_KIND = 1;
/** IFA_* attribute types (linux/if_addr.h). */
const IFA_ATTR = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;

/** struct rtnl_link_stats64 field index (u64 each); rtnl_link_stats has the same order in u32. */
const STATS = {
  RX_PACKETS: 0,
  TX_PACKETS: 1,
  RX_BYTES: 2,
  TX_BYTES: 3,
  RX_ERRORS: 4,
  TX_ERRORS: 5,
  RX_DROPPED: 6,
  TX_DROPPED: 7,
  MULTICAST: 8,
  COLLISIONS: 9,
} as const;
const STATS_FIELDS = 10;

const AF_INET = 2;
const AF_INET6 = 10;

/** Interface flags (linux/if.h), in the order `ip link` prints them. */
export const IFF: Readonly<Record<string, number>> = {
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
};

/** RFC 2863 operational states as the kernel numbers them (IF_OPER_*). */
const OPERSTATES = ["UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN", "TESTING", "DORMANT", "UP"];

/** ARPHRD_* hardware types, named as `ip -j link` names them (link_type). */
const LINK_TYPES: Readonly<Record<number, string>> = {
  1: "ether",
  32: "infiniband",
  280: "can",
  512: "ppp",
  768: "ipip",
  769: "tunnel6",
  772: "loopback",
  776: "sit",
  778: "gre",
  801: "ieee802.11",
  803: "ieee802.11/radiotap",
  823: "gre6",
  65534: "none",
};

/** Address scopes (rt_scope_t) as `ip` names them. */
export const SCOPES: Readonly<Record<number, string>> = {
  0: "global",
  200: "site",
  253: "link",
  254: "host",
  255: "nowhere",
};

/** IFA_F_* address flags (linux/if_addr.h). Bit 0x01 is "secondary" for IPv4, "temporary" for IPv6. */
const IFA_F: ReadonlyArray<[number, string]> = [
  [0x02, "No_DAD"],
  [0x04, "Optimistic"],
  [0x08, "DAD_Failed"],
  [0x10, "Home"],
  [0x20, "Deprecated"],
  [0x40, "Tentative"],
  [0x80, "Permanent"],
  [0x100, "Manage_Temp_Address"],
  [0x200, "No_Prefix_Route"],
  [0x400, "Auto_Join"],
  [0x800, "Stable_Privacy"],
];
const IFA_F_SECONDARY = 0x01;

export interface InterfaceAddress {
  Family: "IPv4" | "IPv6";
  Address: string;
  Prefix_Length: number;
  /** Peer of a point-to-point address (IFA_ADDRESS differing from IFA_LOCAL). */
  Peer?: string;
  Broadcast?: string;
  Scope: string;
  Label?: string;
  Flags: Record<string, boolean>;
}

/** Counters from IFLA_STATS64 (numbers; a decimal string if beyond 2^53). */
export interface InterfaceCounters {
  RX_Bytes: number | string;
  RX_Packets: number | string;
  RX_Errors: number | string;
  RX_Dropped: number | string;
  TX_Bytes: number | string;
  TX_Packets: number | string;
  TX_Errors: number | string;
  TX_Dropped: number | string;
  Multicast: number | string;
  Collisions: number | string;
}

export interface NetInterface {
  Name: string;
  Index: number;
  /** IFLA_INFO_KIND: "veth", "bridge", "dummy", ...; null for physical devices and lo. */
  Kind: string | null;
  Link_Type: string;
  /** Hardware address, lowercase colon form; null when the device has none. */
  MAC: string | null;
  MTU: number;
  Operstate: string;
  /** Every IFF_* flag by name; RUNNING is the kernel's carrier flag. */
  Flags: Record<string, boolean>;
  /** Bridge or bond this device is enslaved to. */
  Master: string | null;
  /** The peer/lower device (veth peer, VLAN parent); its index when it lives in another namespace. */
  Link: string | number | null;
  Addresses: InterfaceAddress[];
  Counters: InterfaceCounters | null;
}

/** Formats a hardware address: colon hex of any length (6 bytes for Ethernet). */
function hwaddr(bytes: Uint8Array, a: Attr): string {
  if (a.end - a.off === 6) return mac(bytes, a.off);
  return Array.from(bytes.subarray(a.off, a.end), (b) => b.toString(16).padStart(2, "0")).join(
    ":",
  );
}

function ipAddr(bytes: Uint8Array, family: number, a: Attr | undefined): string | undefined {
  if (!a) return undefined;
  if (family === AF_INET && a.end - a.off >= 4) return ipv4(bytes, a.off);
  if (family === AF_INET6 && a.end - a.off >= 16) return ipv6(bytes, a.off);
  return undefined;
}

function counters(v: DataView, attrs: Map<number, Attr>): InterfaceCounters | null {
  let get: (i: number) => number | string;
  const s64 = attrs.get(IFLA.STATS64);
  const s32 = attrs.get(IFLA.STATS);
  if (s64 && s64.end - s64.off >= STATS_FIELDS * 8) get = (i) => u64(v, s64.off + i * 8);
  else if (s32 && s32.end - s32.off >= STATS_FIELDS * 4) {
    get = (i) => v.getUint32(s32.off + i * 4, LE);
  } else return null;
  return {
    RX_Bytes: get(STATS.RX_BYTES),
    RX_Packets: get(STATS.RX_PACKETS),
    RX_Errors: get(STATS.RX_ERRORS),
    RX_Dropped: get(STATS.RX_DROPPED),
    TX_Bytes: get(STATS.TX_BYTES),
    TX_Packets: get(STATS.TX_PACKETS),
    TX_Errors: get(STATS.TX_ERRORS),
    TX_Dropped: get(STATS.TX_DROPPED),
    Multicast: get(STATS.MULTICAST),
    Collisions: get(STATS.COLLISIONS),
  };
}

/** Link as parsed, before indexes are resolved to names. */
interface RawLink {
  iface: NetInterface;
  master: number | undefined;
  link: number | undefined;
  linkOtherNs: boolean;
}

/** Parses one RTM_NEWLINK message; null when it is too short to be one. */
export function parseLink(m: NlMessage): RawLink | null {
  if (m.end - m.off < IFINFOMSG_LEN) return null;
  const v = m.view;
  const flags = v.getUint32(m.off + IFI.FLAGS, LE);
  const type = v.getUint16(m.off + IFI.TYPE, LE);
  const a = attrMap(v, m.off + IFINFOMSG_LEN, m.end);
  const linkinfo = a.get(IFLA.LINKINFO);
  const kind = linkinfo
    ? str(m.bytes, attrMap(v, linkinfo.off, linkinfo.end).get(IFLA_INFO_KIND))
    : undefined;
  const addr = a.get(IFLA.ADDRESS);
  const oper = u8(v, a.get(IFLA.OPERSTATE));
  const flagObj: Record<string, boolean> = {};
  for (const [name, bit] of Object.entries(IFF)) flagObj[name] = (flags & bit) !== 0;
  return {
    iface: {
      Name: str(m.bytes, a.get(IFLA.IFNAME)) ?? "",
      Index: v.getInt32(m.off + IFI.INDEX, LE),
      Kind: kind ?? null,
      Link_Type: LINK_TYPES[type] ?? `[${type}]`,
      MAC: addr && addr.end > addr.off ? hwaddr(m.bytes, addr) : null,
      MTU: u32(v, a.get(IFLA.MTU)) ?? 0,
      Operstate: oper === undefined ? "UNKNOWN" : OPERSTATES[oper] ?? String(oper),
      Flags: flagObj,
      Master: null,
      Link: null,
      Addresses: [],
      Counters: counters(v, a),
    },
    master: u32(v, a.get(IFLA.MASTER)),
    link: u32(v, a.get(IFLA.LINK)),
    linkOtherNs: a.has(IFLA.LINK_NETNSID),
  };
}

/** Parses one RTM_NEWADDR message into its interface index and address. */
export function parseAddr(m: NlMessage): { index: number; addr: InterfaceAddress } | null {
  if (m.end - m.off < IFADDRMSG_LEN) return null;
  const v = m.view;
  const family = v.getUint8(m.off + IFA.FAMILY);
  if (family !== AF_INET && family !== AF_INET6) return null;
  const a = attrMap(v, m.off + IFADDRMSG_LEN, m.end);
  const flags = u32(v, a.get(IFA_ATTR.FLAGS)) ?? v.getUint8(m.off + IFA.FLAGS);
  const local = ipAddr(m.bytes, family, a.get(IFA_ATTR.LOCAL));
  const address = ipAddr(m.bytes, family, a.get(IFA_ATTR.ADDRESS));
  const shown = local ?? address;
  if (shown === undefined) return null;
  const scope = v.getUint8(m.off + IFA.SCOPE);
  const f: Record<string, boolean> = {};
  f[family === AF_INET ? "Secondary" : "Temporary"] = (flags & IFA_F_SECONDARY) !== 0;
  for (const [bit, name] of IFA_F) f[name] = (flags & bit) !== 0;
  const out: InterfaceAddress = {
    Family: family === AF_INET ? "IPv4" : "IPv6",
    Address: shown,
    Prefix_Length: v.getUint8(m.off + IFA.PREFIXLEN),
    Scope: SCOPES[scope] ?? String(scope),
    Flags: f,
  };
  if (local !== undefined && address !== undefined && address !== local) out.Peer = address;
  const brd = ipAddr(m.bytes, family, a.get(IFA_ATTR.BROADCAST));
  if (brd !== undefined) out.Broadcast = brd;
  const label = str(m.bytes, a.get(IFA_ATTR.LABEL));
  if (label !== undefined) out.Label = label;
  return { index: v.getUint32(m.off + IFA.INDEX, LE), addr: out };
}

/** Joins link and address dumps: indexes become names, addresses attach to their link. */
export function assembleInterfaces(links: NlMessage[], addrs: NlMessage[]): NetInterface[] {
  const raw = links.map(parseLink).filter((l): l is RawLink => l !== null);
  const byIndex = new Map(raw.map((l) => [l.iface.Index, l.iface]));
  for (const l of raw) {
    if (l.master !== undefined) l.iface.Master = byIndex.get(l.master)?.Name ?? String(l.master);
    if (l.link !== undefined && l.link !== 0) {
      l.iface.Link = l.linkOtherNs ? l.link : byIndex.get(l.link)?.Name ?? l.link;
    }
  }
  for (const m of addrs) {
    const p = parseAddr(m);
    if (p) byIndex.get(p.index)?.Addresses.push(p.addr);
  }
  return raw.map((l) => l.iface).sort((x, y) => x.Index - y.Index);
}

/**
 * Every interface of the current network namespace with its addresses and counters.
 * Opens its own NETLINK_ROUTE socket unless one is given.
 */
export function listInterfaces(t?: Transport): NetInterface[] {
  const own = t ? null : openRouteSocket();
  const sock = (t ?? own)!;
  try {
    const links = dump(sock, RTM.GETLINK, new Uint8Array(IFINFOMSG_LEN), RTM.NEWLINK);
    const addrs = dump(sock, RTM.GETADDR, new Uint8Array(IFADDRMSG_LEN), RTM.NEWADDR);
    return assembleInterfaces(links, addrs);
  } finally {
    own?.close();
  }
}

/** Interface names by index (for routes). */
export function interfaceNames(list: NetInterface[]): Map<number, string> {
  return new Map(list.map((i) => [i.Index, i.Name]));
}
