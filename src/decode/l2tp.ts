/**
 * L2TPv2 (RFC 2661, UDP 1701): flags (type, length, sequence, offset, priority bits
 * and version), length, tunnel and session ids, Ns/Nr, offset size and padding. Control
 * messages list their AVPs (mandatory and hidden bits, length, vendor id, type; the
 * message type of the first one); data messages carry PPP (address and control bytes
 * optional). L2TPv3 over UDP (version 3) is recorded with its version and left as Payload.
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { need, u16 } from "./bytes.ts";
import { decodePppHdlc } from "./ppp.ts";
import { registerUdpProtocol, tunnelLayer } from "./tunnel.ts";

export const LAYER_L2TP = "L2TP";
const UDP_PORT_L2TP = 1701;
const T = 0x8000, L = 0x4000, S = 0x0800, O = 0x0200, P = 0x0100;
const AVP_HEADER_LEN = 6;

export function decodeL2tp(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_L2TP;
  if (!need(f, name, off, end, 2, "L2TP header")) return;
  const flags = u16(b, off);
  const version = flags & 0x000f;
  if (version !== 2 && version !== 3) {
    // Not L2TP (Wireshark shows the datagram as data).
    f.rest(off, end);
    return;
  }
  const l: Layer = {
    Flags: flags,
    Type: (flags & T) !== 0 ? 1 : 0,
    Length_Bit: (flags & L) !== 0,
    Sequence_Bit: (flags & S) !== 0,
    Offset_Bit: (flags & O) !== 0,
    Priority: (flags & P) !== 0,
    Version: version,
  };
  f.layer(name, l);
  if (version !== 2) {
    f.rest(off + 2, end, `L2TP version ${version}`);
    return;
  }
  let p = off + 2;
  let msgEnd = end;
  if ((flags & L) !== 0) {
    if (!need(f, name, p, end, 2, "L2TP length")) return;
    const len = u16(b, p);
    l.Length = len;
    msgEnd = off + len;
    if (msgEnd > end) {
      f.fault(name, `length ${len} exceeds the datagram`, p);
      msgEnd = end;
    } else if (len < 6) {
      f.fault(name, `length ${len} is below the header`, p);
      return;
    }
    p += 2;
  }
  if (!need(f, name, p, msgEnd, 4, "L2TP tunnel and session ids")) return;
  l.Tunnel_ID = u16(b, p);
  l.Session_ID = u16(b, p + 2);
  p += 4;
  if ((flags & S) !== 0) {
    if (!need(f, name, p, msgEnd, 4, "L2TP Ns and Nr")) return;
    l.Ns = u16(b, p);
    l.Nr = u16(b, p + 2);
    p += 4;
  }
  if ((flags & O) !== 0) {
    if (!need(f, name, p, msgEnd, 2, "L2TP offset size")) return;
    const pad = u16(b, p);
    l.Offset_Size = pad;
    p += 2;
    if (!need(f, name, p, msgEnd, pad, "L2TP offset padding")) return;
    p += pad;
  }
  if ((flags & T) === 0) {
    tunnelLayer(f, "L2TP", { Tunnel_ID: l.Tunnel_ID, Session_ID: l.Session_ID });
    if (p < msgEnd) f.call(decodePppHdlc, p, msgEnd);
    return;
  }
  const avps: Layer[] = [];
  l.AVPs = avps;
  // Each AVP consumes at least 6 bytes (a shorter length is refused), so this ends.
  while (p < msgEnd) {
    if (!need(f, name, p, msgEnd, AVP_HEADER_LEN, "L2TP AVP")) return;
    const w = u16(b, p);
    const len = w & 0x03ff;
    const a: Layer = {
      Mandatory: (w & 0x8000) !== 0,
      Hidden: (w & 0x4000) !== 0,
      Length: len,
      Vendor_ID: u16(b, p + 2),
      Type: u16(b, p + 4),
    };
    avps.push(a);
    if (len < AVP_HEADER_LEN) {
      f.fault(name, `AVP length ${len} is below 6`, p);
      return;
    }
    if (!need(f, name, p, msgEnd, len, "L2TP AVP")) return;
    if (a.Vendor_ID === 0 && a.Type === 0 && len >= 8 && !a.Hidden) {
      a.Message_Type = u16(b, p + 6);
    }
    p += len;
  }
}

registerUdpProtocol("l2tp", [UDP_PORT_L2TP], decodeL2tp);
