/**
 * NETLINK_SOCK_DIAG for inet sockets (linux/sock_diag.h, linux/inet_diag.h): dumps of every
 * TCP, UDP or raw socket of one family, exact-tuple queries for one socket, and the
 * attributes netmon reads (INET_DIAG_INFO = struct tcp_info, INET_DIAG_CGROUP_ID,
 * INET_DIAG_SKV6ONLY). Requests and parsing are pure functions over bytes; the socket is a
 * {@link Transport} (ffi/netlink.ts `openNetlinkSocket(NETLINK_SOCK_DIAG, netns?)`).
 *
 * Which end is "source" in a request depends on the protocol, for the kernel's historical
 * reasons: TCP looks the socket up as if a packet came *from* `id.dst` *to* `id.src` (so src
 * is the socket's local end), UDP as if a packet came from src to dst (dst is the local end),
 * raw matches raddr = dst, laddr = src. {@link querySocket} takes local and remote and sets
 * the fields right for each.
 *
 * @example
 * ```ts
 * import { openNetlinkSocket, NETLINK_SOCK_DIAG } from "../../ffi/netlink.ts";
 * const t = openNetlinkSocket(NETLINK_SOCK_DIAG);
 * for (const s of dumpSockets(t, 4, IPPROTO.TCP)) console.log(s.Local_Port, s.Inode);
 * t.close();
 * ```
 * @module
 */
import { ipv4, ipv6 } from "../decode/format.ts";
import { attrMap, dump, LE, type NlMessage, request, type Transport, u8 } from "./netlink.ts";

/** SOCK_DIAG_BY_FAMILY: the request and reply message type. */
export const SOCK_DIAG_BY_FAMILY = 20;
export const IPPROTO = { TCP: 6, UDP: 17, RAW: 255 } as const;
const AF_INET = 2;
const AF_INET6 = 10;
const ENOENT = 2;

/** struct inet_diag_sockid: ports (network order), addresses (network order), if, cookie. */
const SOCKID = { SPORT: 0, DPORT: 2, SRC: 4, DST: 20, IF: 36, COOKIE: 40 } as const;
const SOCKID_LEN = 48;
/** struct inet_diag_req_v2: family, protocol, ext, pad (raw: protocol), states, sockid. */
const REQ = { FAMILY: 0, PROTOCOL: 1, EXT: 2, RAW_PROTOCOL: 3, STATES: 4, ID: 8 } as const;
export const INET_DIAG_REQ_V2_LEN = 8 + SOCKID_LEN;
/** struct inet_diag_msg. */
const MSG = {
  FAMILY: 0,
  STATE: 1,
  TIMER: 2,
  RETRANS: 3,
  ID: 4,
  EXPIRES: 52,
  RQUEUE: 56,
  WQUEUE: 60,
  UID: 64,
  INODE: 68,
} as const;
export const INET_DIAG_MSG_LEN = 72;
/** INET_DIAG_* attribute types. */
const ATTR = { INFO: 2, SHUTDOWN: 8, PROTOCOL: 10, SKV6ONLY: 11, CGROUP_ID: 21 } as const;
/** idiag_ext bits: 1 << (attribute - 1). */
const EXT_INFO = 1 << (ATTR.INFO - 1);
/** No cookie in an exact query: match by tuple. */
const NOCOOKIE = 0xffffffff;

/** struct tcp_info offsets (linux/tcp.h), each read only when the kernel sent that far. */
const TCPI = {
  STATE: 0,
  CA_STATE: 1,
  RETRANSMITS: 2,
  PROBES: 3,
  BACKOFF: 4,
  OPTIONS: 5,
  WSCALE: 6,
  RTO: 8,
  ATO: 12,
  SND_MSS: 16,
  RCV_MSS: 20,
  UNACKED: 24,
  SACKED: 28,
  LOST: 32,
  RETRANS: 36,
  LAST_DATA_SENT: 44,
  LAST_DATA_RECV: 52,
  LAST_ACK_RECV: 56,
  PMTU: 60,
  RCV_SSTHRESH: 64,
  RTT: 68,
  RTTVAR: 72,
  SND_SSTHRESH: 76,
  SND_CWND: 80,
  ADVMSS: 84,
  REORDERING: 88,
  RCV_RTT: 92,
  RCV_SPACE: 96,
  TOTAL_RETRANS: 100,
  PACING_RATE: 104,
  BYTES_ACKED: 120,
  BYTES_RECEIVED: 128,
  SEGS_OUT: 136,
  SEGS_IN: 140,
  NOTSENT_BYTES: 144,
  MIN_RTT: 148,
  DELIVERY_RATE: 160,
  BYTES_SENT: 200,
  BYTES_RETRANS: 208,
} as const;

/** Every TCP state (1..12) for a dump's state mask. */
export const ALL_STATES = 0xffffffff;

/** TCP congestion-avoidance states (ss prints them as `ca_state`). */
const CA_STATES = ["open", "disorder", "cwr", "recovery", "loss"];

/** The `ss -ti` numbers of one TCP socket (times in milliseconds, as ss prints them). */
export interface TcpInfo {
  RTT_Ms: number;
  RTT_Var_Ms: number;
  Min_RTT_Ms?: number;
  RTO_Ms: number;
  ATO_Ms: number;
  Cwnd: number;
  Ssthresh: number;
  Send_MSS: number;
  Receive_MSS: number;
  PMTU: number;
  /** Segments retransmitted and not yet acknowledged, and over the connection's life. */
  Retrans: number;
  Total_Retrans: number;
  Unacked: number;
  Lost: number;
  Bytes_Acked: number;
  Bytes_Received: number;
  Bytes_Sent?: number;
  Bytes_Retrans?: number;
  Segs_Out: number;
  Segs_In: number;
  Not_Sent_Bytes?: number;
  /** Bytes per second (tcpi_pacing_rate, tcpi_delivery_rate). */
  Pacing_Rate: number;
  Delivery_Rate?: number;
  Congestion_State: string;
}

/** One socket as inet_diag reports it. Addresses as text (RFC 5952), v4-mapped kept. */
export interface DiagSocket {
  Family: 4 | 6;
  Protocol: number;
  /** Kernel state number (1 ESTABLISHED ... 10 LISTEN ...; UDP: 7 unconnected, 1 connected). */
  State: number;
  Local_Address: string;
  Local_Port: number;
  Remote_Address: string;
  Remote_Port: number;
  Interface_Index: number;
  /** Socket cookie (unique per socket; TIME_WAIT sockets keep the cookie of their socket). */
  Cookie: number;
  UID: number;
  /** Socket inode (0 once no process holds it: TIME_WAIT, orphaned, in an accept queue). */
  Inode: number;
  Receive_Queue: number;
  Send_Queue: number;
  Timer: number;
  Expires_Ms: number;
  Retransmits: number;
  /** cgroup v2 id of the socket (INET_DIAG_CGROUP_ID), when the kernel sends it. */
  Cgroup_ID?: number;
  /** IPV6_V6ONLY of an IPv6 socket. */
  V6_Only?: boolean;
  /** Raw sockets: the IP protocol. */
  Raw_Protocol?: number;
  TCP_Info?: TcpInfo;
}

/** Options of a request. */
export interface DiagOptions {
  /** Ask for INET_DIAG_INFO (struct tcp_info). */
  info?: boolean;
  /** State mask (bit per state), default every state. */
  states?: number;
  /** Raw sockets: which IP protocol (IPPROTO_ICMP ...). */
  rawProtocol?: number;
}

/** The request body (struct inet_diag_req_v2) for a dump or a query. */
export function diagRequest(
  family: 4 | 6,
  protocol: number,
  opts: DiagOptions = {},
): Uint8Array {
  const b = new Uint8Array(INET_DIAG_REQ_V2_LEN);
  const v = new DataView(b.buffer);
  b[REQ.FAMILY] = family === 4 ? AF_INET : AF_INET6;
  b[REQ.PROTOCOL] = protocol;
  b[REQ.EXT] = opts.info ? EXT_INFO : 0;
  b[REQ.RAW_PROTOCOL] = opts.rawProtocol ?? 0;
  v.setUint32(REQ.STATES, opts.states ?? ALL_STATES, LE);
  v.setUint32(REQ.ID + SOCKID.COOKIE, NOCOOKIE, LE);
  v.setUint32(REQ.ID + SOCKID.COOKIE + 4, NOCOOKIE, LE);
  return b;
}

function addrText(bytes: Uint8Array, off: number, family: number): string {
  return family === AF_INET ? ipv4(bytes, off) : ipv6(bytes, off);
}

function u64At(v: DataView, off: number): number {
  return v.getUint32(off, LE) + v.getUint32(off + 4, LE) * 0x100000000;
}

/** struct tcp_info from an INET_DIAG_INFO attribute (fields past its length are omitted). */
export function parseTcpInfo(v: DataView, off: number, end: number): TcpInfo | null {
  const len = end - off;
  if (len < TCPI.SEGS_IN + 4) return null;
  const u32 = (o: number) => v.getUint32(off + o, LE);
  const ms = (o: number) => u32(o) / 1000;
  const info: TcpInfo = {
    RTT_Ms: ms(TCPI.RTT),
    RTT_Var_Ms: ms(TCPI.RTTVAR),
    RTO_Ms: ms(TCPI.RTO),
    ATO_Ms: ms(TCPI.ATO),
    Cwnd: u32(TCPI.SND_CWND),
    Ssthresh: u32(TCPI.SND_SSTHRESH),
    Send_MSS: u32(TCPI.SND_MSS),
    Receive_MSS: u32(TCPI.RCV_MSS),
    PMTU: u32(TCPI.PMTU),
    Retrans: u32(TCPI.RETRANS),
    Total_Retrans: u32(TCPI.TOTAL_RETRANS),
    Unacked: u32(TCPI.UNACKED),
    Lost: u32(TCPI.LOST),
    Bytes_Acked: u64At(v, off + TCPI.BYTES_ACKED),
    Bytes_Received: u64At(v, off + TCPI.BYTES_RECEIVED),
    Segs_Out: u32(TCPI.SEGS_OUT),
    Segs_In: u32(TCPI.SEGS_IN),
    Pacing_Rate: u64At(v, off + TCPI.PACING_RATE),
    Congestion_State: CA_STATES[v.getUint8(off + TCPI.CA_STATE)] ??
      String(v.getUint8(off + TCPI.CA_STATE)),
  };
  if (len >= TCPI.NOTSENT_BYTES + 4) info.Not_Sent_Bytes = u32(TCPI.NOTSENT_BYTES);
  if (len >= TCPI.MIN_RTT + 4) info.Min_RTT_Ms = ms(TCPI.MIN_RTT);
  if (len >= TCPI.DELIVERY_RATE + 8) info.Delivery_Rate = u64At(v, off + TCPI.DELIVERY_RATE);
  if (len >= TCPI.BYTES_SENT + 8) info.Bytes_Sent = u64At(v, off + TCPI.BYTES_SENT);
  if (len >= TCPI.BYTES_RETRANS + 8) info.Bytes_Retrans = u64At(v, off + TCPI.BYTES_RETRANS);
  return info;
}

/** One SOCK_DIAG_BY_FAMILY reply message as a {@link DiagSocket}; null when too short. */
export function parseDiagMsg(m: NlMessage, protocol: number): DiagSocket | null {
  if (m.end - m.off < INET_DIAG_MSG_LEN) return null;
  const v = m.view, o = m.off, b = m.bytes;
  const family = v.getUint8(o + MSG.FAMILY);
  if (family !== AF_INET && family !== AF_INET6) return null;
  const id = o + MSG.ID;
  const s: DiagSocket = {
    Family: family === AF_INET ? 4 : 6,
    Protocol: protocol,
    State: v.getUint8(o + MSG.STATE),
    Local_Address: addrText(b, id + SOCKID.SRC, family),
    Local_Port: v.getUint16(id + SOCKID.SPORT),
    Remote_Address: addrText(b, id + SOCKID.DST, family),
    Remote_Port: v.getUint16(id + SOCKID.DPORT),
    Interface_Index: v.getUint32(id + SOCKID.IF, LE),
    Cookie: u64At(v, id + SOCKID.COOKIE),
    UID: v.getUint32(o + MSG.UID, LE),
    Inode: v.getUint32(o + MSG.INODE, LE),
    Receive_Queue: v.getUint32(o + MSG.RQUEUE, LE),
    Send_Queue: v.getUint32(o + MSG.WQUEUE, LE),
    Timer: v.getUint8(o + MSG.TIMER),
    Expires_Ms: v.getUint32(o + MSG.EXPIRES, LE),
    Retransmits: v.getUint8(o + MSG.RETRANS),
  };
  const a = attrMap(v, o + INET_DIAG_MSG_LEN, m.end);
  const cg = a.get(ATTR.CGROUP_ID);
  if (cg && cg.end - cg.off >= 8) s.Cgroup_ID = u64At(v, cg.off);
  const v6only = u8(v, a.get(ATTR.SKV6ONLY));
  if (v6only !== undefined) s.V6_Only = v6only !== 0;
  const proto = u8(v, a.get(ATTR.PROTOCOL));
  if (protocol === IPPROTO.RAW && proto !== undefined) s.Raw_Protocol = proto;
  const info = a.get(ATTR.INFO);
  if (info && protocol === IPPROTO.TCP) {
    const ti = parseTcpInfo(v, info.off, info.end);
    if (ti) s.TCP_Info = ti;
  }
  return s;
}

/** Every socket of one family and protocol (one dump; repeated when the kernel interrupts it). */
export function dumpSockets(
  t: Transport,
  family: 4 | 6,
  protocol: number,
  opts: DiagOptions = {},
): DiagSocket[] {
  const out: DiagSocket[] = [];
  const body = diagRequest(family, protocol, opts);
  for (const m of dump(t, SOCK_DIAG_BY_FAMILY, body, SOCK_DIAG_BY_FAMILY)) {
    const s = parseDiagMsg(m, protocol);
    if (s) out.push(s);
  }
  return out;
}

/**
 * The one socket with local end (`local`, `lport`) and remote end (`remote`, `rport`), as the
 * kernel itself would find it for a packet of that connection: TCP falls back to the
 * listening socket, UDP to a wildcard-bound or unconnected socket. Addresses are 4 or 16
 * bytes in network order (an IPv4 packet is asked for in family 4; the kernel also finds
 * dual-stack IPv6 sockets then). Null when there is no such socket.
 */
export function querySocket(
  t: Transport,
  protocol: number,
  local: Uint8Array,
  lport: number,
  remote: Uint8Array,
  rport: number,
  opts: DiagOptions = {},
): DiagSocket | null {
  const family = local.length === 4 ? 4 : 6;
  const body = diagRequest(family, protocol, opts);
  const v = new DataView(body.buffer);
  const id = REQ.ID;
  // TCP and raw: src is the local end; UDP: dst is (see the module comment).
  const [src, sport, dst, dport] = protocol === IPPROTO.UDP
    ? [remote, rport, local, lport]
    : [local, lport, remote, rport];
  v.setUint16(id + SOCKID.SPORT, sport);
  v.setUint16(id + SOCKID.DPORT, dport);
  body.set(src, id + SOCKID.SRC);
  body.set(dst, id + SOCKID.DST);
  const m = request(t, SOCK_DIAG_BY_FAMILY, body, SOCK_DIAG_BY_FAMILY, [ENOENT]);
  return m === null ? null : parseDiagMsg(m, protocol);
}

/** Kernel socket states netmon tells apart (include/net/tcp_states.h). */
export const TCP_LISTEN = 10;
export const TCP_TIME_WAIT = 6;
