/**
 * Test helper: builds capture files byte by byte (classic pcap in any byte order and
 * resolution, pcapng with several interfaces, options, EPB/SPB/unknown blocks), and
 * turns Ethernet frames into Linux cooked (SLL/SLL2) frames. Independent of
 * src/capture so the reader is checked against files it did not write; tshark then
 * says what the files contain.
 */
import { PCAPS } from "../helpers/run.ts";

export interface Pkt {
  data: Uint8Array;
  sec: number;
  nsec: number;
  wireLen: number;
  /** pcapng interface id (default 0). */
  iface?: number;
  /** pcapng epb_flags option value, when set. */
  flags?: number;
}

/** Reads a little-endian microsecond classic pcap (all fixtures are) without src/capture. */
export function readFixture(name: string): { linkType: number; pkts: Pkt[] } {
  const b = Deno.readFileSync(PCAPS + name);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0, true) !== 0xa1b2c3d4) throw new Error(`${name}: not a LE usec pcap`);
  const linkType = v.getUint32(20, true);
  const pkts: Pkt[] = [];
  let p = 24;
  while (p + 16 <= b.length) {
    const cap = v.getUint32(p + 8, true);
    if (p + 16 + cap > b.length) break;
    pkts.push({
      sec: v.getUint32(p, true),
      nsec: v.getUint32(p + 4, true) * 1000,
      wireLen: v.getUint32(p + 12, true),
      data: b.slice(p + 16, p + 16 + cap),
    });
    p += 16 + cap;
  }
  return { linkType, pkts };
}

class Out {
  parts: Uint8Array[] = [];
  constructor(readonly le: boolean) {}
  u8(x: number): void {
    this.parts.push(Uint8Array.of(x));
  }
  u16(x: number): void {
    const a = new Uint8Array(2);
    new DataView(a.buffer).setUint16(0, x, this.le);
    this.parts.push(a);
  }
  u32(x: number): void {
    const a = new Uint8Array(4);
    new DataView(a.buffer).setUint32(0, x >>> 0, this.le);
    this.parts.push(a);
  }
  bytes(a: Uint8Array): void {
    this.parts.push(a);
  }
  pad4(n: number): void {
    if (n % 4 !== 0) this.parts.push(new Uint8Array(4 - (n % 4)));
  }
  concat(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const r = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      r.set(p, o);
      o += p.length;
    }
    return r;
  }
}

/** Classic pcap: `nsec` picks the nanosecond magic; `le` the byte order. */
export function buildPcap(
  pkts: Pkt[],
  opts: { linkType: number; le: boolean; nsec: boolean; snaplen?: number },
): Uint8Array {
  const o = new Out(opts.le);
  o.u32(opts.nsec ? 0xa1b23c4d : 0xa1b2c3d4);
  o.u16(2);
  o.u16(4);
  o.u32(0);
  o.u32(0);
  o.u32(opts.snaplen ?? 262144);
  o.u32(opts.linkType);
  for (const p of pkts) {
    o.u32(p.sec);
    o.u32(opts.nsec ? p.nsec : Math.floor(p.nsec / 1000));
    o.u32(p.data.length);
    o.u32(p.wireLen);
    o.bytes(p.data);
  }
  return o.concat();
}

export interface NgIface {
  linkType: number;
  name?: string;
  /** if_tsresol byte (default 6: microseconds). */
  tsresol?: number;
}

function option(o: Out, code: number, val: Uint8Array): void {
  o.u16(code);
  o.u16(val.length);
  o.bytes(val);
  o.pad4(val.length);
}

/** Wraps a block body into type + length ... length. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const o = new Out(le);
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  o.u32(type);
  o.u32(total);
  o.bytes(body);
  o.pad4(body.length);
  o.u32(total);
  return o.concat();
}

/** Converts a timestamp into if_tsresol ticks as a 64-bit BigInt. */
function ticks(p: Pkt, tsresol: number): bigint {
  const ns = BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec);
  if (tsresol & 0x80) return (ns * (1n << BigInt(tsresol & 0x7f))) / 1_000_000_000n;
  const e = tsresol;
  return e >= 9 ? ns * 10n ** BigInt(e - 9) : ns / 10n ** BigInt(9 - e);
}

/**
 * One pcapng section. `spb` writes Simple Packet Blocks (interface 0, no timestamp)
 * instead of EPBs; `junk` adds an unknown block and a Name Resolution Block between
 * packets, which a reader must skip.
 */
export function buildPcapng(
  pkts: Pkt[],
  opts: { le: boolean; ifaces: NgIface[]; spb?: boolean; junk?: boolean },
): Uint8Array {
  const le = opts.le;
  const blocks: Uint8Array[] = [];
  // SHB
  {
    const o = new Out(le);
    o.u32(0x1a2b3c4d);
    o.u16(1);
    o.u16(0);
    o.u32(0xffffffff);
    o.u32(0xffffffff);
    option(o, 4, new TextEncoder().encode("netmon test builder")); // shb_userappl
    o.u32(0);
    blocks.push(block(le, 0x0a0d0d0a, o.concat()));
  }
  for (const ifc of opts.ifaces) {
    const o = new Out(le);
    o.u16(ifc.linkType);
    o.u16(0);
    o.u32(0);
    if (ifc.name !== undefined) option(o, 2, new TextEncoder().encode(ifc.name));
    if (ifc.tsresol !== undefined) option(o, 9, Uint8Array.of(ifc.tsresol));
    o.u32(0);
    blocks.push(block(le, 1, o.concat()));
  }
  pkts.forEach((p, i) => {
    if (opts.junk && i % 3 === 1) {
      const u = new Out(le);
      u.u32(0xdeadbeef);
      blocks.push(block(le, 0x00000099, u.concat())); // an unassigned block type
      const n = new Out(le);
      n.u16(0); // nrb_record_end
      n.u16(0);
      blocks.push(block(le, 4, n.concat()));
    }
    const o = new Out(le);
    if (opts.spb) {
      o.u32(p.wireLen);
      o.bytes(p.data);
      o.pad4(p.data.length);
      blocks.push(block(le, 3, o.concat()));
      return;
    }
    const ifId = p.iface ?? 0;
    const t = ticks(p, opts.ifaces[ifId].tsresol ?? 6);
    o.u32(ifId);
    o.u32(Number(t >> 32n));
    o.u32(Number(t & 0xffffffffn));
    o.u32(p.data.length);
    o.u32(p.wireLen);
    o.bytes(p.data);
    o.pad4(p.data.length);
    if (p.flags !== undefined) {
      const f = new Uint8Array(4);
      new DataView(f.buffer).setUint32(0, p.flags, le);
      option(o, 2, f);
      o.u32(0);
    }
    blocks.push(block(le, 6, o.concat()));
  });
  const o = new Out(le);
  for (const b of blocks) o.bytes(b);
  return o.concat();
}

/** Replaces the 14-byte Ethernet header by a Linux cooked header (v1 or v2). */
export function toSll(eth: Uint8Array, version: 1 | 2, pktType: number, ifIndex = 3): Uint8Array {
  const proto = (eth[12] << 8) | eth[13];
  const payload = eth.subarray(14);
  const hdrLen = version === 1 ? 16 : 20;
  const out = new Uint8Array(hdrLen + payload.length);
  const v = new DataView(out.buffer);
  if (version === 1) {
    v.setUint16(0, pktType);
    v.setUint16(2, 1); // ARPHRD_ETHER
    v.setUint16(4, 6);
    out.set(eth.subarray(6, 12), 6);
    v.setUint16(14, proto);
  } else {
    v.setUint16(0, proto);
    v.setUint32(4, ifIndex);
    v.setUint16(8, 1);
    out[10] = pktType;
    out[11] = 6;
    out.set(eth.subarray(6, 12), 12);
  }
  out.set(payload, hdrLen);
  return out;
}
