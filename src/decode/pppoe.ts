/**
 * PPPoE (RFC 2516): discovery (EtherType 0x8863: PADI, PADO, PADR, PADS, PADT with
 * their tags; names and text tags as text) and session (0x8864, PPP inside, bounded by
 * the payload length). Version, type, code, session id and payload length as Wireshark.
 */
import type { Frame } from "./frame.ts";
import { ETHERTYPE, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { hex, text } from "./format.ts";
import { need, u16 } from "./bytes.ts";
import { decodePppPlain } from "./ppp.ts";
import { tunnelLayer } from "./tunnel.ts";

export const LAYER_PPPOE_DISCOVERY = "PPPoE_Discovery";
export const LAYER_PPPOE_SESSION = "PPPoE_Session";
const HEADER_LEN = 6;
const TAG_NAMES: Record<number, string> = {
  0x0000: "End-Of-List",
  0x0101: "Service-Name",
  0x0102: "AC-Name",
  0x0103: "Host-Uniq",
  0x0104: "AC-Cookie",
  0x0105: "Vendor-Specific",
  0x0106: "Credits",
  0x0107: "Metrics",
  0x0108: "Sequence Number",
  0x0110: "Relay-Session-Id",
  0x0120: "PPP-Max-Payload",
  0x0201: "Service-Name-Error",
  0x0202: "AC-System-Error",
  0x0203: "Generic-Error",
};
/** Tags whose value is text. */
const TEXT_TAGS = new Set([0x0101, 0x0102, 0x0201, 0x0202, 0x0203]);

function header(f: Frame, name: string, off: number, end: number): [Layer, number] | null {
  const b = f.bytes;
  if (!need(f, name, off, end, HEADER_LEN, "PPPoE header")) return null;
  const len = u16(b, off + 4);
  const h: Layer = {
    Version: b[off] >> 4,
    Type: b[off] & 0x0f,
    Code: b[off + 1],
    Session_ID: u16(b, off + 2),
    Payload_Length: len,
  };
  f.layer(name, h);
  let pEnd = off + HEADER_LEN + len;
  if (pEnd > end) {
    f.fault(name, `payload length ${len} exceeds the frame`, off + 4);
    pEnd = end;
  }
  return [h, pEnd];
}

export function decodePppoeDiscovery(f: Frame, off: number, end: number): void {
  const name = LAYER_PPPOE_DISCOVERY;
  const r = header(f, name, off, end);
  if (r === null) return;
  const [h, pEnd] = r;
  const b = f.bytes;
  const tags: Layer[] = [];
  h.Tags = tags;
  // Each tag consumes at least 4 bytes, so this ends.
  for (let p = off + HEADER_LEN; p < pEnd;) {
    if (!need(f, name, p, pEnd, 4, "PPPoE tag")) return;
    const type = u16(b, p);
    const len = u16(b, p + 2);
    const t: Layer = { Type: type, Name: TAG_NAMES[type] ?? "Unknown", Length: len };
    tags.push(t);
    if (!need(f, name, p + 4, pEnd, len, "PPPoE tag value")) return;
    if (len > 0) {
      t.Value = TEXT_TAGS.has(type) ? text(b, p + 4, p + 4 + len) : hex(b, p + 4, p + 4 + len);
    }
    p += 4 + len;
    if (type === 0) break;
  }
}

export function decodePppoeSession(f: Frame, off: number, end: number): void {
  const r = header(f, LAYER_PPPOE_SESSION, off, end);
  if (r === null) return;
  const [h, pEnd] = r;
  tunnelLayer(f, "PPPoE", { Session_ID: h.Session_ID });
  const p = off + HEADER_LEN;
  if (p < pEnd) f.call(decodePppPlain, p, pEnd);
}

register(ETHERTYPE, 0x8863, decodePppoeDiscovery);
register(ETHERTYPE, 0x8864, decodePppoeSession);
