/**
 * Fallback receive path when no TPACKET_V3 ring can be set up: batches of frames with
 * one recvmmsg(2) call (MSG_DONTWAIT), waiting with the nonblocking FFI poll when the
 * socket is empty. Timestamps come from SO_TIMESTAMPNS, lengths, VLAN tag and checksum
 * state from PACKET_AUXDATA, the packet type from the sockaddr_ll of each message.
 * All frame slots live in one buffer read through one DataView.
 */
import { errno, libc } from "../../ffi/libc.ts";
import {
  EAGAIN,
  EINTR,
  MSG_DONTWAIT,
  MSG_TRUNC,
  PACKET_AUXDATA,
  PACKET_OUTGOING,
  POLLERR,
  POLLIN,
  SCM_TIMESTAMPNS,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_TIMESTAMPNS,
  SOL_PACKET,
  SOL_SOCKET,
  TP_STATUS_CSUMNOTREADY,
  TP_STATUS_VLAN_TPID_VALID,
  TP_STATUS_VLAN_VALID,
} from "../../ffi/constants.ts";
import {
  cmsgAlign,
  CMSGHDR,
  IOVEC,
  MMSGHDR,
  MSGHDR,
  POLLFD,
  SOCKADDR_LL,
  TIMESPEC,
  TPACKET_AUXDATA,
} from "../../ffi/layout.ts";
import { setIntOption } from "./packet_socket.ts";
import { type ReaderTarget, socketError } from "./ring.ts";
import type { FrameSink, SourceControl } from "./source.ts";
import { type FrameMeta, newFrameMeta } from "../decode/meta.ts";

/** Messages per recvmmsg call. */
const BATCH = 64;
/** Bytes of an 802.1Q/802.1ad tag, and of the two MAC addresses it follows. */
const VLAN_TAG_LEN = 4;
const TWO_MACS = 12;

/** Largest frame slot: a 64 KiB GRO/loopback frame plus its Ethernet header. */
const MAX_SLOT = 65536 + 128;
const NAME_LEN = 32;
const CONTROL_LEN = 128;
const POLL_TIMEOUT_MS = 200;
const YIELD_EVERY_MS = 5;

/** Turns on the socket options the fallback reads (before bind). */
export function prepareRecvSocket(fd: number, bufferBytes: number): void {
  setIntOption(fd, SOL_PACKET, PACKET_AUXDATA, 1);
  setIntOption(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
  // SO_RCVBUFFORCE passes the rmem_max limit with CAP_NET_ADMIN; else the capped SO_RCVBUF.
  if (setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, bufferBytes) < 0) {
    setIntOption(fd, SOL_SOCKET, SO_RCVBUF, bufferBytes);
  }
}

/** Reads frames with recvmmsg batches. */
export class MmsgReader {
  readonly #fd: number;
  readonly #t: ReaderTarget;
  readonly #slot: number;
  readonly #data: Uint8Array;
  readonly #dataView: DataView;
  /** mmsghdr[BATCH] | iovec[BATCH] | names | controls, all in one buffer. */
  readonly #hdr: Uint8Array;
  readonly #hv: DataView;
  readonly #nameOff: number;
  readonly #ctlOff: number;
  readonly #pollfd = new Uint8Array(POLLFD.SIZE);
  readonly #meta: FrameMeta = newFrameMeta();

  constructor(fd: number, t: ReaderTarget) {
    this.#fd = fd;
    this.#t = t;
    this.#slot = (Math.min(t.snaplen, MAX_SLOT) + 63) & ~63;
    this.#data = new Uint8Array(this.#slot * BATCH);
    this.#dataView = new DataView(this.#data.buffer);
    const iovOff = MMSGHDR.SIZE * BATCH;
    this.#nameOff = iovOff + IOVEC.SIZE * BATCH;
    this.#ctlOff = this.#nameOff + NAME_LEN * BATCH;
    this.#hdr = new Uint8Array(this.#ctlOff + CONTROL_LEN * BATCH);
    this.#hv = new DataView(this.#hdr.buffer);
    const hdrBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#hdr)));
    const dataBase = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#data)));
    for (let i = 0; i < BATCH; i++) {
      const m = i * MMSGHDR.SIZE + MMSGHDR.HDR;
      const iov = iovOff + i * IOVEC.SIZE;
      // Each slot starts with VLAN_TAG_LEN bytes of headroom for a stripped tag.
      this.#hv.setBigUint64(
        iov + IOVEC.BASE,
        dataBase + BigInt(i * this.#slot + VLAN_TAG_LEN),
        true,
      );
      this.#hv.setBigUint64(iov + IOVEC.LEN, BigInt(this.#slot - VLAN_TAG_LEN), true);
      this.#hv.setBigUint64(m + MSGHDR.NAME, hdrBase + BigInt(this.#nameOff + i * NAME_LEN), true);
      this.#hv.setBigUint64(m + MSGHDR.IOV, hdrBase + BigInt(iov), true);
      this.#hv.setBigUint64(m + MSGHDR.IOVLEN, 1n, true);
      this.#hv.setBigUint64(
        m + MSGHDR.CONTROL,
        hdrBase + BigInt(this.#ctlOff + i * CONTROL_LEN),
        true,
      );
    }
    const pv = new DataView(this.#pollfd.buffer);
    pv.setInt32(POLLFD.FD, fd, true);
    pv.setInt16(POLLFD.EVENTS, POLLIN | POLLERR, true);
    this.#meta.ifName = t.ifName;
    this.#meta.ifIndex = t.ifIndex;
    this.#meta.linkType = 1;
  }

  #reset(n: number): void {
    const hv = this.#hv;
    for (let i = 0; i < n; i++) {
      const m = i * MMSGHDR.SIZE + MMSGHDR.HDR;
      hv.setUint32(m + MSGHDR.NAMELEN, NAME_LEN, true);
      // size_t fields below 2^32: the low word is the value, the high word stays 0.
      hv.setUint32(m + MSGHDR.CONTROLLEN, CONTROL_LEN, true);
      hv.setInt32(m + MSGHDR.FLAGS, 0, true);
    }
  }

  async run(sink: FrameSink, ctl: SourceControl): Promise<void> {
    const lc = libc();
    let used = BATCH;
    let lastYield = performance.now();
    let idle = true;
    while (!ctl.signal.aborted) {
      this.#reset(used);
      const n = lc.recvmmsg(this.#fd, this.#hdr, BATCH, MSG_DONTWAIT | MSG_TRUNC, null);
      if (n < 0) {
        const e = errno();
        used = 0;
        if (e !== EAGAIN && e !== EINTR) throw socketError(this.#t.ifName, e);
        if (!idle) {
          // The wire went quiet: let the stages flush buffered output (never awaited).
          idle = true;
          ctl.ready().catch(() => {});
        }
        await lc.pollWait(this.#pollfd, 1n, POLL_TIMEOUT_MS);
        lastYield = performance.now();
        continue;
      }
      used = n;
      idle = false;
      for (let i = 0; i < n; i++) {
        this.#deliver(i, sink);
        if (ctl.signal.aborted) return;
      }
      const now = performance.now();
      if (now - lastYield >= YIELD_EVERY_MS) {
        await lc.pollWait(this.#pollfd, 1n, 0);
        lastYield = performance.now();
      }
    }
  }

  #deliver(i: number, sink: FrameSink): void {
    const hv = this.#hv;
    const meta = this.#meta;
    const m = i * MMSGHDR.SIZE;
    const name = this.#nameOff + i * NAME_LEN;
    const pktType = this.#hdr[name + SOCKADDR_LL.PKTTYPE];
    if (this.#t.skipOutgoing && pktType === PACKET_OUTGOING) return;
    const got = hv.getUint32(m + MMSGHDR.LEN, true); // full length (MSG_TRUNC)
    meta.pktType = pktType;
    meta.wireLen = got;
    meta.sec = 0;
    meta.nsec = 0;
    meta.vlanTci = -1;
    meta.vlanTpid = 0x8100;
    meta.csumNotReady = false;
    // Control messages: timestamp and auxdata.
    const ctl = this.#ctlOff + i * CONTROL_LEN;
    // size_t / time_t fields read as two 32-bit words: no BigInt per frame.
    const ctlLen = hv.getUint32(m + MMSGHDR.HDR + MSGHDR.CONTROLLEN, true);
    let c = ctl;
    while (c + CMSGHDR.DATA <= ctl + ctlLen) {
      const len = hv.getUint32(c + CMSGHDR.LEN, true);
      if (len < CMSGHDR.DATA) break;
      const level = hv.getInt32(c + CMSGHDR.LEVEL, true);
      const type = hv.getInt32(c + CMSGHDR.TYPE, true);
      const d = c + CMSGHDR.DATA;
      if (level === SOL_SOCKET && type === SCM_TIMESTAMPNS) {
        meta.sec = hv.getUint32(d + TIMESPEC.SEC, true) +
          hv.getUint32(d + TIMESPEC.SEC + 4, true) * 0x100000000;
        meta.nsec = hv.getUint32(d + TIMESPEC.NSEC, true);
      } else if (level === SOL_PACKET && type === PACKET_AUXDATA) {
        const st = hv.getUint32(d + TPACKET_AUXDATA.STATUS, true);
        meta.wireLen = hv.getUint32(d + TPACKET_AUXDATA.LEN, true);
        meta.csumNotReady = (st & TP_STATUS_CSUMNOTREADY) !== 0;
        if ((st & TP_STATUS_VLAN_VALID) !== 0) {
          meta.vlanTci = hv.getUint16(d + TPACKET_AUXDATA.VLAN_TCI, true);
          if ((st & TP_STATUS_VLAN_TPID_VALID) !== 0) {
            meta.vlanTpid = hv.getUint16(d + TPACKET_AUXDATA.VLAN_TPID, true);
          }
        }
      }
      c += cmsgAlign(len);
    }
    const room = this.#slot - VLAN_TAG_LEN;
    let cap = got < room ? got : room;
    if (cap > this.#t.snaplen) cap = this.#t.snaplen;
    meta.capLen = cap;
    let start = i * this.#slot + VLAN_TAG_LEN;
    if (meta.vlanTci >= 0 && cap >= TWO_MACS) {
      // Put the stripped tag back where it was on the wire (as libpcap does).
      const d = this.#data, dv = this.#dataView;
      d.copyWithin(start - VLAN_TAG_LEN, start, start + TWO_MACS);
      start -= VLAN_TAG_LEN;
      dv.setUint16(start + TWO_MACS, meta.vlanTpid);
      dv.setUint16(start + TWO_MACS + 2, meta.vlanTci);
      meta.capLen += VLAN_TAG_LEN;
      meta.wireLen += VLAN_TAG_LEN;
      meta.vlanTci = -1;
      meta.vlanTpid = 0x8100;
    }
    sink(this.#dataView, this.#data, start, meta);
  }
}
