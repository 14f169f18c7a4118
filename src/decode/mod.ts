/**
 * Frame decoding entry point. Importing this module registers every protocol
 * decoder in the tables of registry.ts.
 *
 * @example
 * ```ts
 * import { decodeFrame, newDecoder } from "./src/decode/mod.ts";
 * const d = newDecoder();
 * // const rec = decodeFrame(d, view, bytes, off, meta);
 * ```
 */
import { Frame } from "./frame.ts";
import type { PacketRecord } from "./record.ts";
import { LAYER } from "./record.ts";
import { decodeEthernet } from "./ethernet.ts";
import {
  type FrameMeta,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  PACKET_TYPE_NAMES,
} from "./meta.ts";
import { decodeSll, decodeSll2 } from "./sll.ts";
import { Reassembler, type ReassemblyOptions } from "./reassembly.ts";
import { parseUdpPorts, udpPortTable } from "./tunnel.ts";
import "./protocols.ts";

export { Frame, FrameSummary } from "./frame.ts";
export type { ReassemblyOptions, ReassemblyStats } from "./reassembly.ts";
export type { DecodeError, PacketRecord } from "./record.ts";

export interface DecoderOptions {
  /** Reassemble IPv4/IPv6 fragments across frames (default true). */
  reassemble?: boolean;
  /** Limits of the reassembly (memory, timeout, fragments per datagram). */
  reassembly?: Partial<ReassemblyOptions>;
  /** Tunnel protocols moved to other UDP ports: `NAME:PORT[,PORT...]` entries. */
  udpPorts?: readonly string[];
}

/**
 * A reusable decoder state (one per pipeline: the reassembly state lives in it).
 * Throws an Error with one line for a bad `udpPorts` entry.
 */
export function newDecoder(opts: DecoderOptions = {}): Frame {
  const buf = new Uint8Array(0);
  const f = new Frame(new DataView(buf.buffer), buf);
  if (opts.reassemble !== false) f.reassembly = new Reassembler(opts.reassembly);
  if (opts.udpPorts !== undefined && opts.udpPorts.length > 0) {
    f.udpPorts = udpPortTable(parseUdpPorts(opts.udpPorts));
  }
  return f;
}

/** Nanosecond timestamp text: `1700000000.123456789` (exact; never a float). */
export function timestampText(sec: number, nsec: number): string {
  // Built from character codes: a flat string (see format.ts), and consecutive frames
  // mostly share the second, so its digits are reused.
  if (sec !== tsSec) {
    tsSec = sec;
    const s = String(sec);
    for (let i = 0; i < s.length; i++) TS[i] = s.charCodeAt(i);
    TS[s.length] = 0x2e;
    tsFrac = s.length + 1;
  }
  const f = tsFrac;
  const hi = Math.floor(nsec / 1_000_000) * 3;
  const mid = (Math.floor(nsec / 1000) % 1000) * 3;
  const lo = (nsec % 1000) * 3;
  TS[f] = DIGITS3[hi];
  TS[f + 1] = DIGITS3[hi + 1];
  TS[f + 2] = DIGITS3[hi + 2];
  TS[f + 3] = DIGITS3[mid];
  TS[f + 4] = DIGITS3[mid + 1];
  TS[f + 5] = DIGITS3[mid + 2];
  TS[f + 6] = DIGITS3[lo];
  TS[f + 7] = DIGITS3[lo + 1];
  TS[f + 8] = DIGITS3[lo + 2];
  if (f === 11) {
    // ten-digit seconds (2001..2286): a direct call, no argument array
    return String.fromCharCode(
      TS[0],
      TS[1],
      TS[2],
      TS[3],
      TS[4],
      TS[5],
      TS[6],
      TS[7],
      TS[8],
      TS[9],
      TS[10],
      TS[11],
      TS[12],
      TS[13],
      TS[14],
      TS[15],
      TS[16],
      TS[17],
      TS[18],
      TS[19],
    );
  }
  return String.fromCharCode.apply(null, Array.from(TS.subarray(0, f + 9)));
}
/** Character codes of the timestamp being built (seconds, dot, nine digits). */
const TS = new Uint16Array(32);
/** Character codes of 000..999, three per number. */
const DIGITS3 = new Uint16Array(3000);
for (let i = 0; i < 1000; i++) {
  DIGITS3[i * 3] = 0x30 + Math.floor(i / 100);
  DIGITS3[i * 3 + 1] = 0x30 + (Math.floor(i / 10) % 10);
  DIGITS3[i * 3 + 2] = 0x30 + (i % 10);
}
let tsSec = -1;
let tsFrac = 0;

/**
 * Decodes one frame into a new record. `view`/`bytes` cover the capture buffer, the
 * frame starts at `off`. Never throws on any input bytes.
 */
export function decodeFrame(
  f: Frame,
  view: DataView,
  bytes: Uint8Array,
  off: number,
  meta: FrameMeta,
): PacketRecord {
  if (f.bytes !== bytes) f.setBuffer(view, bytes);
  const rec: PacketRecord = {
    [LAYER.AF_PACKET]: {
      Interface_Name: meta.ifName,
      Interface_Index: meta.ifIndex,
      Timestamp: meta.secText === ""
        ? timestampText(meta.sec, meta.nsec)
        : meta.secText + "." + String(meta.nsec).padStart(9, "0"),
      Length: meta.wireLen,
      Captured_Length: meta.capLen,
      Packet_Type: meta.pktType >= 0 && meta.pktType < PACKET_TYPE_NAMES.length
        ? PACKET_TYPE_NAMES[meta.pktType]
        : null,
    },
  };
  f.begin(off, meta.capLen, meta.wireLen, rec);
  f.time = meta.sec + meta.nsec / 1e9;
  f.csumNotReady = meta.csumNotReady;
  f.strippedTci = meta.vlanTci;
  f.strippedTpid = meta.vlanTpid;
  const end = off + meta.wireLen;
  try {
    switch (meta.linkType) {
      case LINKTYPE_ETHERNET:
        decodeEthernet(f, off, end);
        break;
      case LINKTYPE_LINUX_SLL:
        decodeSll(f, off, end);
        break;
      case LINKTYPE_LINUX_SLL2:
        decodeSll2(f, off, end);
        break;
      default:
        f.rest(off, end, `link type ${meta.linkType}`);
    }
  } catch (e) {
    // A decoder bug must never take the pipeline down: record it on the frame.
    f.fault("Frame", `decoder error: ${e instanceof Error ? e.message : String(e)}`, off);
  }
  return rec;
}
