/**
 * NSH, the Network Service Header (RFC 8300; EtherType 0x894f, VXLAN-GPE next protocol
 * 4): version, O bit, the unassigned bit Wireshark shows as C, TTL, length (4-byte
 * words), MD type, next protocol, service path id and index; MD type 1 with its four
 * context headers, MD type 2 with its metadata TLVs. The payload by next protocol:
 * 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { hex } from "./format.ts";
import { need, u16, u32 } from "./bytes.ts";
import { tunnelLayer } from "./tunnel.ts";

export const LAYER_NSH = "NSH";
export const ETHERTYPE_NSH = 0x894f;
const BASE_LEN = 8;
const NEXT_ETHERTYPE: Record<number, number> = {
  1: 0x0800,
  2: 0x86dd,
  3: 0x6558,
  4: ETHERTYPE_NSH,
  5: 0x8847,
};

export function decodeNsh(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_NSH;
  if (!need(f, name, off, end, BASE_LEN, "NSH header")) return;
  const w = u16(b, off);
  const words = w & 0x3f;
  // The whole byte, as Wireshark 4.0 reads it (RFC 8300 leaves the high nibble unassigned).
  const mdType = b[off + 2];
  const next = b[off + 3];
  const sp = u32(b, off + 4);
  const n: Layer = {
    Version: w >> 14,
    OAM: (w >> 13) & 1,
    C: (w >> 12) & 1,
    TTL: (w >> 6) & 0x3f,
    Length: words,
    MD_Type: mdType,
    Next_Protocol: next,
    Service_Path_ID: sp >>> 8,
    Service_Index: sp & 0xff,
  };
  f.layer(name, n);
  const hEnd = off + words * 4;
  if (words * 4 < BASE_LEN) {
    f.fault(name, `length ${words} words is below the base header`, off + 1);
    return;
  }
  if (!need(f, name, off, end, words * 4, "NSH header")) return;
  const p = off + BASE_LEN;
  if (mdType === 1) {
    const ctx: number[] = [];
    for (let q = p; q + 4 <= hEnd && ctx.length < 4; q += 4) ctx.push(u32(b, q));
    n.Context_Headers = ctx;
  } else if (mdType === 2) {
    const md: Layer[] = [];
    n.Metadata = md;
    // Each TLV consumes at least 4 bytes, so this ends.
    for (let q = p; q < hEnd;) {
      if (q + 4 > hEnd) {
        f.fault(name, "metadata TLV past the header length", q);
        return;
      }
      const len = b[q + 3] & 0x7f;
      const padded = 4 + Math.ceil(len / 4) * 4;
      const t: Layer = { Class: u16(b, q), Type: b[q + 2], Length: len };
      md.push(t);
      if (q + padded > hEnd) {
        f.fault(name, `metadata length ${len} past the header length`, q + 3);
        return;
      }
      if (len > 0) t.Value = hex(b, q + 4, q + 4 + len);
      q += padded;
    }
  }
  tunnelLayer(f, "NSH", { Service_Path_ID: n.Service_Path_ID });
  if (hEnd >= end) return;
  const et = NEXT_ETHERTYPE[next];
  if (et === undefined) f.rest(hEnd, end, `NSH next protocol ${next}`);
  else dispatch(ETHERTYPE, et, f, hEnd, end);
}

register(ETHERTYPE, ETHERTYPE_NSH, decodeNsh);
