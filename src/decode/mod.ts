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
} from "../capture/source.ts";
import { decodeSll, decodeSll2 } from "./sll.ts";
import "./protocols.ts";

export { Frame, FrameSummary } from "./frame.ts";
export type { DecodeError, PacketRecord } from "./record.ts";

/** A reusable decoder state (one per pipeline). */
export function newDecoder(): Frame {
  const buf = new Uint8Array(0);
  return new Frame(new DataView(buf.buffer), buf);
}

/** Nanosecond timestamp text: `1700000000.123456789` (exact; never a float). */
export function timestampText(sec: number, nsec: number): string {
  // Built from character codes: a flat string (see format.ts), and consecutive frames
  // mostly share the second, so its digits are reused.
  if (sec !== tsSec) {
    tsSec = sec;
    const s = String(sec);
    for (let i = 0; i < s.length; i++) TS_CODES[i] = s.charCodeAt(i);
    TS_CODES[s.length] = 0x2e;
    tsFrac = s.length + 1;
  }
  let n = nsec;
  for (let i = tsFrac + 8; i >= tsFrac; i--) {
    TS_CODES[i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  TS_CODES.length = tsFrac + 9;
  return String.fromCharCode.apply(null, TS_CODES);
}
const TS_CODES: number[] = [];
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
      Timestamp: timestampText(meta.sec, meta.nsec),
      Length: meta.wireLen,
      Captured_Length: meta.capLen,
      Packet_Type: meta.pktType >= 0 && meta.pktType < PACKET_TYPE_NAMES.length
        ? PACKET_TYPE_NAMES[meta.pktType]
        : null,
    },
  };
  f.begin(off, meta.capLen, meta.wireLen, rec);
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
