/**
 * Community ID v1 (corelight/community-id-spec): a string naming a flow the
 * same way in every tool: "1:" + base64(SHA1(seed, addresses, proto, 0, ports)),
 * endpoints ordered so both directions give the same id.
 *
 * @example
 * ```ts
 * import { communityIdV1, parseIp } from "./community_id.ts";
 * communityIdV1(parseIp("128.232.110.120"), parseIp("66.35.250.204"), 6, 34855, 80);
 * // "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
 * ```
 */
import { createHash } from "node:crypto";

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;

/** ICMP types with a counterpart (request/reply), as in the reference implementation. */
const ICMP4_COUNTERPART = new Map<number, number>([
  [8, 0],
  [0, 8], // echo
  [13, 14],
  [14, 13], // timestamp
  [15, 16],
  [16, 15], // information
  [10, 9], // router solicitation -> advertisement
  [17, 18],
  [18, 17], // address mask
]);
const ICMP6_COUNTERPART = new Map<number, number>([
  [128, 129],
  [129, 128], // echo
  [133, 134],
  [134, 133], // router solicitation / advertisement
  [135, 136],
  [136, 135], // neighbor solicitation / advertisement
  [130, 131],
  [131, 130], // MLD query / report
  [139, 140],
  [140, 139], // node information query / reply
  [144, 145],
  [145, 144], // home agent address discovery
]);

/**
 * Port equivalents of an ICMP message: [sport, dport, oneWay]. Two-way types map to
 * (type, counterpart type); others to (type, code) and are never reordered.
 */
export function icmpPorts(proto: number, type: number, code: number): [number, number, boolean] {
  const map = proto === IPPROTO_ICMPV6 ? ICMP6_COUNTERPART : ICMP4_COUNTERPART;
  const other = map.get(type);
  return other === undefined ? [type, code, true] : [type, other, false];
}

/** Protocols whose hash input carries ports. */
export function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP ||
    proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
}

/** -1, 0, 1 comparing two addresses of equal length. */
function cmpAddr(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Community ID v1 of a flow tuple. For ICMP/ICMPv6 pass the type as `sport` and the
 * code as `dport`: the counterpart mapping is applied here.
 */
export function communityIdV1(
  saddr: Uint8Array,
  daddr: Uint8Array,
  proto: number,
  sport: number,
  dport: number,
  seed = 0,
): string {
  let oneWay = false;
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    [sport, dport, oneWay] = icmpPorts(proto, sport, dport);
  }
  const c = cmpAddr(saddr, daddr);
  const ordered = oneWay || c < 0 || (c === 0 && sport < dport);
  const ports = hasPorts(proto);
  const n = 2 + saddr.length * 2 + 2 + (ports ? 4 : 0);
  const buf = new Uint8Array(n);
  const v = new DataView(buf.buffer);
  v.setUint16(0, seed);
  const [a, b, pa, pb] = ordered ? [saddr, daddr, sport, dport] : [daddr, saddr, dport, sport];
  buf.set(a, 2);
  buf.set(b, 2 + a.length);
  let o = 2 + a.length * 2;
  buf[o++] = proto;
  buf[o++] = 0;
  if (ports) {
    v.setUint16(o, pa);
    v.setUint16(o + 2, pb);
  }
  return "1:" + createHash("sha1").update(buf).digest("base64");
}

/** Parses an IPv4 or IPv6 text address into bytes (for tests and tools, not the packet path). */
export function parseIp(s: string): Uint8Array {
  if (s.includes(".") && !s.includes(":")) {
    const parts = s.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
      throw new RangeError(`bad IPv4 address '${s}'`);
    }
    return Uint8Array.from(parts);
  }
  const out = new Uint8Array(16);
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const words = (x: string): number[] => {
    if (x === "") return [];
    const res: number[] = [];
    for (const p of x.split(":")) {
      if (p.includes(".")) {
        const v4 = parseIp(p);
        res.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else res.push(parseInt(p, 16));
    }
    return res;
  };
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  if (tail === undefined ? h.length !== 8 : h.length + t.length > 7) {
    throw new RangeError(`bad IPv6 address '${s}'`);
  }
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  all.forEach((w, i) => {
    if (!(w >= 0 && w <= 0xffff)) throw new RangeError(`bad IPv6 address '${s}'`);
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
