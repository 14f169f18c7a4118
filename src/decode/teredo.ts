/**
 * Teredo (RFC 4380, UDP 3544): the optional authentication indicator (client id and
 * authentication value lengths, client id, value, nonce, confirmation byte) and origin
 * indication (the mapped port and IPv4 address, shown de-obfuscated as Wireshark does),
 * then the IPv6 packet.
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { hex, ipv4 } from "./format.ts";
import { need, u16 } from "./bytes.ts";
import { decodeIpv6 } from "./ipv6.ts";
import { registerUdpProtocol, tunnelLayer } from "./tunnel.ts";

export const LAYER_TEREDO = "Teredo";
const UDP_PORT_TEREDO = 3544;
const IND_AUTH = 1;
const IND_ORIGIN = 0;
const AUTH_FIXED = 13; // indicator, two lengths, nonce (8), confirmation
const ORIGIN_LEN = 8;

/** False (with a truncation noted) when an indicator's two bytes are on the wire but not captured. */
function indicatorReadable(f: Frame, p: number, end: number): boolean {
  if (p + 2 <= end && !f.has(p, 2)) {
    f.truncated(LAYER_TEREDO, p);
    return false;
  }
  return true;
}

export function decodeTeredo(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_TEREDO;
  const t: Layer = {};
  f.layer(name, t);
  let p = off;
  if (!indicatorReadable(f, p, end)) return;
  if (p + 2 <= end && u16(b, p) === IND_AUTH) {
    if (!need(f, name, p, end, 4, "Teredo authentication")) return;
    const idLen = b[p + 2];
    const auLen = b[p + 3];
    t.Client_ID_Length = idLen;
    t.Auth_Value_Length = auLen;
    if (!need(f, name, p, end, AUTH_FIXED + idLen + auLen, "Teredo authentication")) return;
    let q = p + 4;
    if (idLen > 0) t.Client_ID = hex(b, q, q + idLen);
    q += idLen;
    if (auLen > 0) t.Auth_Value = hex(b, q, q + auLen);
    q += auLen;
    t.Nonce = hex(b, q, q + 8);
    t.Confirmation = b[q + 8];
    p = q + 9;
    if (!indicatorReadable(f, p, end)) return;
  }
  if (p + 2 <= end && u16(b, p) === IND_ORIGIN) {
    if (!need(f, name, p, end, ORIGIN_LEN, "Teredo origin indication")) return;
    t.Origin_Port = u16(b, p + 2) ^ 0xffff;
    const a = new Uint8Array(4);
    for (let i = 0; i < 4; i++) a[i] = b[p + 4 + i] ^ 0xff;
    t.Origin_Address = ipv4(a, 0);
    p += ORIGIN_LEN;
  }
  tunnelLayer(f, "Teredo", null);
  if (p < end) f.call(decodeIpv6, p, end);
}

registerUdpProtocol("teredo", [UDP_PORT_TEREDO], decodeTeredo);
