/**
 * Malformed input, judged by tshark: 2000 seeded corruptions of the IP frames of the
 * fixtures (1-3 bytes changed among the first 80 after the Ethernet header, some cut
 * by a snap length) are written to a capture and compared field by field with tshark
 * (tshark_compare.ts). netmon follows Wireshark's handling of bad lengths, cut
 * headers and bogus options; a few quirks on junk are not emulated (IGMP types that
 * no RFC assigns, ICMP extension objects inside corrupted messages), so the test
 * allows disagreement on at most 1% of the frames and prints every disagreement.
 */
import { ok } from "node:assert/strict";
import { openCaptureFile } from "../../../src/capture/file.ts";
import { HAVE_TSHARK } from "../../helpers/tshark.ts";
import { captures, compare } from "./tshark_compare.ts";

const FRAMES = 2000;
const SEED = 0x13579bdf;

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

async function ipFrames(): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const file of captures()) {
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

Deno.test({
  name: "corrupted IP frames decode like tshark dissects them (at most 1% of frames differ)",
  ignore: !HAVE_TSHARK,
  fn: async () => {
    const path = Deno.env.get("L3_FUZZ_KEEP") ?? await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(path, corruptedCapture(await ipFrames(), FRAMES, SEED));
      const problems = await compare(path);
      const frames = new Set(problems.map((p) => p.split(" ")[1]));
      if (problems.length > 0) console.log(problems.join("\n"));
      ok(frames.size <= FRAMES / 100, `${frames.size} of ${FRAMES} frames differ`);
    } finally {
      if (!Deno.env.get("L3_FUZZ_KEEP")) await Deno.remove(path);
    }
  },
});
