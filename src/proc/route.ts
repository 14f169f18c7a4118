/**
 * Routing tables: /proc/<pid>/net/route (IPv4 main table, header names, addresses as
 * host-order hex words) and /proc/<pid>/net/ipv6_route (every IPv6 table, no header:
 * the ten fields are fixed by net/ipv6/route.c rt6_info_route, addresses in network order).
 *
 * @module
 */
import {
  HOST_LITTLE_ENDIAN,
  maskLength,
  networkOrderIPv6,
  procAddress,
  wordsToBytes,
} from "./addr.ts";

export interface RouteRow {
  Family: "IPv4" | "IPv6";
  /** `198.51.100.0/24`, `2001:db8::/32`. */
  Destination: string;
  /** Null when the route has no gateway (directly connected). */
  Gateway: string | null;
  Interface: string;
  Metric: number;
  /**
   * IPv4: the kernel's MTU column (advmss + 40 when an advmss is set, else 0).
   * IPv6: null, ipv6_route has no MTU.
   */
  MTU: number | null;
  Flags: number;
  /** route(8) letters: U up, G gateway, H host, R reinstate, D dynamic, M modified, A addrconf, C cache, ! reject. */
  Flag_Text: string;
  Ref_Count: number;
  Use: number;
  /** IPv6 source prefix (subtrees), `::/0` when none. */
  Source?: string;
  Window?: number;
  IRTT?: number;
}

const FLAG_LETTERS: [number, string][] = [
  [0x0001, "U"],
  [0x0002, "G"],
  [0x0004, "H"],
  [0x0008, "R"],
  [0x0010, "D"],
  [0x0020, "M"],
  [0x40000, "A"],
  [0x1000000, "C"],
  [0x0200, "!"],
];

/** Flag letters as route(8) prints them. */
export function routeFlagText(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => (flags & bit) !== 0).map(([, l]) => l).join("");
}

/** Parses /proc/net/route by header name. */
export function parseRoute(text: string, littleEndian = HOST_LITTLE_ENDIAN): RouteRow[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const names = lines[0].trim().split(/\s+/);
  const rows: RouteRow[] = [];
  for (const line of lines.slice(1)) {
    const tokens = line.trim().split(/\s+/);
    const f: Record<string, string> = {};
    names.forEach((n, i) => f[n] = tokens[i] ?? "");
    const dest = procAddress(f.Destination ?? "", littleEndian);
    const gw = procAddress(f.Gateway ?? "", littleEndian);
    const maskBytes = wordsToBytes(f.Mask ?? "", littleEndian);
    if (dest === null || gw === null || maskBytes === null) continue;
    const plen = maskLength(maskBytes);
    const flags = parseInt(f.Flags ?? "0", 16) || 0;
    const num = (k: string) => Number(f[k] ?? 0) || 0;
    rows.push({
      Family: "IPv4",
      Destination: `${dest}/${plen ?? procAddress(f.Mask, littleEndian)}`,
      Gateway: gw === "0.0.0.0" && (flags & 0x2) === 0 ? null : gw,
      Interface: f.Iface ?? "",
      Metric: num("Metric"),
      MTU: num("MTU"),
      Flags: flags,
      Flag_Text: routeFlagText(flags),
      Ref_Count: num("RefCnt"),
      Use: num("Use"),
      Window: num("Window"),
      IRTT: num("IRTT"),
    });
  }
  return rows;
}

/** Parses /proc/net/ipv6_route (fixed fields: dest plen src plen nexthop metric refcnt use flags dev). */
export function parseIPv6Route(text: string): RouteRow[] {
  const rows: RouteRow[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim().split(/\s+/);
    if (t.length < 10) continue;
    const dest = networkOrderIPv6(t[0]);
    const src = networkOrderIPv6(t[2]);
    const hop = networkOrderIPv6(t[4]);
    if (dest === null || src === null || hop === null) continue;
    const flags = parseInt(t[8], 16) >>> 0;
    rows.push({
      Family: "IPv6",
      Destination: `${dest}/${parseInt(t[1], 16)}`,
      Gateway: hop === "::" ? null : hop,
      Interface: t[9],
      Metric: parseInt(t[5], 16) >>> 0,
      MTU: null,
      Flags: flags,
      Flag_Text: routeFlagText(flags),
      Ref_Count: parseInt(t[6], 16) >>> 0,
      Use: parseInt(t[7], 16) >>> 0,
      Source: `${src}/${parseInt(t[3], 16)}`,
    });
  }
  return rows;
}
