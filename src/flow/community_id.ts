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
import { sha1ShortBase64 } from "./sha1.ts";

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

/** The counterpart type of a two-way ICMP type, or -1 for one-way types. */
export function icmpCounterpart(proto: number, type: number): number {
  return (proto === IPPROTO_ICMPV6 ? ICMP6_COUNTERPART : ICMP4_COUNTERPART).get(type) ?? -1;
}

/** Protocols whose hash input carries ports. */
export function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP ||
    proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
}

/** -1, 0, 1 comparing two addresses of equal length stored at offsets of two arrays. */
function cmpAddr(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): number {
  for (let i = 0; i < len; i++) {
    if (a[aOff + i] !== b[bOff + i]) return a[aOff + i] < b[bOff + i] ? -1 : 1;
  }
  return 0;
}

/** Scratch buffer for the hash input: 2 + 16 + 16 + 2 + 4 bytes at most. */
const MSG = new Uint8Array(40);

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
  return communityIdAt(saddr, 0, daddr, 0, saddr.length, proto, sport, dport, seed);
}

/** {@link communityIdV1} with addresses read at offsets (no copies): `alen` is 4 or 16. */
export function communityIdAt(
  sb: Uint8Array,
  sOff: number,
  db: Uint8Array,
  dOff: number,
  alen: number,
  proto: number,
  sport: number,
  dport: number,
  seed = 0,
): string {
  let oneWay = false;
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const map = proto === IPPROTO_ICMPV6 ? ICMP6_COUNTERPART : ICMP4_COUNTERPART;
    const other = map.get(sport);
    if (other === undefined) oneWay = true;
    else dport = other;
  }
  const c = cmpAddr(sb, sOff, db, dOff, alen);
  const ordered = oneWay || c < 0 || (c === 0 && sport < dport);
  const m = MSG;
  m[0] = seed >>> 8;
  m[1] = seed & 0xff;
  let o = 2;
  if (ordered) {
    for (let i = 0; i < alen; i++) m[o++] = sb[sOff + i];
    for (let i = 0; i < alen; i++) m[o++] = db[dOff + i];
  } else {
    for (let i = 0; i < alen; i++) m[o++] = db[dOff + i];
    for (let i = 0; i < alen; i++) m[o++] = sb[sOff + i];
    const t = sport;
    sport = dport;
    dport = t;
  }
  m[o++] = proto;
  m[o++] = 0;
  if (hasPorts(proto)) {
    m[o++] = sport >>> 8;
    m[o++] = sport & 0xff;
    m[o++] = dport >>> 8;
    m[o++] = dport & 0xff;
  }
  return "1:" + sha1ShortBase64(m, o);
}

/** Parses an IPv4 or IPv6 text address into bytes (for tests and tools, not the packet path). */
export function parseIp(s: string): Uint8Array {
  if (s.includes(".") && !s.includes(":")) {
    const text = s.split(".");
    const parts = text.map(Number);
    if (parts.length !== 4 || text.some((t, i) => !/^\d{1,3}$/.test(t) || parts[i] > 255)) {
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
