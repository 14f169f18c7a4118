/**
 * The SYN tap: a second AF_PACKET socket on the captured interface whose classic BPF program
 * keeps only TCP segments with SYN set and ACK clear (IPv4 and IPv6 without extension
 * headers), 128 bytes of each, read without a ring (recvmmsg, src/capture/recvmmsg.ts), so
 * the poll wakes for each one. It lets the resolver look a new connection's sockets up while
 * they still exist: the capture ring retires a block only every 20 ms, and a connection that
 * connects, sends and closes in 10 ms is gone by then.
 *
 * Cost: one kernel BPF run per frame on the interface (a few instructions), one wake-up per
 * new TCP connection. UDP has no such first packet and is not tapped.
 *
 * @module
 */
import {
  attachFilter,
  bindPacket,
  openPacketSocket,
  setIntOption,
} from "../capture/packet_socket.ts";
import { MmsgReader, prepareRecvSocket } from "../capture/recvmmsg.ts";
import { PACKET_IGNORE_OUTGOING, SOL_PACKET } from "../../ffi/constants.ts";
import { libc } from "../../ffi/libc.ts";
import {
  Assembler,
  BPF_ABS,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JSET,
  BPF_LD,
  BPF_LDX,
  BPF_MSH,
} from "../filter/bpf.ts";
import { decodeFrame, newDecoder } from "../decode/mod.ts";
import type { Frame } from "../decode/frame.ts";

/** Bytes kept of each SYN: Ethernet + IPv6 + TCP header with options. */
const SNAP = 128;
const ETH = 14;

/** The tap's classic BPF program (Ethernet framing; loopback frames have a zero Ethernet header). */
export function synProgram(): Uint8Array {
  const a = new Assembler();
  a.stmt(BPF_LD | BPF_H | BPF_ABS, 12);
  a.jeq(0x0800, "v4", null);
  a.jeq(0x86dd, "v6", "drop");
  a.label("v4");
  a.stmt(BPF_LD | BPF_B | BPF_ABS, ETH + 9); // protocol
  a.jeq(6, null, "drop");
  a.stmt(BPF_LD | BPF_H | BPF_ABS, ETH + 6); // flags + fragment offset
  a.jump(BPF_JSET, 0x1fff, "drop", null); // a later fragment has no TCP header
  a.stmt(BPF_LDX | BPF_B | BPF_MSH, ETH); // X = IPv4 header length
  a.stmt(BPF_LD | BPF_B | BPF_IND, ETH + 13); // TCP flags
  a.jump(BPF_JSET, 0x10, "drop", null); // ACK: not the first segment
  a.jump(BPF_JSET, 0x02, "keep", "drop");
  a.label("v6");
  a.stmt(BPF_LD | BPF_B | BPF_ABS, ETH + 6); // next header
  a.jeq(6, null, "drop");
  a.stmt(BPF_LD | BPF_B | BPF_ABS, ETH + 40 + 13);
  a.jump(BPF_JSET, 0x10, "drop", null);
  a.jump(BPF_JSET, 0x02, "keep", "drop");
  a.label("keep");
  a.ret(SNAP);
  a.label("drop");
  a.ret(0);
  return a.bytes();
}

export class SynTap {
  readonly #fd: number;
  readonly #abort = new AbortController();
  readonly #done: Promise<void>;

  /** Opens the tap on `ifName` and calls `onSyn` with each decoded SYN. */
  constructor(ifName: string, ifIndex: number, loopback: boolean, onSyn: (f: Frame) => void) {
    const fd = openPacketSocket(ifName);
    try {
      attachFilter(fd, synProgram());
      // Loopback shows each frame twice (outgoing, then incoming): keep one.
      let skipOutgoing = false;
      if (loopback && setIntOption(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) < 0) {
        skipOutgoing = true;
      }
      prepareRecvSocket(fd, 1 << 20);
      bindPacket(fd, ifIndex);
      this.#fd = fd;
      const dec = newDecoder();
      const reader = new MmsgReader(fd, { ifName, ifIndex, snaplen: SNAP, skipOutgoing });
      this.#done = reader.run((view, bytes, off, meta) => {
        decodeFrame(dec, view, bytes, off, meta);
        onSyn(dec);
      }, { signal: this.#abort.signal, ready: () => Promise.resolve() }).catch(() => {});
    } catch (e) {
      libc().close(fd);
      throw e;
    }
  }

  /** Stops reading and closes the socket (after the reader's current wait ends). */
  close(): void {
    this.#abort.abort();
    const fd = this.#fd;
    this.#done.then(() => libc().close(fd));
  }
}
