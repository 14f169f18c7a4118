/**
 * One table per protocol-number space (gopacket style). Adding a protocol touches
 * its own file, one `register` line in it, and a test. Tables are filled when
 * src/decode/mod.ts imports the protocol files.
 */
import type { Decoder, Frame } from "./frame.ts";

export interface Table {
  /** Name used in "unknown protocol" payload notes, e.g. "EtherType". */
  readonly name: string;
  /** Digits for the hex rendering of unknown values (4 for EtherType); 0 means decimal. */
  readonly hexDigits: number;
  readonly map: Map<number, Decoder>;
}

function table(name: string, hexDigits: number): Table {
  return { name, hexDigits, map: new Map() };
}

/** EtherType (>= 0x0600 in the type/length field, and inside SNAP with OUI 000000). */
export const ETHERTYPE = table("EtherType", 4);
/** IPv4 protocol / IPv6 next header numbers (upper layers only; IPv6 extension headers are handled in ipv6.ts). */
export const IP_PROTO = table("IP protocol", 0);
/** 802.2 LLC DSAP values (for non-SNAP LLC). */
export const LLC_SAP = table("LLC SAP", 2);
/** SNAP, keyed by snapKey(OUI, Protocol_ID) from llc.ts (OUI * 65536 + PID: `<<` overflows). OUI 0 means an EtherType and goes through ETHERTYPE. */
export const SNAP = table("SNAP", 0);
/** UDP ports of the protocols carried over UDP (tunnels, application layers). */
export const UDP_PORT = table("UDP port", 0);
/** TCP ports of the protocols carried over TCP. */
export const TCP_PORT = table("TCP port", 0);

export function register(t: Table, value: number, dec: Decoder): void {
  t.map.set(value, dec);
}

/** Runs the decoder registered for `value`, or records the rest as an unknown payload. */
export function dispatch(t: Table, value: number, f: Frame, off: number, end: number): void {
  const dec = t.map.get(value);
  if (dec !== undefined) {
    f.call(dec, off, end);
    return;
  }
  const shown = t.hexDigits > 0
    ? "0x" + value.toString(16).padStart(t.hexDigits, "0")
    : String(value);
  f.rest(off, end, `${t.name} ${shown}`);
}

/**
 * Runs the decoder registered for one of a transport's ports, the lower port first (as
 * Wireshark's `decode_udp_ports`/`decode_tcp_ports` try them), or records the bytes as
 * plain Payload (no Unknown_Protocol note: unregistered ports are ordinary data).
 */
export function dispatchPort(
  t: Table,
  srcPort: number,
  dstPort: number,
  f: Frame,
  off: number,
  end: number,
): void {
  if (t.map.size > 0) {
    const lo = srcPort < dstPort ? srcPort : dstPort;
    const hi = srcPort < dstPort ? dstPort : srcPort;
    const dec = (lo !== 0 ? t.map.get(lo) : undefined) ?? (hi !== 0 ? t.map.get(hi) : undefined);
    if (dec !== undefined) {
      f.call(dec, off, end);
      return;
    }
  }
  f.rest(off, end);
}
