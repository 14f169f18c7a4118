/**
 * UDP (RFC 768). The Length field bounds the datagram; bytes after it inside the IP
 * payload are ignored. Length 0 over IPv6 means a jumbogram (RFC 2675): the IP
 * payload length is used. Checksum 0 is "absent" over IPv4 and "bad" over IPv6
 * (illegal there, RFC 8200 8.1, as Wireshark reports it). The datagram's data is
 * recorded as Payload (Length, Captured_Length). A cut header keeps the ports when
 * both were captured (what tshark shows).
 */
import type { Frame } from "./frame.ts";
import { dispatchPort, IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { upperChecksum } from "./checksum.ts";
import { need, u16 } from "./bytes.ts";

/** Field offsets from the start of the header. */
const OFF = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, CHECKSUM: 6 } as const;
export const UDP_HEADER_LEN = 8;
export const IP_PROTO_UDP = 17;

/** Decodes a UDP datagram at `off`; `end` is where the IP payload ends on the wire. */
export function decodeUdp(f: Frame, off: number, end: number): void {
  const name = LAYER.UDP;
  const b = f.bytes;
  if (off + UDP_HEADER_LEN > end || !f.has(off, UDP_HEADER_LEN)) {
    // Cut short: the ports when both were read (what Wireshark shows), nothing else.
    if (f.limit(end) - off >= OFF.LENGTH) {
      const sp = u16(b, off + OFF.SRC_PORT), dp = u16(b, off + OFF.DST_PORT);
      f.layer(name, { Source_Port: sp, Destination_Port: dp });
      f.sum.srcPort = sp;
      f.sum.dstPort = dp;
    }
    need(f, name, off, end, UDP_HEADER_LEN, "UDP header");
    return;
  }
  const srcPort = u16(b, off + OFF.SRC_PORT);
  const dstPort = u16(b, off + OFF.DST_PORT);
  const length = u16(b, off + OFF.LENGTH);
  const checksum = u16(b, off + OFF.CHECKSUM);
  const s = f.sum;
  s.srcPort = srcPort;
  s.dstPort = dstPort;
  const ipPayload = end - off;
  let udpEnd = off + length;
  if (length < UDP_HEADER_LEN && !(length === 0 && s.ipVersion === 6 && ipPayload > 0xffff)) {
    // A length below the header: nothing after it is trusted (tshark shows the same fields).
    f.layer(name, { Source_Port: srcPort, Destination_Port: dstPort, Length: length });
    f.fault(name, `length ${length} is below 8`, off + OFF.LENGTH);
    return;
  }
  const attrs: Record<string, unknown> = {
    Source_Port: srcPort,
    Destination_Port: dstPort,
    Length: length,
    Checksum: checksum,
    Checksum_Status: "unverified",
    Payload_Length: 0,
  };
  f.layer(name, attrs);
  let lengthOk = true;
  if (length === 0) {
    udpEnd = end; // jumbogram (RFC 2675)
  } else if (length > ipPayload) {
    f.fault(name, `length ${length} exceeds the IP payload (${ipPayload} bytes)`, off + OFF.LENGTH);
    udpEnd = end;
    lengthOk = false;
  }
  const payload = udpEnd - off - UDP_HEADER_LEN;
  attrs.Payload_Length = payload;
  s.payloadBytes = payload;
  if (checksum === 0) attrs.Checksum_Status = s.ipVersion === 6 ? "bad" : "absent";
  // Verified only when the whole IP payload was captured (Wireshark's rule too).
  else if (lengthOk && end <= f.capEnd) {
    attrs.Checksum_Status = upperChecksum(f, off, udpEnd, IP_PROTO_UDP);
  }
  if (payload > 0) dispatchPort(f.udpPorts, srcPort, dstPort, f, off + UDP_HEADER_LEN, udpEnd);
}

register(IP_PROTO, IP_PROTO_UDP, decodeUdp);
