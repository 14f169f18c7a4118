/**
 * Malformed input, judged by tshark: 2000 seeded corruptions of the IP frames of the
 * fixtures (1-3 bytes changed among the first 80 after the Ethernet header, some cut
 * by a snap length) are written to a capture and compared field by field with tshark
 * (tshark_compare.ts). netmon follows Wireshark's handling of bad lengths, cut
 * headers and bogus options. The corruptions are seeded, so the frames are the same on
 * every run: each field that differs is listed in {@link EXPLAINED} with the reason,
 * and any other difference fails (so does an explained one that no longer differs).
 */
import { deepStrictEqual } from "node:assert/strict";
import { openCaptureFile } from "../../../src/capture/file.ts";

import { compare } from "./tshark_compare.ts";
import { FIXTURES } from "../../helpers/run.ts";
import { gated, NEEDS_TSHARK } from "../../helpers/skip.ts";

const FRAMES = 2000;
const SEED = 0x13579bdf;

/** frame -> fields that differ, and why (tshark 4.0.17 on this seed's frames). */
const EXPLAINED: Record<number, [string[], string]> = {
  138: [["ip.opt.type"], "IPv4 option 149 (SDB, obsoleted by RFC 6814): unknown to netmon"],
  364: [
    ["udp.checksum.status"],
    "UDP inside IP-in-IP whose outer header says MF: netmon leaves checksums inside a fragment unverified",
  ],
  606: [
    ["icmpv6.opt.prefix"],
    "prefix option with a corrupted length: tshark shows the prefix before it throws, netmon stops at the option",
  ],
  648: [
    ["ip.len"],
    "Total Length 0: tshark substitutes the frame's length (TSO), netmon reports the field",
  ],
  721: [
    ["udp.srcport", "udp.dstport"],
    "quoted IPv6 Payload Length 3 (below a UDP header): tshark stops, netmon's summary reads the captured ports",
  ],
  1131: [
    ["igmp.version", "igmp.type"],
    "IGMP cut after its type byte: netmon reports the type (and the version it implies), tshark nothing",
  ],
  1202: [
    ["ip.proto", "ip.src", "ip.dst"],
    "an ICMPv6 error quoting a header whose version nibble reads 4: tshark stops, netmon summarises it as IPv6 (compared under ip.* by its Version)",
  ],
  1371: [
    ["ip.version"],
    "IP-in-IP whose inner version is 6: netmon records the IPv4 attempt (Version 6) then the IPv6 header",
  ],
  1486: [
    ["icmp.ext.class"],
    "RFC 4884 extension structure of version 9: tshark stops (unsupported), netmon lists its objects",
  ],
  1782: [
    ["ip.len"],
    "Total Length 0: tshark substitutes the frame's length (TSO), netmon reports the field",
  ],
  1816: [
    ["ip.version", "ipv6.version"],
    "IPv6 in IPv6 whose inner version is 2: tshark shows that version, netmon stops at the outer header",
  ],
};

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The captures the corrupted frames come from, fixed so that a capture added to the
 * fixtures later does not change this seed's frames (and their explanations).
 */
const CORPUS = [
  "l3/crafted.pcap",
  "l3/netns.pcap",
  "l3/netns_routed.pcap",
  "l3/netns_snap96.pcap",
  ...[
    "3560_CDP.pcap",
    "802.1D_spanning_tree.pcap",
    "802.1ad_QinQ.pcap",
    "802.1w_rapid_STP.pcap",
    "DTP.pcap",
    "IGMP_V1.pcap",
    "IGMP_V2.pcap",
    "LLDP_and_CDP.pcap",
    "MSTP_Intra-Region_BPDUs.pcap",
    "UDLD.pcap",
    "accecn_handshake.pcap",
    "arp-too-long-tha.pcap",
    "dcb_pfc.pcap",
    "dns_tcp.pcap",
    "dns_udp.pcap",
    "icmp-rfc8335.pcap",
    "icmpv6-length-zero.pcapng",
    "icmpv6-ns-nonce.pcap",
    "icmpv6-ra-pref64.pcap",
    "icmpv6-rfc7112.pcap",
    "icmpv6.pcap",
    "igmpv3-queries.pcap",
    "ip6_frag_asan.pcap",
    "ipv4_tcp_http_xml.pcap",
    "ipv6-routing-header.pcap",
    "ipv6-srh-ext-header.pcap",
    "ipv6_jumbogram_1.pcap",
    "lldp-app-priority.pcap",
    "lldp-infinite-loop-1.pcap",
    "lldp_8021_linkagg.pcap",
    "lldp_mudurl.pcap",
    "mptcp-fclose.pcap",
    "rpvstp-trunk-native-vid5.pcap",
    "stp-heapoverflow-1.pcap",
  ].map((f) => `pcaps/${f}`),
];

async function ipFrames(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const file of CORPUS.map((f) => FIXTURES + f)) {
    const src = await openCaptureFile(file);
    try {
      await src.run((_v, b, off, m) => {
        const t = (b[off + 12] << 8) | b[off + 13];
        if ((t === 0x0800 || t === 0x86dd) && m.capLen < 3000) {
          out.push(b.slice(off, off + m.capLen));
        }
      }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
    } finally {
      src.close();
    }
  }
  return out;
}

function corruptedCapture(frames: Uint8Array[], n: number, seed: number): Uint8Array {
  const rand = rng(seed);
  const out: number[] = [];
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  out.push(...le32(0xa1b2c3d4), 2, 0, 4, 0, ...le32(0), ...le32(0), ...le32(65535), ...le32(1));
  for (let i = 0; i < n; i++) {
    const d = new Uint8Array(frames[Math.floor(rand() * frames.length)]);
    const k = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < k; j++) {
      const at = 14 + Math.floor(rand() * Math.min(80, d.length - 14));
      d[at] = rand() < 0.5 ? Math.floor(rand() * 256) : d[at] ^ (1 << Math.floor(rand() * 8));
    }
    const cap = rand() < 0.15 ? 14 + Math.floor(rand() * (d.length - 14)) : d.length;
    out.push(...le32(i), ...le32(0), ...le32(cap), ...le32(d.length));
    for (let j = 0; j < cap; j++) out.push(d[j]);
  }
  return new Uint8Array(out);
}

Deno.test(gated({
  name: "corrupted IP frames decode like tshark dissects them (every difference explained)",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const path = Deno.env.get("L3_FUZZ_KEEP") ?? await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(path, corruptedCapture(await ipFrames(), FRAMES, SEED));
      const problems = await compare(path);
      if (problems.length > 0) console.log(problems.join("\n"));
      const seen = new Map<number, Set<string>>();
      const unexplained: string[] = [];
      for (const p of problems) {
        const [, frame, f] = p.split(" ");
        const field = f.replace(/:$/, "");
        const n = Number(frame);
        if (EXPLAINED[n]?.[0].includes(field)) {
          seen.set(n, (seen.get(n) ?? new Set()).add(field));
        } else unexplained.push(p);
      }
      deepStrictEqual(unexplained, [], "differences not explained");
      const stale = Object.entries(EXPLAINED).filter(([n, [fields]]) =>
        fields.some((f) => !seen.get(Number(n))?.has(f))
      ).map(([n]) => n);
      deepStrictEqual(stale, [], "explained differences that no longer occur");
    } finally {
      if (!Deno.env.get("L3_FUZZ_KEEP")) await Deno.remove(path);
    }
  },
}));
