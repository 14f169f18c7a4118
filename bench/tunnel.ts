/**
 * Tunnelled decode benchmark: the usual mix (bench/gen_pcap.ts) carried in tunnels, half
 * in VXLAN (outer Ethernet/IPv4/UDP 4789, the whole inner frame) and half in GRE (outer
 * Ethernet/IPv4/GRE, the inner IP packet; non-IP frames go in VXLAN), as a data centre
 * overlay or a traffic mirror delivers it. Frames/s of
 *   deno run -A main.ts capture -r tunnel.pcap --json > /dev/null
 * beside `tcpdump -nn -r tunnel.pcap > /dev/null` (which decodes VXLAN and GRE too), the
 * medians of RUNS runs after a warm-up, wall and CPU; plus netmon's in-process decode rate
 * on the tunnelled and on the plain mix.
 *
 * Usage: deno run -A bench/tunnel.ts [frames]   (prints a markdown table on stdout)
 */
import { BIG, DEFAULT_FRAMES, generateBenchPcap, OUT_DIR } from "./gen_pcap.ts";
import { have, inProcess, RUNS, timeCmd, type Timing } from "./_timing.ts";

const ROOT = new URL("../", import.meta.url).pathname;
export const TUNNEL_PCAP = `${OUT_DIR}tunnel.pcap`;
const OUTER_MAC = [0x02, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02];

function ipv4Header(total: number, proto: number, id: number): number[] {
  const h = [0x45, 0, total >> 8, total & 0xff, id >> 8, id & 0xff, 0, 0, 64, proto, 0, 0];
  h.push(192, 0, 2, 1 + (id & 0x0f), 198, 51, 100, 2);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (h[i] << 8) | h[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  h[10] = (~s >> 8) & 0xff;
  h[11] = ~s & 0xff;
  return h;
}

/** The frame in VXLAN (VNI 4096 + n % 8) or, for IP frames on odd n, in GRE. */
export function encapsulate(f: Uint8Array, n: number): Uint8Array {
  const type = (f[12] << 8) | f[13];
  const ip = type === 0x0800 || type === 0x86dd;
  if (ip && n % 2 === 1) {
    const inner = f.subarray(14);
    const out = new Uint8Array(14 + 20 + 4 + inner.length);
    out.set(OUTER_MAC, 0);
    out.set([0x08, 0x00], 12);
    out.set(ipv4Header(20 + 4 + inner.length, 47, n & 0xffff), 14);
    out.set([0, 0, type >> 8, type & 0xff], 34);
    out.set(inner, 38);
    return out;
  }
  const udpLen = 8 + 8 + f.length;
  const out = new Uint8Array(14 + 20 + udpLen);
  out.set(OUTER_MAC, 0);
  out.set([0x08, 0x00], 12);
  out.set(ipv4Header(20 + udpLen, 17, n & 0xffff), 14);
  const sport = 49152 + (n % 4096);
  // UDP checksum 0 (absent, allowed over IPv4, as Linux sends VXLAN by default).
  out.set([sport >> 8, sport & 0xff, 0x12, 0xb5, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  const vni = 4096 + (n % 8);
  out.set([0x08, 0, 0, 0, vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0], 42);
  out.set(f, 50);
  return out;
}

/** Writes the tunnelled copy of the plain mix `from` to `to`. */
export function generateTunnelPcap(from: string, to: string): number {
  const b = Deno.readFileSync(from);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const parts: Uint8Array[] = [b.slice(0, 24)];
  let n = 0;
  for (let p = 24; p + 16 <= b.length; n++) {
    const cap = v.getUint32(p + 8, true);
    const f = encapsulate(b.subarray(p + 16, p + 16 + cap), n);
    const h = b.slice(p, p + 16);
    const hv = new DataView(h.buffer);
    hv.setUint32(8, f.length, true);
    hv.setUint32(12, f.length, true);
    parts.push(h, f);
    p += 16 + cap;
  }
  const file = Deno.openSync(to, { write: true, create: true, truncate: true });
  for (const part of parts) {
    let o = 0;
    while (o < part.length) o += file.writeSync(part.subarray(o));
  }
  file.close();
  return n;
}

if (import.meta.main) {
  const frames = Number(Deno.args[0] ?? DEFAULT_FRAMES);
  Deno.mkdirSync(OUT_DIR, { recursive: true });
  generateBenchPcap(BIG, frames);
  generateTunnelPcap(BIG, TUNNEL_PCAP);
  const load = Deno.loadavg()[0].toFixed(2);
  const rows: { what: string; t: Timing }[] = [];
  rows.push({
    what: "`netmon capture -r tunnel.pcap --json`",
    t: await timeCmd([
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}main.ts`,
      "capture",
      "-r",
      TUNNEL_PCAP,
      "--json",
    ]),
  });
  if (have("tcpdump")) {
    rows.push({
      what: "`tcpdump -nn -r tunnel.pcap`",
      t: await timeCmd(["tcpdump", "-nn", "-r", TUNNEL_PCAP]),
    });
  }
  const lines = [
    `Capture: ${frames} frames of the usual mix in VXLAN and GRE (bench/tunnel.ts), ${
      (Deno.statSync(TUNNEL_PCAP).size / 1e6).toFixed(1)
    } MB; median of ${RUNS} runs after a warm-up; output to /dev/null; ` +
    `${navigator.hardwareConcurrency} CPUs, load average ${load} at the start.`,
    "",
    "| command | frames | wall s | frames/s | netmon ratio | CPU s | frames/CPU-s | netmon ratio (CPU) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const base = rows[0].t;
  for (const r of rows) {
    lines.push(
      `| ${r.what} | ${frames} | ${r.t.wall.toFixed(3)} | ${Math.round(frames / r.t.wall)} | ` +
        `${(r.t.wall / base.wall).toFixed(2)}x | ${r.t.cpu.toFixed(3)} | ${
          Math.round(frames / r.t.cpu)
        } | ` +
        `${(r.t.cpu / base.cpu).toFixed(2)}x |`,
    );
  }
  lines.push(
    "",
    "In-process read + decode + JSON.stringify, frames/s:",
    "",
    "| capture | frames/s |",
    "|---|---:|",
  );
  lines.push(`| plain mix (big.pcap) | ${Math.round(await inProcess(BIG, "json"))} |`);
  lines.push(
    `| tunnelled mix (tunnel.pcap) | ${Math.round(await inProcess(TUNNEL_PCAP, "json"))} |`,
  );
  console.log(lines.join("\n"));
}
