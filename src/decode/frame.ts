/**
 * Decoding context for one frame: the bytes (a shared DataView and Uint8Array
 * over the capture buffer, never copied), the record being built, the decode
 * errors and a reusable numeric summary for the flow tracker.
 *
 * Rules every decoder follows (see docs/ARCHITECTURE.md):
 * - Decoder signature is {@link Decoder}: `(f, off, end)`. `off` is where this
 *   protocol starts, `end` is where its bytes end *on the wire* as far as the
 *   parent knows (it may be past `f.capEnd` when the frame was truncated by the
 *   snap length). Never read at or past `Math.min(end, f.capEnd)`.
 * - Short data: call `f.truncated(layer, off)` and return; keep the attributes
 *   already decoded. A length field that contradicts itself: `f.fault(...)`.
 * - Never throw. Never loop without consuming bytes.
 */
import type { DecodeError, Layer, PacketRecord } from "./record.ts";
import { type Table, UDP_PORT } from "./registry.ts";
import type { Reassembler } from "./reassembly.ts";

export type Decoder = (f: Frame, off: number, end: number) => void;

/** Numbers about the frame a flow tracker needs, filled while decoding, no allocation. */
export class FrameSummary {
  /** 0 when no IP header was decoded, else 4 or 6 (the innermost IP header carrying L4). */
  ipVersion = 0;
  /** Offsets in `Frame.bytes` of the source/destination addresses (4 or 16 bytes). */
  srcAddrOff = 0;
  dstAddrOff = 0;
  /** IP protocol / final next-header, -1 if none. */
  ipProto = -1;
  /** Bytes of the IP packet on the wire (header + payload). */
  ipBytes = 0;
  /** Transport ports (0 when none). */
  srcPort = 0;
  dstPort = 0;
  /** TCP flag bits as on the wire (FIN=0x01 ... CWR=0x80, AE=0x100), 0 if not TCP. */
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  /** Transport payload bytes on the wire (TCP/UDP data, or ICMP body). */
  payloadBytes = 0;
  /** ICMP/ICMPv6 type, code and identifier (echo), -1 when absent. */
  icmpType = -1;
  icmpCode = -1;
  icmpId = -1;
  /** Outermost VLAN id, -1 when untagged. */
  vlanId = -1;
  /**
   * True when the frame carries no whole transport header for the flow tracker: a
   * non-first fragment, or a fragment held for reassembly.
   */
  fragment = false;
  /** Wire bytes of the earlier fragments of a datagram this frame completed (flows count them). */
  heldWireBytes = 0;

  /** A new (inner) IP header: the transport facts of an outer one no longer apply. */
  newIp(): void {
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tcpSeq = 0;
    this.tcpAck = 0;
    this.payloadBytes = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
  }

  reset(): void {
    this.ipVersion = 0;
    this.srcAddrOff = 0;
    this.dstAddrOff = 0;
    this.ipProto = -1;
    this.ipBytes = 0;
    this.newIp();
    this.vlanId = -1;
    this.fragment = false;
    this.heldWireBytes = 0;
  }
}

/** Maximum nesting of decoders (tunnels, stacked tags): bounds recursion on hostile input. */
export const MAX_DEPTH = 24;

export class Frame {
  view: DataView;
  bytes: Uint8Array;
  /** Offset of the first byte of the frame in `bytes`. */
  start = 0;
  /** One past the last captured byte. */
  capEnd = 0;
  /** Original length on the wire. */
  wireLen = 0;
  /** Kernel said checksums are not ready (offload): report "unverified", never "bad". */
  csumNotReady = false;
  /** Current decoder depth. */
  depth = 0;
  /** VLAN TCI the kernel stripped from this frame (restored by the Ethernet decoder), -1 none. */
  strippedTci = -1;
  /** TPID of the stripped tag. */
  strippedTpid = 0x8100;
  rec: PacketRecord = {};
  errors: DecodeError[] | null = null;
  readonly sum = new FrameSummary();
  /** Packet time in seconds (reassembly timeouts run on it). */
  time = 0;
  /** UDP ports this decoder dispatches on: UDP_PORT, or a copy with the user's tunnel ports. */
  udpPorts: Table = UDP_PORT;
  /** IP fragment reassembly of this decoder (one per pipeline); null: each frame on its own. */
  reassembly: Reassembler | null = null;

  constructor(view: DataView, bytes: Uint8Array) {
    this.view = view;
    this.bytes = bytes;
  }

  /** Points the frame at new bytes (a new capture buffer); cheap, no copy. */
  setBuffer(view: DataView, bytes: Uint8Array): void {
    this.view = view;
    this.bytes = bytes;
  }

  /** Starts a new record for the frame at `start` with `capLen` captured of `wireLen`. */
  begin(start: number, capLen: number, wireLen: number, rec: PacketRecord): void {
    this.start = start;
    this.capEnd = start + capLen;
    this.wireLen = wireLen;
    this.rec = rec;
    this.errors = null;
    this.depth = 0;
    this.csumNotReady = false;
    this.strippedTci = -1;
    this.strippedTpid = 0x8100;
    this.sum.reset();
  }

  /** Adds a layer under its name, or `name_2`, `name_3`... when already present. */
  layer(name: string, attrs: Layer): Layer {
    const rec = this.rec;
    if (rec[name] === undefined) rec[name] = attrs;
    else {
      let i = 2;
      while (rec[`${name}_${i}`] !== undefined) i++;
      rec[`${name}_${i}`] = attrs;
    }
    return attrs;
  }

  /** Records a decode problem at absolute offset `off` (stored relative to the frame start). */
  fault(layer: string, problem: string, off: number): void {
    const e: DecodeError = { Layer: layer, Problem: problem, Offset: off - this.start };
    if (this.errors === null) {
      this.errors = [e];
      this.rec.Decode_Errors = this.errors;
    } else if (this.errors.length < 32) this.errors.push(e);
  }

  /** Records that `layer` needed bytes past the captured data, starting at `off`. */
  truncated(layer: string, off: number): void {
    this.fault(layer, "truncated", off);
  }

  /** True when `n` bytes from `off` are captured. */
  has(off: number, n: number): boolean {
    return off + n <= this.capEnd;
  }

  /** Last readable offset for a protocol whose wire data ends at `end`. */
  limit(end: number): number {
    return end < this.capEnd ? end : this.capEnd;
  }

  /** Records the bytes left at `off..end` as the record's Payload; `why` names an unknown protocol. */
  rest(off: number, end: number, why?: string): void {
    const len = end - off;
    if (len <= 0 && why === undefined) return;
    const cap = Math.max(0, this.limit(end) - off);
    const p: Layer = { Length: Math.max(0, len), Captured_Length: cap };
    if (why !== undefined) p.Unknown_Protocol = why;
    this.rec.Payload = p;
  }

  /** Calls a child decoder with a depth bound. */
  call(dec: Decoder, off: number, end: number): void {
    if (this.depth >= MAX_DEPTH) {
      this.fault("Frame", "too many nested headers", off);
      return;
    }
    this.depth++;
    dec(this, off, end);
    this.depth--;
  }
}
