/**
 * Generates the benchmark capture: a classic pcap of mixed traffic built from the
 * well-formed frames of fixtures/pcaps (TCP, UDP/DNS, ICMP, ICMPv6, IPv6 extension
 * headers, ARP, 802.1Q/802.1ad, LLC/SNAP, STP, CDP, LLDP, IGMP), plus 802.1Q-tagged
 * copies of the IP frames, in a fixed weighted mix, with rising timestamps and varied
 * MAC addresses (not covered by any checksum, so checksums stay valid).
 *
 * Usage: deno run -A bench/gen_pcap.ts [frames=250000] [out=bench/out/big.pcap]
 * Also writes the first 20000 frames as bench/out/slice.pcap (for slow peers).
 *
 * @example
 * ```ts
 * const n = generateBenchPcap("bench/out/big.pcap", 250_000);
 * ```
 */

const ROOT = new URL("../", import.meta.url).pathname;
const PCAPS = `${ROOT}fixtures/pcaps/`;
export const OUT_DIR = `${ROOT}bench/out/`;
export const BIG = `${OUT_DIR}big.pcap`;
export const SLICE = `${OUT_DIR}slice.pcap`;
export const SLICE_FRAMES = 20_000;
export const DEFAULT_FRAMES = 250_000;

/** Fixtures that exist to crash parsers or are huge: not part of normal traffic. */
const SKIP = new Set([
  "stp-heapoverflow-1.pcap",
  "arp-too-long-tha.pcap",
  "ip6_frag_asan.pcap",
  "lldp-infinite-loop-1.pcap",
  "ipv6_jumbogram_1.pcap",
]);

const ETH_HDR = 14;
const TPID_8021Q = 0x8100;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const MAX_FRAME = 1518;

type Kind = "tcp" | "udp" | "ip-other" | "vlan" | "l2";

/** Share of each kind in the mix (sums to 100). */
const WEIGHTS: [Kind, number][] = [
  ["tcp", 55],
  ["udp", 15],
  ["ip-other", 8],
  ["vlan", 12],
  ["l2", 10],
];

function readPcapLe(path: string): Uint8Array[] {
  const b = Deno.readFileSync(path);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 24 || v.getUint32(0, true) !== 0xa1b2c3d4) return [];
  if (v.getUint32(20, true) !== 1) return [];
  const out: Uint8Array[] = [];
  for (let p = 24; p + 16 <= b.length;) {
    const cap = v.getUint32(p + 8, true);
    const wire = v.getUint32(p + 12, true);
    if (p + 16 + cap > b.length) break;
    if (cap === wire && cap <= MAX_FRAME && cap >= ETH_HDR) out.push(b.slice(p + 16, p + 16 + cap));
    p += 16 + cap;
  }
  return out;
}

function classify(f: Uint8Array): Kind {
  const type = (f[12] << 8) | f[13];
  if (type === TPID_8021Q || type === 0x88a8) return "vlan";
  if (type === ETHERTYPE_IPV4) {
    const proto = f[ETH_HDR + 9];
    return proto === 6 ? "tcp" : proto === 17 ? "udp" : "ip-other";
  }
  if (type === ETHERTYPE_IPV6) {
    const nh = f[ETH_HDR + 6];
    return nh === 6 ? "tcp" : nh === 17 ? "udp" : "ip-other";
  }
  return "l2";
}

/** Inserts an 802.1Q tag (VLAN `vid`) after the MAC addresses. */
function tag(f: Uint8Array, vid: number): Uint8Array {
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 12), 0);
  out[12] = TPID_8021Q >> 8;
  out[13] = TPID_8021Q & 0xff;
  out[14] = (vid >> 8) & 0x0f;
  out[15] = vid & 0xff;
  out.set(f.subarray(12), 16);
  return out;
}

function writeAll(f: Deno.FsFile, data: Uint8Array): void {
  let o = 0;
  while (o < data.length) o += f.writeSync(data.subarray(o));
}

/** Writes `frames` frames to `path` (and the first SLICE_FRAMES to SLICE); returns the count. */
export function generateBenchPcap(path: string, frames: number, slicePath = SLICE): number {
  const pools: Record<Kind, Uint8Array[]> = { tcp: [], udp: [], "ip-other": [], vlan: [], l2: [] };
  const names = [...Deno.readDirSync(PCAPS)].map((e) => e.name).filter((n) =>
    n.endsWith(".pcap") && !SKIP.has(n)
  ).sort();
  for (const n of names) {
    for (const f of readPcapLe(PCAPS + n)) pools[classify(f)].push(f);
  }
  // Tagged copies of IP traffic, on a few VLANs.
  for (const f of [...pools.tcp, ...pools.udp]) {
    for (const vid of [10, 20, 300]) pools.vlan.push(tag(f, vid));
  }
  const schedule: Kind[] = [];
  for (const [k, w] of WEIGHTS) {
    if (pools[k].length > 0) { for (let i = 0; i < w; i++) schedule.push(k); }
  }
  const next = new Map<Kind, number>();

  const bufSize = 8 * 1024 * 1024;
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const slice = Deno.openSync(slicePath, { write: true, create: true, truncate: true });
  const buf = new Uint8Array(bufSize);
  const view = new DataView(buf.buffer);
  let len = 0;
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 262144, true);
  hv.setUint32(20, 1, true);
  buf.set(header, 0);
  len = 24;
  const flush = () => {
    writeAll(file, buf.subarray(0, len));
    len = 0;
  };
  const startSec = 1_700_000_000;
  // A deterministic pseudo-random sequence (xorshift) picks kinds and varies MACs.
  let rnd = 0x2545f491;
  const rand = () => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return rnd >>> 0;
  };
  for (let i = 0; i < frames; i++) {
    const kind = schedule[rand() % schedule.length];
    const pool = pools[kind];
    const at = next.get(kind) ?? 0;
    next.set(kind, (at + 1) % pool.length);
    const f = pool[at];
    if (len + 16 + f.length > buf.length) flush();
    const p = len;
    const usec = i * 37;
    view.setUint32(p, startSec + Math.floor(usec / 1e6), true);
    view.setUint32(p + 4, usec % 1e6, true);
    view.setUint32(p + 8, f.length, true);
    view.setUint32(p + 12, f.length, true);
    buf.set(f, p + 16);
    // vary the host part of the source MAC (keeps multicast destinations intact)
    const r = rand();
    buf[p + 16 + 10] = (r >>> 8) & 0xff;
    buf[p + 16 + 11] = r & 0xff;
    len = p + 16 + f.length;
    if (i + 1 === Math.min(SLICE_FRAMES, frames)) {
      // the slice is the file so far
      flush();
      writeAll(slice, Deno.readFileSync(path));
    }
  }
  flush();
  file.close();
  slice.close();
  return frames;
}

if (import.meta.main) {
  const frames = Number(Deno.args[0] ?? DEFAULT_FRAMES);
  const out = Deno.args[1] ?? BIG;
  Deno.mkdirSync(OUT_DIR, { recursive: true });
  const n = generateBenchPcap(out, frames);
  const size = Deno.statSync(out).size;
  console.error(`wrote ${n} frames (${(size / 1e6).toFixed(1)} MB) to ${out}; slice ${SLICE}`);
}
