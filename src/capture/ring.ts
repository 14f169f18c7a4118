/**
 * TPACKET_V3 receive ring: one mmap of `blockNr` blocks, read through ONE DataView
 * over the whole mapping. Frames are handed to the sink in place; each block goes
 * back to the kernel (block_status = TP_STATUS_KERNEL) as soon as its frames were
 * handed over. When the current block is not ready the source awaits an FFI poll
 * declared `nonblocking`, so timers, signals and the shipper keep running.
 */
import { check, errno, libc, strerror, SysError } from "../../ffi/libc.ts";
import {
  ENETDOWN,
  ENODEV,
  ENOMEM,
  ENXIO,
  MAP_SHARED,
  PACKET_OUTGOING,
  PACKET_RESERVE,
  PACKET_RX_RING,
  PACKET_VERSION,
  POLLERR,
  POLLIN,
  POLLNVAL,
  PROT_READ,
  PROT_WRITE,
  SO_ERROR,
  SOL_PACKET,
  SOL_SOCKET,
  TP_STATUS_CSUMNOTREADY,
  TP_STATUS_KERNEL,
  TP_STATUS_USER,
  TP_STATUS_VLAN_TPID_VALID,
  TP_STATUS_VLAN_VALID,
  TPACKET_V3,
} from "../../ffi/constants.ts";
import {
  BLOCK_DESC,
  POLLFD,
  RING_SLL_OFFSET,
  SOCKADDR_LL,
  TPACKET3_HDR,
  TPACKET_REQ3,
} from "../../ffi/layout.ts";
import { setIntOption } from "./packet_socket.ts";
import type { FrameSink, SourceControl } from "./source.ts";
import { type FrameMeta, newFrameMeta } from "../decode/meta.ts";

/** Ring geometry: block size and count (frame size only satisfies the kernel's checks). */
export interface RingGeometry {
  blockSize: number;
  blockNr: number;
  frameSize: number;
}

/** Smallest block; blocks grow (powers of two) until a full snap-length frame fits. */
const MIN_BLOCK = 128 * 1024;
/** Headroom for tpacket3_hdr + sockaddr_ll + alignment in front of the frame. */
const FRAME_OVERHEAD = 512;
const FRAME_SIZE = 2048;
/** Fewer blocks than this and the kernel has nowhere to write while one is read. */
export const MIN_BLOCKS = 2;
/** A block that is not full yet is handed over after this many ms (latency on a quiet wire). */
const RETIRE_BLOCK_MS = 20;
/** How long one wait for the next block may last before the abort signal is checked. */
const POLL_TIMEOUT_MS = 200;
/** While blocks keep coming, let the event loop run at least this often. */
const YIELD_EVERY_MS = 5;

/** Block size for `snaplen` and the block count for a ring of `bufferBytes`. */
export function ringGeometry(snaplen: number, bufferBytes: number): RingGeometry {
  let blockSize = MIN_BLOCK;
  while (blockSize < snaplen + FRAME_OVERHEAD) blockSize *= 2;
  const blockNr = Math.max(MIN_BLOCKS, Math.floor(bufferBytes / blockSize));
  return { blockSize, blockNr, frameSize: FRAME_SIZE };
}

/** Raised when the ring cannot be set up; `enomem` says a smaller ring may work. */
export class RingSetupError extends Error {
  readonly enomem: boolean;
  constructor(message: string, enomem: boolean) {
    super(message);
    this.name = "RingSetupError";
    this.enomem = enomem;
  }
}

/** Switches the socket to TPACKET_V3 (fails on kernels before 3.2). */
export function setTpacketV3(fd: number): void {
  if (setIntOption(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3) < 0) {
    const e = new SysError("setsockopt(PACKET_VERSION, TPACKET_V3)", errno());
    throw new RingSetupError(e.message, false);
  }
  // Room in front of each frame to put back a VLAN tag the kernel stripped (as libpcap does).
  if (setIntOption(fd, SOL_PACKET, PACKET_RESERVE, VLAN_TAG_LEN) < 0) {
    const e = new SysError("setsockopt(PACKET_RESERVE)", errno());
    throw new RingSetupError(e.message, false);
  }
}

/** Bytes of an 802.1Q/802.1ad tag. */
const VLAN_TAG_LEN = 4;
/** Destination and source MAC addresses. */
const TWO_MACS = 12;

function ringRequest(g: RingGeometry | null): Uint8Array {
  const req = new Uint8Array(TPACKET_REQ3.SIZE);
  if (g === null) return req; // all zero: frees the ring
  const v = new DataView(req.buffer);
  v.setUint32(TPACKET_REQ3.BLOCK_SIZE, g.blockSize, true);
  v.setUint32(TPACKET_REQ3.BLOCK_NR, g.blockNr, true);
  v.setUint32(TPACKET_REQ3.FRAME_SIZE, g.frameSize, true);
  v.setUint32(TPACKET_REQ3.FRAME_NR, (g.blockSize / g.frameSize) * g.blockNr, true);
  v.setUint32(TPACKET_REQ3.RETIRE_BLK_TOV, RETIRE_BLOCK_MS, true);
  return req;
}

/** Sets up PACKET_RX_RING and maps it. Throws {@link RingSetupError}. */
export function mapRing(fd: number, g: RingGeometry): Deno.PointerObject {
  const lc = libc();
  if (lc.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, ringRequest(g), TPACKET_REQ3.SIZE) < 0) {
    const e = errno();
    throw new RingSetupError(new SysError("setsockopt(PACKET_RX_RING)", e).message, e === ENOMEM);
  }
  const size = g.blockSize * g.blockNr;
  const p = lc.mmap(null, BigInt(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0n);
  const addr = p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));
  if (p === null || addr === 0xffffffffffffffffn) {
    const e = errno();
    lc.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, ringRequest(null), TPACKET_REQ3.SIZE);
    throw new RingSetupError(new SysError("mmap(rx ring)", e).message, e === ENOMEM);
  }
  return p;
}

/**
 * Calls `map(g)`, halving the block count after each ENOMEM until the ring would be
 * smaller than `minBytes` (or than {@link MIN_BLOCKS} blocks); then rethrows.
 *
 * @example
 * ```ts
 * const { value: ptr, geometry } = mapShrinking(ringGeometry(262144, 64 << 20), 1 << 20, (g) => mapRing(fd, g));
 * ```
 */
export function mapShrinking<T>(
  g0: RingGeometry,
  minBytes: number,
  map: (g: RingGeometry) => T,
): { value: T; geometry: RingGeometry } {
  let g = g0;
  for (;;) {
    try {
      return { value: map(g), geometry: g };
    } catch (e) {
      if (!(e instanceof RingSetupError) || !e.enomem) throw e;
      const next = Math.floor(g.blockNr / 2);
      if (next < MIN_BLOCKS || next * g.blockSize < minBytes) throw e;
      g = { ...g, blockNr: next };
    }
  }
}

/** Per-interface facts the reader fills into every FrameMeta. */
export interface ReaderTarget {
  ifName: string;
  ifIndex: number;
  snaplen: number;
  /** Skip PACKET_OUTGOING frames (loopback without PACKET_IGNORE_OUTGOING: each frame twice). */
  skipOutgoing: boolean;
}

/** The error for a capture socket that failed (ENETDOWN when the interface went away). */
export function socketError(ifName: string, err: number): Error {
  const what = strerror(err);
  if (err === ENETDOWN || err === ENODEV || err === ENXIO) {
    return new Error(`interface '${ifName}' went down or disappeared (${what})`);
  }
  return new Error(`capture on '${ifName}' failed: ${what}`);
}

/** Reads a mapped TPACKET_V3 ring. */
export class RingReader {
  readonly #fd: number;
  readonly #ptr: Deno.PointerObject;
  readonly #size: number;
  readonly #g: RingGeometry;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  /**
   * The ring as 32-bit words, for the block status only: Atomics.load/store give the
   * acquire/release ordering the kernel's smp_wmb/smp_rmb pairing expects (a plain load
   * would do on x86, not on arm64).
   */
  readonly #words: Int32Array;
  readonly #pollfd = new Uint8Array(POLLFD.SIZE);
  readonly #meta: FrameMeta = newFrameMeta();
  readonly #t: ReaderTarget;
  #block = 0;
  #mapped = true;

  constructor(fd: number, ptr: Deno.PointerObject, g: RingGeometry, t: ReaderTarget) {
    this.#fd = fd;
    this.#ptr = ptr;
    this.#g = g;
    this.#t = t;
    this.#size = g.blockSize * g.blockNr;
    const ab = Deno.UnsafePointerView.getArrayBuffer(ptr, this.#size);
    this.#view = new DataView(ab);
    this.#bytes = new Uint8Array(ab);
    this.#words = new Int32Array(ab);
    const pv = new DataView(this.#pollfd.buffer);
    pv.setInt32(POLLFD.FD, fd, true);
    pv.setInt16(POLLFD.EVENTS, POLLIN | POLLERR, true);
    this.#meta.ifName = t.ifName;
    this.#meta.ifIndex = t.ifIndex;
    this.#meta.linkType = 1;
  }

  get geometry(): RingGeometry {
    return this.#g;
  }

  /** Hands every frame to `sink` until the abort signal; never waits on the sink. */
  async run(sink: FrameSink, ctl: SourceControl): Promise<void> {
    const lc = libc();
    const { blockSize, blockNr } = this.#g;
    let lastYield = performance.now();
    let idle = true;
    while (!ctl.signal.aborted && this.#mapped) {
      const base = this.#block * blockSize;
      const statusWord = (base + BLOCK_DESC.BLOCK_STATUS) >> 2;
      if ((Atomics.load(this.#words, statusWord) & TP_STATUS_USER) === 0) {
        if (!idle) {
          // The wire went quiet: let the stages flush buffered output (never awaited).
          idle = true;
          ctl.ready().catch(() => {});
        }
        this.#pollfd[POLLFD.REVENTS] = 0;
        this.#pollfd[POLLFD.REVENTS + 1] = 0;
        const rc = await lc.pollWait(this.#pollfd, 1n, POLL_TIMEOUT_MS);
        lastYield = performance.now();
        if (rc > 0) this.#checkRevents();
        continue;
      }
      this.#walkBlock(base, sink, ctl.signal);
      idle = false;
      Atomics.store(this.#words, statusWord, TP_STATUS_KERNEL);
      this.#block = this.#block + 1 === blockNr ? 0 : this.#block + 1;
      const now = performance.now();
      if (now - lastYield >= YIELD_EVERY_MS) {
        // A zero-timeout poll on the helper thread: one macrotask turn for timers and signals.
        await lc.pollWait(this.#pollfd, 1n, 0);
        lastYield = performance.now();
      }
    }
  }

  #checkRevents(): void {
    const rev = new DataView(this.#pollfd.buffer).getInt16(POLLFD.REVENTS, true);
    if ((rev & POLLNVAL) !== 0) throw new Error(`capture socket on '${this.#t.ifName}' was closed`);
    if ((rev & POLLERR) !== 0) {
      // The kernel flags the socket when the interface goes down or disappears.
      const ok = new Uint8Array(4);
      const len = new Uint32Array([4]);
      libc().getsockopt(this.#fd, SOL_SOCKET, SO_ERROR, ok, new Uint8Array(len.buffer));
      const err = new DataView(ok.buffer).getInt32(0, true);
      if (err !== 0) throw socketError(this.#t.ifName, err);
    }
  }

  #walkBlock(base: number, sink: FrameSink, signal: AbortSignal): void {
    const v = this.#view;
    const bytes = this.#bytes;
    const meta = this.#meta;
    const snaplen = this.#t.snaplen;
    const skipOutgoing = this.#t.skipOutgoing;
    const n = v.getUint32(base + BLOCK_DESC.NUM_PKTS, true);
    let p = base + v.getUint32(base + BLOCK_DESC.OFFSET_TO_FIRST_PKT, true);
    for (let i = 0; i < n; i++) {
      const status = v.getUint32(p + TPACKET3_HDR.STATUS, true);
      const pktType = bytes[p + RING_SLL_OFFSET + SOCKADDR_LL.PKTTYPE];
      if (!(skipOutgoing && pktType === PACKET_OUTGOING)) {
        const snap = v.getUint32(p + TPACKET3_HDR.SNAPLEN, true);
        meta.sec = v.getUint32(p + TPACKET3_HDR.SEC, true);
        meta.nsec = v.getUint32(p + TPACKET3_HDR.NSEC, true);
        meta.wireLen = v.getUint32(p + TPACKET3_HDR.LEN, true);
        meta.capLen = snap < snaplen ? snap : snaplen;
        meta.pktType = pktType;
        meta.vlanTci = -1;
        meta.vlanTpid = 0x8100;
        let mac = p + v.getUint16(p + TPACKET3_HDR.MAC, true);
        if ((status & TP_STATUS_VLAN_VALID) !== 0 && meta.capLen >= TWO_MACS) {
          // The kernel stripped the tag: put it back into the frame, in the headroom that
          // PACKET_RESERVE left, so records, -w files and filters see the frame as on the wire.
          const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0
            ? v.getUint16(p + TPACKET3_HDR.VLAN_TPID, true)
            : 0x8100;
          const tci = v.getUint32(p + TPACKET3_HDR.VLAN_TCI, true) & 0xffff;
          bytes.copyWithin(mac - VLAN_TAG_LEN, mac, mac + TWO_MACS);
          mac -= VLAN_TAG_LEN;
          v.setUint16(mac + TWO_MACS, tpid);
          v.setUint16(mac + TWO_MACS + 2, tci);
          meta.capLen += VLAN_TAG_LEN;
          meta.wireLen += VLAN_TAG_LEN;
        }
        meta.csumNotReady = (status & TP_STATUS_CSUMNOTREADY) !== 0;
        sink(v, bytes, mac, meta);
        if (signal.aborted) return;
      }
      p += v.getUint32(p + TPACKET3_HDR.NEXT_OFFSET, true);
    }
  }

  /** Unmaps the ring (idempotent). The socket is closed by the owner. */
  unmap(): void {
    if (!this.#mapped) return;
    this.#mapped = false;
    check(libc().munmap(this.#ptr, BigInt(this.#size)), "munmap");
  }
}
