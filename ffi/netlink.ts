/**
 * Netlink sockets through Deno FFI: the few libc calls `netmon interfaces`, `netmon gateways`,
 * `netmon proc` and process attribution need (socket, setsockopt, sendto, recv, close), for
 * NETLINK_ROUTE and NETLINK_SOCK_DIAG, in this network namespace or in another one (setns(2)
 * around socket(2): a socket stays in the namespace it was created in). Message framing
 * and parsing live in src/net/netlink.ts; this file only moves bytes.
 *
 * Kept apart from ffi/libc.ts (AF_PACKET capture) so the two areas do not share a
 * library handle: each opens libc.so.6 on first use, which is cheap.
 *
 * @example
 * ```ts
 * const sock = openRouteSocket();
 * try {
 *   sock.send(request);
 *   const reply = sock.recv();
 * } finally {
 *   sock.close();
 * }
 * ```
 * @module
 */

/** socket(2) constants (linux/socket.h, linux/netlink.h). */
export const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
/** Netlink protocols (linux/netlink.h). */
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
/** setns(2) namespace type (linux/sched.h CLONE_NEWNET). */
const CLONE_NEWNET = 0x40000000;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_RCVBUF = 8;
/** recv() returns the real datagram length even when it did not fit: truncation is detected. */
const MSG_TRUNC = 0x20;
const EINTR = 4;

/** struct sockaddr_nl: family u16, pad u16, pid u32, groups u32. */
const SOCKADDR_NL_LEN = 12;
/** struct timeval on 64-bit Linux: tv_sec i64, tv_usec i64. */
const TIMEVAL_LEN = 16;
/** Receive buffer: large enough for any dump message the kernel batches (it uses <= 32 KiB). */
const RECV_BUF_LEN = 1 << 18;
/** A dump that stalls this long is an error rather than a hang. */
const RECV_TIMEOUT_S = 5;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let libc: Libc | null = null;

function lib(): Libc {
  if (libc === null) libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return libc;
}

/** An OS error from a libc call, with errno kept for callers that care. */
export class NetlinkOsError extends Error {
  readonly errno: number;
  constructor(call: string, errno: number) {
    super(`${call}: ${describeErrno(errno)}`);
    this.name = "NetlinkOsError";
    this.errno = errno;
  }
}

function errno(): number {
  const p = lib().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** strerror(3) text for an errno value, e.g. "Operation not permitted". */
export function describeErrno(e: number): string {
  const p = lib().strerror(e);
  return p === null ? `errno ${e}` : Deno.UnsafePointerView.getCString(p);
}

/** An open netlink socket. Calls are synchronous: a dump answers at once. */
export interface RouteSocket {
  /** Sends one request to the kernel (pid 0). */
  send(msg: Uint8Array): void;
  /** Receives one datagram (one or more netlink messages). */
  recv(): Uint8Array;
  close(): void;
}

/** Any netlink socket opened here (the name RouteSocket is older than NETLINK_SOCK_DIAG use). */
export type NetlinkSocket = RouteSocket;

/** Opens a NETLINK_ROUTE socket with a receive timeout, so a lost reply cannot hang netmon. */
export function openRouteSocket(netns?: string): RouteSocket {
  return openNetlinkSocket(NETLINK_ROUTE, netns);
}

function cpath(s: string): Uint8Array<ArrayBuffer> {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/**
 * socket(2) for `protocol`, created inside the network namespace `netns` (a path such as
 * `/proc/1234/ns/net` or `/run/netns/NAME`) when one is given: the calling thread enters
 * it with setns(2), creates the socket and returns to its own namespace before anything
 * else runs on this thread. Needs CAP_SYS_ADMIN (EPERM otherwise).
 */
function socketIn(protocol: number, netns: string | undefined): number {
  const c = lib();
  const make = () => c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (netns === undefined) {
    const fd = make();
    if (fd < 0) throw new NetlinkOsError("socket(AF_NETLINK)", errno());
    return fd;
  }
  // thread-self: a Deno Worker runs on its own thread, which setns(2) moves alone.
  const own = c.open(cpath("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC);
  if (own < 0) throw new NetlinkOsError("open(/proc/thread-self/ns/net)", errno());
  try {
    const target = c.open(cpath(netns), O_RDONLY | O_CLOEXEC);
    if (target < 0) throw new NetlinkOsError(`open(${netns})`, errno());
    let fd = -1;
    let err = 0;
    try {
      if (c.setns(target, CLONE_NEWNET) < 0) throw new NetlinkOsError(`setns(${netns})`, errno());
      fd = make();
      if (fd < 0) err = errno();
      if (c.setns(own, CLONE_NEWNET) < 0) {
        // Still in the other namespace: nothing netmon does from here on would be right.
        throw new Error(`setns back to netmon's own network namespace failed: errno ${errno()}`);
      }
    } finally {
      c.close(target);
    }
    if (fd < 0) throw new NetlinkOsError("socket(AF_NETLINK)", err);
    return fd;
  } finally {
    c.close(own);
  }
}

/**
 * A netlink socket (NETLINK_ROUTE, NETLINK_SOCK_DIAG) with a receive timeout, optionally
 * inside another network namespace (see {@link socketIn}).
 */
export function openNetlinkSocket(protocol: number, netns?: string): RouteSocket {
  const c = lib();
  const fd = socketIn(protocol, netns);
  const tv = new DataView(new ArrayBuffer(TIMEVAL_LEN));
  tv.setBigInt64(0, BigInt(RECV_TIMEOUT_S), true);
  c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, new Uint8Array(tv.buffer), TIMEVAL_LEN);
  const rcvbuf = new Uint8Array(4);
  new DataView(rcvbuf.buffer).setInt32(0, 1 << 20, true);
  c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, 4); // best effort: a bigger queue for big dumps
  const kernel = new Uint8Array(SOCKADDR_NL_LEN);
  new DataView(kernel.buffer).setUint16(0, AF_NETLINK, true);
  const buf = new Uint8Array(RECV_BUF_LEN);
  let open = true;
  return {
    send(msg) {
      for (;;) {
        const n = Number(c.sendto(fd, msg, BigInt(msg.length), 0, kernel, SOCKADDR_NL_LEN));
        if (n >= 0) return;
        const e = errno();
        if (e !== EINTR) throw new NetlinkOsError("sendto(netlink)", e);
      }
    },
    recv() {
      for (;;) {
        const n = Number(c.recv(fd, buf, BigInt(buf.length), MSG_TRUNC));
        if (n > buf.length) throw new Error(`netlink: reply of ${n} bytes truncated`);
        if (n >= 0) return buf.slice(0, n);
        const e = errno();
        if (e !== EINTR) throw new NetlinkOsError("recv(netlink)", e);
      }
    },
    close() {
      if (open) c.close(fd);
      open = false;
    },
  };
}
