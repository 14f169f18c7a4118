/**
 * Netlink framing (RFC 3549, linux/netlink.h): building dump requests, splitting replies
 * into messages and messages into route attributes. Pure functions over bytes; the socket
 * is passed in, so tests can feed recorded replies.
 *
 * Netlink uses host byte order; every multi-byte read goes through {@link LE}.
 *
 * @example
 * ```ts
 * import { dump, RTM } from "./netlink.ts";
 * import { openRouteSocket } from "../../ffi/netlink.ts";
 * const sock = openRouteSocket();
 * const links = dump(sock, RTM.GETLINK, new Uint8Array(16)); // ifinfomsg, family AF_UNSPEC
 * sock.close();
 * ```
 * @module
 */

/** struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32. */
const NLMSG = { LEN: 0, TYPE: 4, FLAGS: 6, SEQ: 8, PID: 12 } as const;
export const NLMSG_HDRLEN = 16;
/** struct nlmsgerr: error i32, then the offending header. */
const NLMSGERR_ERROR = 0;
/** struct rtattr / nlattr: len u16, type u16. */
const RTA = { LEN: 0, TYPE: 2 } as const;
export const RTA_HDRLEN = 4;
/** Attribute type bits: nested and network-byte-order flags sit above the type. */
const NLA_TYPE_MASK = 0x3fff;

/** Message types (linux/netlink.h, linux/rtnetlink.h). */
export const NLMSG_TYPE = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const RTM = {
  NEWLINK: 16,
  GETLINK: 18,
  NEWADDR: 20,
  GETADDR: 22,
  NEWROUTE: 24,
  GETROUTE: 26,
} as const;
export const NLM_F = { REQUEST: 0x1, MULTI: 0x2, DUMP_INTR: 0x10, DUMP: 0x300 } as const;

/** True when this machine stores integers little-endian (netlink is host order). */
export const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Rounds up to the 4-byte netlink alignment (NLMSG_ALIGN / RTA_ALIGN). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One netlink message: its header fields and where its payload lies in `bytes`. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  bytes: Uint8Array;
  view: DataView;
  /** Payload (after the 16-byte header) is bytes[off, end). */
  off: number;
  end: number;
}

/** One attribute: type (flags masked off) and where its value lies. */
export interface Attr {
  type: number;
  off: number;
  end: number;
}

/** Builds a dump request: nlmsghdr with NLM_F_REQUEST|NLM_F_DUMP followed by `body`. */
export function dumpRequest(
  type: number,
  seq: number,
  body: Uint8Array,
  flags = NLM_F.REQUEST | NLM_F.DUMP,
): Uint8Array {
  const len = NLMSG_HDRLEN + body.length;
  const out = new Uint8Array(align4(len));
  const v = new DataView(out.buffer);
  v.setUint32(NLMSG.LEN, len, LE);
  v.setUint16(NLMSG.TYPE, type, LE);
  v.setUint16(NLMSG.FLAGS, flags, LE);
  v.setUint32(NLMSG.SEQ, seq, LE);
  v.setUint32(NLMSG.PID, 0, LE);
  out.set(body, NLMSG_HDRLEN);
  return out;
}

/**
 * Splits one datagram into messages. Stops at the first header whose length is
 * impossible (shorter than a header or past the end) instead of looping.
 */
export function splitMessages(bytes: Uint8Array): NlMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= bytes.length) {
    const len = view.getUint32(off + NLMSG.LEN, LE);
    if (len < NLMSG_HDRLEN || off + len > bytes.length) break;
    out.push({
      type: view.getUint16(off + NLMSG.TYPE, LE),
      flags: view.getUint16(off + NLMSG.FLAGS, LE),
      seq: view.getUint32(off + NLMSG.SEQ, LE),
      bytes,
      view,
      off: off + NLMSG_HDRLEN,
      end: off + len,
    });
    off += align4(len);
  }
  return out;
}

/** Parses the attributes in bytes[off, end); a malformed length ends the list. */
export function parseAttrs(view: DataView, off: number, end: number): Attr[] {
  const out: Attr[] = [];
  while (off + RTA_HDRLEN <= end) {
    const len = view.getUint16(off + RTA.LEN, LE);
    if (len < RTA_HDRLEN || off + len > end) break;
    out.push({
      type: view.getUint16(off + RTA.TYPE, LE) & NLA_TYPE_MASK,
      off: off + RTA_HDRLEN,
      end: off + len,
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (the first of each type wins, as the kernel sends one). */
export function attrMap(view: DataView, off: number, end: number): Map<number, Attr> {
  const m = new Map<number, Attr>();
  for (const a of parseAttrs(view, off, end)) if (!m.has(a.type)) m.set(a.type, a);
  return m;
}

/** Readers for attribute values; each returns undefined when the value is too short. */
export function u8(v: DataView, a: Attr | undefined): number | undefined {
  return a && a.end - a.off >= 1 ? v.getUint8(a.off) : undefined;
}
export function u32(v: DataView, a: Attr | undefined): number | undefined {
  return a && a.end - a.off >= 4 ? v.getUint32(a.off, LE) : undefined;
}
export function u64(v: DataView, off: number): number | string {
  const n = v.getBigUint64(off, LE);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}
/** A NUL-terminated string attribute (IFLA_IFNAME, IFA_LABEL, IFLA_INFO_KIND). */
export function str(bytes: Uint8Array, a: Attr | undefined): string | undefined {
  if (!a) return undefined;
  let e = a.off;
  while (e < a.end && bytes[e] !== 0) e++;
  return new TextDecoder().decode(bytes.subarray(a.off, e));
}

/** The bits of a transport that {@link dump} needs (ffi/netlink.ts RouteSocket). */
export interface Transport {
  send(msg: Uint8Array): void;
  recv(): Uint8Array;
}

/** Thrown for an NLMSG_ERROR reply; `errno` is positive (EPERM = 1, ...). */
export class NetlinkError extends Error {
  readonly errno: number;
  constructor(what: string, errno: number) {
    super(`netlink ${what}: error ${errno}`);
    this.name = "NetlinkError";
    this.errno = errno;
  }
}

/** A dump whose contents changed while it ran (NLM_F_DUMP_INTR) is repeated this often. */
const DUMP_TRIES = 5;
let nextSeq = 1;

/**
 * Runs one dump request and returns every reply message of type `want` (in order).
 * Repeats the dump when the kernel flags it inconsistent (NLM_F_DUMP_INTR).
 */
export function dump(t: Transport, type: number, body: Uint8Array, want: number): NlMessage[] {
  for (let attempt = 1;; attempt++) {
    const seq = nextSeq++;
    t.send(dumpRequest(type, seq, body));
    const out: NlMessage[] = [];
    let interrupted = false;
    let done = false;
    while (!done) {
      const msgs = splitMessages(t.recv());
      if (msgs.length === 0) throw new Error(`netlink dump ${type}: empty reply`);
      for (const m of msgs) {
        if (m.seq !== seq) continue; // a stale reply of an earlier request
        if (m.flags & NLM_F.DUMP_INTR) interrupted = true;
        if (m.type === NLMSG_TYPE.DONE) {
          done = true;
          break;
        }
        if (m.type === NLMSG_TYPE.ERROR) {
          const err = m.end - m.off >= 4 ? -m.view.getInt32(m.off + NLMSGERR_ERROR, LE) : 0;
          if (err === 0) continue; // an ACK
          throw new NetlinkError(`dump ${type}`, err);
        }
        if (m.type === want) out.push(m);
      }
    }
    if (!interrupted || attempt >= DUMP_TRIES) return out;
  }
}

/**
 * Sends one request that is not a dump (NLM_F_REQUEST only, e.g. an inet_diag exact-socket
 * query) and returns its reply message of type `want`, or null when the kernel answers
 * with an error in `absent` (ENOENT: no such object). Other errors throw.
 */
export function request(
  t: Transport,
  type: number,
  body: Uint8Array,
  want: number,
  absent: readonly number[] = [],
): NlMessage | null {
  const seq = nextSeq++;
  t.send(dumpRequest(type, seq, body, NLM_F.REQUEST));
  for (;;) {
    const msgs = splitMessages(t.recv());
    if (msgs.length === 0) throw new Error(`netlink request ${type}: empty reply`);
    for (const m of msgs) {
      if (m.seq !== seq) continue; // a stale reply of an earlier request
      if (m.type === NLMSG_TYPE.ERROR) {
        const err = m.end - m.off >= 4 ? -m.view.getInt32(m.off + NLMSGERR_ERROR, LE) : 0;
        if (err === 0) return null;
        if (absent.includes(err)) return null;
        throw new NetlinkError(`request ${type}`, err);
      }
      if (m.type === want) return m;
    }
  }
}
