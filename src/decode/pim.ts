/**
 * PIM (RFC 7761, IP protocol 103): version, type, reserved byte, checksum (verified:
 * over the whole message, for Register messages over the first 8 bytes only, with the
 * IPv6 pseudo-header over IPv6). A Register message's border and null-register bits and
 * the packet it carries are decoded (IPv4 or IPv6 by the inner version); the bodies of
 * other PIM messages are left as Payload.
 */
import type { Frame } from "./frame.ts";
import { IP_PROTO, register } from "./registry.ts";
import type { Layer } from "./record.ts";
import { finish, onesSum, pseudo6 } from "./checksum.ts";
import { need, u16, u32 } from "./bytes.ts";
import { decodeIpv4 } from "./ipv4.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { tunnelLayer } from "./tunnel.ts";

export const LAYER_PIM = "PIM";
const IP_PROTO_PIM = 103;
const HEADER_LEN = 4;
const TYPE_REGISTER = 1;
const REGISTER_LEN = 8;

export function decodePim(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_PIM;
  if (!need(f, name, off, end, HEADER_LEN, "PIM header")) return;
  const type = b[off] & 0x0f;
  const p: Layer = {
    Version: b[off] >> 4,
    Type: type,
    Reserved: b[off + 1],
    Checksum: u16(b, off + 2),
    Checksum_Status: "unverified",
  };
  f.layer(name, p);
  const sumEnd = type === TYPE_REGISTER ? Math.min(end, off + REGISTER_LEN) : end;
  // Only PIMv2 messages are checked (Wireshark alike).
  if (p.Version === 2 && sumEnd <= f.capEnd && !f.csumNotReady) {
    const s = f.sum;
    const start = s.ipVersion === 6
      ? pseudo6(b, s.srcAddrOff, s.dstAddrOff, IP_PROTO_PIM, end - off)
      : 0;
    p.Checksum_Status = finish(onesSum(b, off, sumEnd, start)) === 0 ? "good" : "bad";
  }
  if (type !== TYPE_REGISTER) {
    if (off + HEADER_LEN < end) f.rest(off + HEADER_LEN, end, `PIM type ${type}`);
    return;
  }
  if (!need(f, name, off, end, REGISTER_LEN, "PIM register flags")) return;
  const flags = u32(b, off + HEADER_LEN);
  p.Border = (flags & 0x80000000) !== 0;
  p.Null_Register = (flags & 0x40000000) !== 0;
  const q = off + REGISTER_LEN;
  tunnelLayer(f, "PIM-Register", null);
  if (q >= end) return;
  if (!f.has(q, 1)) {
    f.truncated(name, q);
    return;
  }
  const v = b[q] >> 4;
  if (v === 4) f.call(decodeIpv4, q, end);
  else if (v === 6) f.call(decodeIpv6, q, end);
  else f.rest(q, end, `PIM register of IP version ${v}`);
}

register(IP_PROTO, IP_PROTO_PIM, decodePim);
