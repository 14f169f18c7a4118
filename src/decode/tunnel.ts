/**
 * What every tunnel decoder shares:
 *
 * - The `Tunnel` summary layer, added right after a tunnel header: its type, its
 *   identifier (VNI, key, label, TEID, session) and the addresses of the IP header that
 *   carries it (the nearest enclosing one), so one filter finds a tunnel whatever its
 *   encapsulation: `{"Tunnel": {"VNI": 42}}`. A frame with nested tunnels has `Tunnel`,
 *   `Tunnel_2`, ... outermost first, like every layer seen twice.
 * - The UDP ports of the UDP-carried tunnels, which users may move (`udp_port` in the
 *   `[decode]` section, `--udp-port NAME:PORT,...`): each decoder file registers its
 *   protocol here with its default ports; {@link udpPortTable} builds one decoder's table.
 */
import type { Decoder, Frame } from "./frame.ts";
import { register, type Table, UDP_PORT } from "./registry.ts";
import type { Layer } from "./record.ts";
import { ipv4, ipv6 } from "./format.ts";

export const LAYER_TUNNEL = "Tunnel";

/** Tunnel types as the `Tunnel.Type` attribute names them. */
export const TUNNEL_TYPES = [
  "VXLAN",
  "VXLAN-GPE",
  "Geneve",
  "GRE",
  "NVGRE",
  "ERSPAN",
  "WCCP",
  "PPTP",
  "MPLS",
  "MPLS-over-UDP",
  "IPIP",
  "6in4",
  "4in6",
  "6in6",
  "Teredo",
  "GTP-U",
  "L2TP",
  "PPPoE",
  "NSH",

  "PIM-Register",
] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

/**
 * Adds the `Tunnel` summary: `ids` holds the identifying attributes (VNI, Key, Label,
 * TEID, Session_ID, Tunnel_ID); the outer addresses come from the frame's innermost IP
 * header decoded so far (none for a tunnel not carried in IP: MPLS or PPPoE on Ethernet).
 */
export function tunnelLayer(f: Frame, type: TunnelType, ids: Layer | null): Layer {
  const t: Layer = { Type: type };
  if (ids !== null) { for (const k in ids) t[k] = ids[k]; }
  const s = f.sum;
  if (s.ipVersion === 4) {
    t.Outer_Source_Address = ipv4(f.bytes, s.srcAddrOff);
    t.Outer_Destination_Address = ipv4(f.bytes, s.dstAddrOff);
  } else if (s.ipVersion === 6) {
    t.Outer_Source_Address = ipv6(f.bytes, s.srcAddrOff);
    t.Outer_Destination_Address = ipv6(f.bytes, s.dstAddrOff);
  }
  return f.layer(LAYER_TUNNEL, t);
}

interface PortProtocol {
  readonly decoder: Decoder;
  readonly ports: readonly number[];
}

/** UDP-carried protocols whose ports can be moved, by the name users give them. */
export const UDP_PORT_PROTOCOLS = new Map<string, PortProtocol>();

/** Registers `decoder` on its default UDP `ports` under a name users can reconfigure. */
export function registerUdpProtocol(name: string, ports: readonly number[], decoder: Decoder) {
  UDP_PORT_PROTOCOLS.set(name, { decoder, ports });
  for (const p of ports) register(UDP_PORT, p, decoder);
}

/**
 * Parses `NAME:PORT[,PORT...]` entries (an empty port list turns the protocol off);
 * throws an Error with one line naming the problem.
 */
export function parseUdpPorts(entries: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const e of entries) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*:\s*([0-9,\s]*)$/.exec(e);
    const names = [...UDP_PORT_PROTOCOLS.keys()].join(", ");
    if (m === null) throw new Error(`bad UDP port entry "${e}" (want NAME:PORT[,PORT...])`);
    const name = m[1].toLowerCase();
    if (!UDP_PORT_PROTOCOLS.has(name)) {
      throw new Error(`unknown protocol "${m[1]}" in UDP port entry (known: ${names})`);
    }
    const ports: number[] = [];
    for (const t of m[2].split(",").map((x) => x.trim()).filter((x) => x !== "")) {
      const n = Number(t);
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        throw new Error(`bad UDP port "${t}" for ${name} (want 1-65535)`);
      }
      ports.push(n);
    }
    out.set(name, ports);
  }
  return out;
}

/**
 * The UDP port table of one decoder: UDP_PORT as registered, with the ports of the
 * protocols named in `moved` replaced. UDP_PORT itself when nothing moved.
 */
export function udpPortTable(moved: Map<string, number[]>): Table {
  if (moved.size === 0) return UDP_PORT;
  const map = new Map(UDP_PORT.map);
  for (const name of moved.keys()) {
    const p = UDP_PORT_PROTOCOLS.get(name)!;
    for (const old of p.ports) if (map.get(old) === p.decoder) map.delete(old);
  }
  for (const [name, ports] of moved) {
    const p = UDP_PORT_PROTOCOLS.get(name)!;
    for (const port of ports) map.set(port, p.decoder);
  }
  return { name: UDP_PORT.name, hexDigits: UDP_PORT.hexDigits, map };
}
