/**
 * SCTP (RFC 9260) for flows only: no record layer yet, the bytes stay an unknown
 * payload ("IP protocol 132", as without this file), but the common header's ports go
 * into the frame summary, so SCTP flows are keyed by their ports and their Community
 * ID hashes them (the specification does; without them every SCTP association between
 * two hosts was one flow, hashed with ports 0).
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import { u16 } from "./bytes.ts";

export const IP_PROTO_SCTP = 132;

function decodeSctpPorts(f: Frame, off: number, end: number): void {
  if (f.limit(end) - off >= 4) {
    f.sum.srcPort = u16(f.bytes, off);
    f.sum.dstPort = u16(f.bytes, off + 2);
  }
  f.rest(off, end, `${IP_PROTO.name} ${IP_PROTO_SCTP}`);
}

register(IP_PROTO, IP_PROTO_SCTP, decodeSctpPorts);
