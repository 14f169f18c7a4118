/**
 * Geneve (RFC 8926, UDP 6081): version, option length, the OAM and critical flags,
 * protocol type (an EtherType; 0x6558 is an Ethernet frame), VNI and the options, each
 * with its class, type (high bit: critical), length in bytes (header included) and data.
 * The options are walked within the option length the header gives.
 */
import type { Frame } from "./frame.ts";
import { dispatch, ETHERTYPE } from "./registry.ts";
import type { Layer } from "./record.ts";
import { hex } from "./format.ts";
import { need, u16 } from "./bytes.ts";
import { registerUdpProtocol, tunnelLayer } from "./tunnel.ts";

export const LAYER_GENEVE = "Geneve";
const HEADER_LEN = 8;
const UDP_PORT_GENEVE = 6081;

export function decodeGeneve(f: Frame, off: number, end: number): void {
  const b = f.bytes;
  const name = LAYER_GENEVE;
  if (!need(f, name, off, end, HEADER_LEN, "Geneve header")) return;
  const optLen = (b[off] & 0x3f) * 4;
  const type = u16(b, off + 2);
  const vni = (b[off + 4] << 16) | (b[off + 5] << 8) | b[off + 6];
  const options: Layer[] = [];
  f.layer(name, {
    Version: b[off] >> 6,
    Options_Length: optLen,
    OAM: (b[off + 1] & 0x80) !== 0,
    Critical: (b[off + 1] & 0x40) !== 0,
    Protocol_Type: type,
    VNI: vni,
    Reserved: b[off + 7],
    Options: options,
  });
  const optEnd = off + HEADER_LEN + optLen;
  if (!need(f, name, off + HEADER_LEN, end, optLen, "Geneve options")) return;
  // Each option consumes at least 4 bytes, so this ends.
  for (let p = off + HEADER_LEN; p < optEnd;) {
    if (p + 4 > optEnd) {
      f.fault(name, "option header past the option length", p);
      return;
    }
    const len = (b[p + 3] & 0x1f) * 4 + 4;
    const o: Layer = {
      Class: u16(b, p),
      Type: b[p + 2],
      Critical: (b[p + 2] & 0x80) !== 0,
      Length: len,
    };
    options.push(o);
    if (p + len > optEnd) {
      f.fault(name, `option length ${len} past the option length`, p + 3);
      return;
    }
    if (len > 4) o.Data = hex(b, p + 4, p + len);
    p += len;
  }
  tunnelLayer(f, "Geneve", { VNI: vni });
  if (optEnd < end) dispatch(ETHERTYPE, type, f, optEnd, end);
}

registerUdpProtocol("geneve", [UDP_PORT_GENEVE], decodeGeneve);
