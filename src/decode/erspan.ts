/**
 * ERSPAN (Cisco's Encapsulated Remote SPAN, draft-foschiano-erspan) inside GRE:
 * type I (protocol 0x88be without a GRE sequence number: no header at all), type II
 * (0x88be, header version 1: VLAN, CoS, encapsulation, truncated, session id, index)
 * and type III (0x22eb, version 2: adds a timestamp, security group tag, frame type,
 * hardware id, direction, timestamp granularity and an optional platform subheader).
 * The mirrored Ethernet frame follows. Field values as Wireshark's packet-erspan.c.
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { hex } from "./format.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeEthernet } from "./ethernet.ts";
import { GRE_ERSPAN_I_KEY, GRE_ERSPAN_II, GRE_ERSPAN_III, registerGreType } from "./gre.ts";
import { tunnelLayer } from "./tunnel.ts";

export const LAYER_ERSPAN = "ERSPAN";
const TYPE_II_LEN = 8;
const TYPE_III_LEN = 12;
const PLATFORM_LEN = 8;

/** Type I: no header, the mirrored frame right after GRE. */
function decodeErspanI(f: Frame, off: number, end: number): void {
  f.layer(LAYER_ERSPAN, { Type: "I" });
  tunnelLayer(f, "ERSPAN", null);
  f.call(decodeEthernet, off, end);
}

function decodeErspan(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_ERSPAN;
  if (!need(f, name, off, end, 4, "ERSPAN header")) return;
  const w0 = u16(b, off);
  const w1 = u16(b, off + 2);
  const version = w0 >> 12;
  const e: Layer = {
    Type: version === 1 ? "II" : version === 2 ? "III" : "unknown",
    Version: version,
  };
  f.layer(name, e);
  if (version !== 1 && version !== 2) {
    f.fault(name, `unknown ERSPAN version ${version}`, off);
    f.rest(off, end);
    return;
  }
  e.VLAN = w0 & 0x0fff;
  e.COS = w1 >> 13;
  if (version === 1) e.Encapsulation_Type = (w1 >> 11) & 3;
  else e.BSO = (w1 >> 11) & 3;
  e.Truncated = (w1 >> 10) & 1;
  e.Session_ID = w1 & 0x03ff;
  let p: number;
  if (version === 1) {
    if (!need(f, name, off, end, TYPE_II_LEN, "ERSPAN type II header")) return;
    const w = u32(b, off + 4);
    e.Reserved = w >>> 20;
    e.Index = w & 0xfffff;
    p = off + TYPE_II_LEN;
  } else {
    if (!need(f, name, off, end, TYPE_III_LEN, "ERSPAN type III header")) return;
    e.Timestamp = u32(b, off + 4);
    e.SGT = u16(b, off + 8);
    const w = u16(b, off + 10);
    e.P = w >> 15;
    e.Frame_Type = (w >> 10) & 0x1f;
    e.Hardware_ID = (w >> 4) & 0x3f;
    e.Direction = (w >> 3) & 1;
    e.Granularity = (w >> 1) & 3;
    e.Optional_Subheader = (w & 1) === 1;
    p = off + TYPE_III_LEN;
    if ((w & 1) === 1) {
      if (!need(f, name, p, end, PLATFORM_LEN, "ERSPAN platform subheader")) return;
      e.Platform_Specific = hex(b, p, p + PLATFORM_LEN);
      p += PLATFORM_LEN;
    }
  }
  tunnelLayer(f, "ERSPAN", { Session_ID: e.Session_ID });
  if (p >= end) return;
  // Type III says what it mirrored: only frame type 0 is an Ethernet frame (Wireshark alike).
  if (version === 2 && e.Frame_Type !== 0) f.rest(p, end, `ERSPAN frame type ${e.Frame_Type}`);
  else f.call(decodeEthernet, p, end);
}

registerGreType(GRE_ERSPAN_I_KEY, decodeErspanI);
registerGreType(GRE_ERSPAN_II, decodeErspan);
registerGreType(GRE_ERSPAN_III, decodeErspan);
