/**
 * GTP-U (3GPP TS 29.281, UDP 2152): flags (version, protocol type, E/S/PN), message
 * type, length, TEID, the optional sequence number, N-PDU number and next extension
 * header type, and the extension headers. A G-PDU (type 255) carries a user packet:
 * IPv4 or IPv6 by its first nibble (as Wireshark's default); other messages are Payload.
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { hex } from "./format.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeIpv4 } from "./ipv4.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { registerUdpProtocol, tunnelLayer } from "./tunnel.ts";

export const LAYER_GTP = "GTP";
const UDP_PORT_GTP_U = 2152;
const HEADER_LEN = 8;
const OPT_LEN = 4;
const T_PDU = 0xff;
/** GTPv1 message types Wireshark 4.0 dissects (others: not GTP). */
const KNOWN_TYPES = new Set<number>();
for (
  const [lo, hi] of [[1, 7], [16, 37], [48, 62], [70, 70], [96, 105], [112, 121], [128, 129], [
    240,
    241,
  ], [254, 255]]
) {
  for (let t = lo; t <= hi; t++) KNOWN_TYPES.add(t);
}

export function decodeGtpU(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_GTP;
  if (!need(f, name, off, end, HEADER_LEN, "GTP header")) return;
  const flags = b[off];
  const type = b[off + 1];
  // Like Wireshark: GTP' (version 0) and GTPv2 are other protocols, and a message type
  // it does not know means the datagram is not GTP at all.
  if (flags >> 5 !== 1) {
    f.rest(off, end, `GTP version ${flags >> 5}`);
    return;
  }
  if (!KNOWN_TYPES.has(type)) {
    f.rest(off, end);
    return;
  }
  const length = u16(b, off + 2);
  const teid = u32(b, off + 4);
  const g: Layer = {
    Flags: flags,
    Version: flags >> 5,
    Protocol_Type: (flags >> 4) & 1,
    Extension_Header_Present: (flags & 4) !== 0,
    Sequence_Number_Present: (flags & 2) !== 0,
    N_PDU_Number_Present: (flags & 1) !== 0,
    Message_Type: type,
    Length: length,
    TEID: teid,
  };
  f.layer(name, g);
  let msgEnd = off + HEADER_LEN + length;
  if (msgEnd > end) {
    f.fault(name, `length ${length} exceeds the datagram`, off + 2);
    msgEnd = end;
  }
  let p = off + HEADER_LEN;
  if ((flags & 7) !== 0) {
    if (!need(f, name, p, msgEnd, OPT_LEN, "GTP optional fields")) return;
    // The three fields are there when any flag is set; each is shown when its own is.
    if ((flags & 2) !== 0) g.Sequence_Number = u16(b, p);
    if ((flags & 1) !== 0) g.N_PDU_Number = b[p + 2];
    let next = b[p + 3];
    if ((flags & 4) !== 0) g.Next_Extension_Header_Type = next;
    p += OPT_LEN;
    if ((flags & 4) !== 0 && next !== 0) {
      const exts: Layer[] = [];
      g.Extension_Headers = exts;
      // Each extension header consumes at least 4 bytes (a length of 0 is refused).
      while (next !== 0) {
        if (!need(f, name, p, msgEnd, 1, "GTP extension header")) return;
        const len = b[p] * 4;
        if (len === 0) {
          f.fault(name, "extension header of length 0", p);
          return;
        }
        if (!need(f, name, p, msgEnd, len, "GTP extension header")) return;
        const following = b[p + len - 1];
        exts.push({
          Type: next,
          Length: len,
          Data: hex(b, p + 1, p + len - 1),
          Next_Type: following,
        });
        next = following;
        p += len;
      }
    }
  }
  tunnelLayer(f, "GTP-U", { TEID: teid });
  if (p >= msgEnd) return;
  if (type !== T_PDU) {
    f.rest(p, msgEnd, `GTP message type ${type}`);
    return;
  }
  if (!f.has(p, 1)) {
    f.truncated(name, p);
    return;
  }
  const v = b[p] >> 4;
  if (v === 4) f.call(decodeIpv4, p, msgEnd);
  else if (v === 6) f.call(decodeIpv6, p, msgEnd);
  else f.rest(p, msgEnd, "GTP user packet (not IP)");
}

registerUdpProtocol("gtp-u", [UDP_PORT_GTP_U], decodeGtpU);
