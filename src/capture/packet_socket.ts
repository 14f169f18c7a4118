/**
 * The AF_PACKET socket under both live sources (TPACKET_V3 ring and recvmmsg): open,
 * classic BPF attach, promiscuous membership, bind to one interface, kernel statistics,
 * privilege drop. Every call goes through ffi/libc.ts.
 */
import { check, cstr, errno, htons, libc, SysError } from "../../ffi/libc.ts";
import {
  AF_PACKET,
  BPF_RET_K,
  EACCES,
  EPERM,
  ETH_P_ALL,
  PACKET_ADD_MEMBERSHIP,
  PACKET_MR_PROMISC,
  PACKET_STATISTICS,
  SO_ATTACH_FILTER,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_PACKET,
  SOL_SOCKET,
} from "../../ffi/constants.ts";
import {
  PACKET_MREQ,
  PASSWD,
  SOCK_FILTER,
  SOCK_FPROG,
  SOCKADDR_LL,
  TPACKET_STATS_V3,
} from "../../ffi/layout.ts";
import { UsageError } from "../errors.ts";
import type { SourceStats } from "./source.ts";

/** The one line shown when the process may not open packet sockets. */
export const NEED_PRIVILEGES =
  "needs root or CAP_NET_RAW: run with sudo, or give the binary the capabilities with " +
  "`sudo setcap cap_net_raw,cap_net_admin+ep $(command -v netmon)`";

/**
 * Opens an AF_PACKET SOCK_RAW socket with protocol 0: it receives nothing until
 * {@link bindPacket} binds it with ETH_P_ALL, so no frame of another interface is
 * queued before the bind and the filter attached in between sees every frame.
 */
export function openPacketSocket(ifName: string): number {
  const fd = libc().socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const e = errno();
    if (e === EPERM || e === EACCES) {
      throw new UsageError(`capturing on '${ifName}' ${NEED_PRIVILEGES}`);
    }
    throw new SysError("socket(AF_PACKET)", e);
  }
  return fd;
}

/** setsockopt with an int value. Returns the raw result (negative = failed, see errno()). */
export function setIntOption(fd: number, level: number, name: number, value: number): number {
  const b = new Int32Array([value]);
  return libc().setsockopt(fd, level, name, new Uint8Array(b.buffer), 4);
}

/** Binds to one interface for every protocol. */
export function bindPacket(fd: number, ifIndex: number): void {
  const sll = new Uint8Array(SOCKADDR_LL.SIZE);
  const v = new DataView(sll.buffer);
  v.setUint16(SOCKADDR_LL.FAMILY, AF_PACKET, true);
  v.setUint16(SOCKADDR_LL.PROTOCOL, htons(ETH_P_ALL), true);
  v.setInt32(SOCKADDR_LL.IFINDEX, ifIndex, true);
  check(libc().bind(fd, sll, SOCKADDR_LL.SIZE), "bind");
}

/** Puts the interface in promiscuous mode for as long as the socket is open. */
export function addPromiscMembership(fd: number, ifIndex: number): void {
  const mreq = new Uint8Array(PACKET_MREQ.SIZE);
  const v = new DataView(mreq.buffer);
  v.setInt32(PACKET_MREQ.IFINDEX, ifIndex, true);
  v.setUint16(PACKET_MREQ.TYPE, PACKET_MR_PROMISC, true);
  check(
    libc().setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, PACKET_MREQ.SIZE),
    "setsockopt(PACKET_ADD_MEMBERSHIP)",
  );
}

/**
 * A copy of a classic BPF program whose constant returns keep at most `snaplen` bytes,
 * so the kernel copies no more than the snap length (as libpcap does). With no program,
 * a one-instruction "accept snaplen bytes" program when snaplen is below the maximum.
 */
export function snapProgram(
  bpf: Uint8Array | null,
  snaplen: number,
  max: number,
): Uint8Array | null {
  if (bpf === null) {
    if (snaplen >= max) return null;
    const p = new Uint8Array(SOCK_FILTER.SIZE);
    const v = new DataView(p.buffer);
    v.setUint16(SOCK_FILTER.CODE, BPF_RET_K, true);
    v.setUint32(SOCK_FILTER.K, snaplen, true);
    return p;
  }
  if (bpf.length === 0 || bpf.length % SOCK_FILTER.SIZE !== 0) {
    throw new Error(`BPF program of ${bpf.length} bytes is not a list of 8-byte instructions`);
  }
  const p = bpf.slice();
  const v = new DataView(p.buffer);
  for (let o = 0; o < p.length; o += SOCK_FILTER.SIZE) {
    if (v.getUint16(o + SOCK_FILTER.CODE, true) === BPF_RET_K) {
      const k = v.getUint32(o + SOCK_FILTER.K, true);
      if (k > snaplen) v.setUint32(o + SOCK_FILTER.K, snaplen, true);
    }
  }
  return p;
}

/** Attaches a classic BPF program (struct sock_filter[]) with SO_ATTACH_FILTER. */
export function attachFilter(fd: number, prog: Uint8Array): void {
  const n = prog.length / SOCK_FILTER.SIZE;
  const insns = new Uint8Array(prog); // own ArrayBuffer: stays put during the call
  const fprog = new Uint8Array(SOCK_FPROG.SIZE);
  const v = new DataView(fprog.buffer);
  v.setUint16(SOCK_FPROG.LEN, n, true);
  v.setBigUint64(
    SOCK_FPROG.FILTER,
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(insns))),
    true,
  );
  check(
    libc().setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, SOCK_FPROG.SIZE),
    "setsockopt(SO_ATTACH_FILTER)",
  );
  // Keep `insns` alive until here (the kernel copied it during setsockopt).
  void insns.length;
}

/**
 * PACKET_STATISTICS totals. The kernel resets its counters on every read, so each read
 * is added here; `tp_packets` already includes the drops (what libpcap calls ps_recv).
 */
export class KernelStats implements SourceStats {
  packets = 0;
  drops = 0;
  freezes = 0;
  readonly #buf = new Uint8Array(TPACKET_STATS_V3.SIZE);
  readonly #len = new Uint32Array(1);

  /** Adds what the kernel counted since the last read. Ignores errors (socket closed). */
  read(fd: number): this {
    if (fd < 0) return this;
    this.#buf.fill(0);
    this.#len[0] = TPACKET_STATS_V3.SIZE;
    const rc = libc().getsockopt(
      fd,
      SOL_PACKET,
      PACKET_STATISTICS,
      this.#buf,
      new Uint8Array(this.#len.buffer),
    );
    if (rc === 0) {
      const v = new DataView(this.#buf.buffer);
      this.packets += v.getUint32(TPACKET_STATS_V3.PACKETS, true);
      this.drops += v.getUint32(TPACKET_STATS_V3.DROPS, true);
      if (this.#len[0] >= TPACKET_STATS_V3.SIZE) {
        this.freezes += v.getUint32(TPACKET_STATS_V3.FREEZE_Q_CNT, true);
      }
    }
    return this;
  }

  snapshot(): SourceStats {
    return { packets: this.packets, drops: this.drops, freezes: this.freezes };
  }
}

/** uid and gid of a user, or a UsageError when there is no such user. */
export function lookupUser(name: string): { uid: number; gid: number } {
  const p = libc().getpwnam(cstr(name));
  if (p === null) throw new UsageError(`--user: unknown user '${name}'`);
  const v = new Deno.UnsafePointerView(p);
  return { uid: v.getUint32(PASSWD.UID), gid: v.getUint32(PASSWD.GID) };
}

/** Drops root like tcpdump -Z: supplementary groups, then gid, then uid (all threads). */
export function dropPrivileges(name: string, ids: { uid: number; gid: number }): void {
  const lc = libc();
  const groups = new Uint32Array([ids.gid]);
  const fail = (call: string) => {
    const e = new SysError(call, errno());
    throw new UsageError(`--user ${name}: cannot drop privileges (${e.message})`);
  };
  if (lc.setgroups(1n, new Uint8Array(groups.buffer)) < 0) fail("setgroups");
  if (lc.setgid(ids.gid) < 0) fail("setgid");
  if (lc.setuid(ids.uid) < 0) fail("setuid");
}
