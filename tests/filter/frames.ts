/** Test frames built by hand, and raw frames read from classic pcap files. */
import { parseIpv6 } from "../../src/filter/addr.ts";

export interface FrameSpec {
  /** VLAN tags outermost first, as TPIDs (0x8100, 0x88a8). */
  tags?: number[];
  src: string;
  dst: string;
  /** IP protocol: 6 TCP (default), 17 UDP, 1 ICMP. */
  proto?: number;
  sport?: number;
  dport?: number;
  /** IPv4: fragment offset in 8-byte units (non-first fragment when > 0). */
  fragOffset?: number;
  /** IPv6: insert a Destination Options extension header before the transport header. */
  ext6?: boolean;
  /** IPv4 options length in bytes (multiple of 4). */
  ipOptions?: number;
  payload?: number;
}

function ip4(s: string): number[] {
  return s.split(".").map(Number);
}

function ip6(s: string): number[] {
  const g = new Uint16Array(8);
  if (!parseIpv6(s, g)) throw new Error(`bad IPv6 ${s}`);
  return [...g].flatMap((w) => [w >> 8, w & 0xff]);
}

const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];

/** An Ethernet frame as bytes (checksums left zero: the BPF and the guard ignore them). */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const v6 = spec.src.includes(":");
  const proto = spec.proto ?? 6;
  const out: number[] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
  for (const t of spec.tags ?? []) out.push(...be16(t), ...be16(100));
  out.push(...be16(v6 ? 0x86dd : 0x0800));
  const l4: number[] = [];
  if (proto === 6) {
    l4.push(
      ...be16(spec.sport ?? 1),
      ...be16(spec.dport ?? 2),
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0x50,
      0x18,
      0xff,
      0xff,
      0,
      0,
      0,
      0,
    );
  } else if (proto === 17) {
    l4.push(
      ...be16(spec.sport ?? 1),
      ...be16(spec.dport ?? 2),
      ...be16(8 + (spec.payload ?? 0)),
      0,
      0,
    );
  } else l4.push(8, 0, 0, 0, 0, 1, 0, 1);
  for (let i = 0; i < (spec.payload ?? 0); i++) l4.push(0x61);
  if (!v6) {
    const opt = spec.ipOptions ?? 0;
    const ihl = 5 + opt / 4;
    const total = ihl * 4 + l4.length;
    out.push(0x40 | ihl, 0, ...be16(total), 0, 1, ...be16(spec.fragOffset ?? 0), 64, proto, 0, 0);
    out.push(...ip4(spec.src), ...ip4(spec.dst));
    for (let i = 0; i < opt; i++) out.push(1); // NOP options
  } else {
    const ext = spec.ext6 ? [proto, 0, 1, 4, 0, 0, 0, 0] : [];
    out.push(0x60, 0, 0, 0, ...be16(ext.length + l4.length), spec.ext6 ? 60 : proto, 64);
    out.push(...ip6(spec.src), ...ip6(spec.dst), ...ext);
  }
  out.push(...l4);
  return Uint8Array.from(out);
}

/** Frames of a classic pcap file (either byte order), with the file's link type. */
export function readPcapFrames(path: string): { linkType: number; frames: Uint8Array[] } {
  const b = Deno.readFileSync(path);
  const v = new DataView(b.buffer);
  const magic = v.getUint32(0, true);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${path}: not a classic pcap file`);
  const linkType = v.getUint32(20, le) & 0xffff;
  const frames: Uint8Array[] = [];
  let off = 24;
  while (off + 16 <= b.length) {
    const cap = v.getUint32(off + 8, le);
    if (off + 16 + cap > b.length) break;
    frames.push(b.slice(off + 16, off + 16 + cap));
    off += 16 + cap;
  }
  return { linkType, frames };
}
