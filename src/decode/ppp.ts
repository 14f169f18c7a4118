/**
 * PPP (RFC 1661) as carried by PPPoE, L2TP and PPTP: the HDLC-like address and control
 * bytes when present (L2TP, PPTP), the protocol (one byte when compressed, RFC 1661
 * 6.5), and the control protocols LCP, IPCP (RFC 1332) and IPV6CP (RFC 5072): code,
 * identifier, length and the options of Configure messages (MRU, authentication
 * protocol, magic number, IP address, interface identifier), the magic number of Echo
 * and Discard messages. IPv4 (0x0021), IPv6 (0x0057) and MPLS (0x0281) are decoded.
 */
import type { Decoder, Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { hex, ipv4 } from "./format.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeIpv4 } from "./ipv4.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { decodeMpls } from "./mpls.ts";
import { GRE_PPP, registerGreType } from "./gre.ts";

export const LAYER_PPP = "PPP";
const PROTO_LCP = 0xc021;
const PROTO_IPCP = 0x8021;
const PROTO_IPV6CP = 0x8057;
const CP_HEADER_LEN = 4;

/** Control protocols: layer name by PPP protocol number. */
const CONTROL: Record<number, string> = {
  [PROTO_LCP]: "LCP",
  [PROTO_IPCP]: "IPCP",
  [PROTO_IPV6CP]: "IPV6CP",
};
const PAYLOAD: Record<number, Decoder> = {
  0x0021: decodeIpv4,
  0x0057: decodeIpv6,
  0x0281: decodeMpls,
};

/** Typed option values of Configure messages (by layer and option type). */
function optionValue(
  layer: string,
  type: number,
  o: Layer,
  b: Uint8Array,
  d: number,
  len: number,
): void {
  if (layer === "LCP") {
    if (type === 1 && len === 2) o.MRU = u16(b, d);
    else if (type === 3 && len >= 2) o.Protocol = u16(b, d);
    else if (type === 5 && len === 4) o.Magic_Number = u32(b, d);
  } else if (layer === "IPCP") {
    if (len === 4 && (type === 3 || (type >= 129 && type <= 132))) o.Address = ipv4(b, d);
  } else if (layer === "IPV6CP" && type === 1 && len === 8) {
    o.Interface_Identifier = hex(b, d, d + 8);
  }
}

function decodeControl(f: Frame, layer: string, off: number, end: number): void {
  const b = f.bytes;
  if (!need(f, layer, off, end, CP_HEADER_LEN, `${layer} header`)) return;
  const code = b[off];
  const length = u16(b, off + 2);
  const c: Layer = { Code: code, Identifier: b[off + 1], Length: length };
  f.layer(layer, c);
  let cEnd = off + length;
  if (length < CP_HEADER_LEN) {
    f.fault(layer, `length ${length} is below 4`, off + 2);
    return;
  }
  if (cEnd > end) {
    f.fault(layer, `length ${length} exceeds the packet`, off + 2);
    cEnd = end;
  }
  const p = off + CP_HEADER_LEN;
  if (code >= 1 && code <= 4) {
    const opts: Layer[] = [];
    c.Options = opts;
    // Each option consumes at least 2 bytes (a shorter length is refused).
    for (let q = p; q < cEnd;) {
      if (!need(f, layer, q, cEnd, 2, "option")) return;
      const type = b[q];
      const len = b[q + 1];
      const o: Layer = { Type: type, Length: len };
      opts.push(o);
      if (len < 2 || q + len > cEnd) {
        f.fault(layer, `option ${type} length ${len} is invalid`, q + 1);
        return;
      }
      if (!need(f, layer, q, cEnd, len, "option")) return;
      if (len > 2) {
        o.Data = hex(b, q + 2, q + len);
        optionValue(layer, type, o, b, q + 2, len - 2);
      }
      q += len;
    }
  } else if (layer === "LCP" && code >= 9 && code <= 11) {
    if (!need(f, layer, p, cEnd, 4, "magic number")) return;
    c.Magic_Number = u32(b, p);
    if (p + 4 < cEnd) f.rest(p + 4, cEnd);
  } else if (p < cEnd) f.rest(p, cEnd);
}

/**
 * Decodes a PPP frame at `off`; `hdlc`: address and control bytes may come first
 * (0xff 0x03, as L2TP and PPTP carry PPP).
 */
export function decodePpp(f: Frame, off: number, end: number, hdlc: boolean): void {
  const b = f.bytes;
  const name = LAYER_PPP;
  const ppp: Layer = {};
  f.layer(name, ppp);
  let p = off;
  if (hdlc && f.has(p, 1) && p < end && b[p] === 0xff) {
    if (!need(f, name, p, end, 2, "PPP address and control")) return;
    ppp.Address = b[p];
    ppp.Control = b[p + 1];
    p += 2;
  }
  if (!need(f, name, p, end, 1, "PPP protocol")) return;
  let proto: number;
  if ((b[p] & 1) === 1) {
    proto = b[p];
    p += 1;
  } else {
    if (!need(f, name, p, end, 2, "PPP protocol")) return;
    proto = u16(b, p);
    p += 2;
  }
  ppp.Protocol = proto;
  const cp = CONTROL[proto];
  if (cp !== undefined) {
    decodeControl(f, cp, p, end);
    return;
  }
  const dec = PAYLOAD[proto];
  if (dec !== undefined) f.call(dec, p, end);
  else f.rest(p, end, `PPP protocol 0x${proto.toString(16).padStart(4, "0")}`);
}

/** PPP with optional address and control bytes (L2TP, PPTP). */
export const decodePppHdlc: Decoder = (f, off, end) => decodePpp(f, off, end, true);
/** PPP starting with the protocol field (PPPoE). */
export const decodePppPlain: Decoder = (f, off, end) => decodePpp(f, off, end, false);

registerGreType(GRE_PPP, decodePppHdlc);
