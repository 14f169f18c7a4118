/**
 * Hostile input: layer-2 fixture frames with random bytes overwritten (seeded, so a
 * failure reproduces) must decode without a decoder exception, every fault must point
 * inside the frame, and the malformed frames must still decode as tshark decodes them
 * (compare.ts). A decoder that looped would hang this test.
 */
import assert from "node:assert/strict";
import { PCAPS } from "../../helpers/run.ts";

import { decodeFile } from "../../helpers/decode_file.ts";
import { openCaptureFile } from "../../../src/capture/file.ts";
import { compareWithTshark } from "./compare.ts";
import { decodeBytes, writePcap } from "./frames.ts";
import { gated, NEEDS_TSHARK } from "../../helpers/skip.ts";

const FILES = [
  "UDLD.pcap",
  "arp-too-long-tha.pcap",
  "ipv4_tcp_http_xml.pcap",
  "lldp-infinite-loop-1.pcap",
  "stp-heapoverflow-1.pcap",
  "3560_CDP.pcap",
  "LLDP_and_CDP.pcap",
  "802.1D_spanning_tree.pcap",
  "802.1w_rapid_STP.pcap",
  "MSTP_Intra-Region_BPDUs.pcap",
  "rpvstp-trunk-native-vid5.pcap",
  "802.1ad_QinQ.pcap",
  "DTP.pcap",
  "lldp_mudurl.pcap",
  "lldp-app-priority.pcap",
  "dcb_pfc.pcap",
];
const MUTATIONS_PER_FRAME = 40;
/** Mutated frames per fixture frame compared with tshark (written to one pcap). */
const TSHARK_MUTATIONS_PER_FRAME = 20;
/** Mutations hit the first bytes, where the layer-2 headers and lengths are. */
const MUTATED_SPAN = 120;

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function frames(path: string): Promise<Uint8Array[]> {
  const src = await openCaptureFile(path);
  const out: Uint8Array[] = [];
  try {
    await src.run((_v, bytes, off, meta) => {
      out.push(bytes.slice(off, off + meta.capLen));
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}

/**
 * A copy of `original` with 1-8 bytes overwritten, biased to 0x00/0xff (lengths, counts),
 * in the first bytes (the headers) or, half of the time, anywhere (TLVs deep inside).
 */
function mutate(original: Uint8Array, rand: () => number): Uint8Array {
  const bytes = original.slice();
  const span = rand() < 0.5 ? bytes.length : Math.min(MUTATED_SPAN, bytes.length);
  const flips = 1 + Math.floor(rand() * 8);
  for (let k = 0; k < flips; k++) {
    const r = rand();
    const value = r < 0.3 ? 0 : r < 0.6 ? 0xff : Math.floor(rand() * 256);
    bytes[Math.floor(rand() * span)] = value;
  }
  return bytes;
}

Deno.test("randomly corrupted layer-2 frames never throw and faults stay inside the frame", async () => {
  const rand = prng(0x12c0ffee);
  const failures: string[] = [];
  let decoded = 0;
  for (const name of FILES) {
    for (const [i, original] of (await frames(PCAPS + name)).entries()) {
      for (let m = 0; m < MUTATIONS_PER_FRAME; m++) {
        const bytes = mutate(original, rand);
        const wireLen = rand() < 0.2 ? bytes.length + Math.floor(rand() * 3000) : bytes.length;
        const rec = decodeBytes(bytes, wireLen);
        decoded++;
        const errors = (rec.Decode_Errors ?? []) as { Problem: string; Offset: number }[];
        for (const e of errors) {
          if (e.Problem.startsWith("decoder error") || e.Offset < 0 || e.Offset > wireLen) {
            failures.push(`${name}#${i + 1} mutation ${m}: ${JSON.stringify(e)}`);
          }
        }
        // the record must serialise (no cycles, no BigInt)
        JSON.stringify(rec);
      }
    }
  }
  assert.ok(decoded > 1000);
  assert.deepEqual(failures.slice(0, 10), []);
});

Deno.test(gated({
  name: "randomly corrupted layer-2 frames decode as tshark decodes them",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const rand = prng(0x5eed0007);
    const mutated: Uint8Array[] = [];
    const wireLens: number[] = [];
    for (const name of FILES) {
      for (const original of await frames(PCAPS + name)) {
        for (let m = 0; m < TSHARK_MUTATIONS_PER_FRAME; m++) {
          const bytes = mutate(original, rand);
          // half of them also cut by a "snap length"
          const cut = rand() < 0.5 ? Math.floor(rand() * bytes.length) : bytes.length;
          mutated.push(bytes.subarray(0, cut));
          wireLens.push(bytes.length);
        }
      }
    }
    const dir = await Deno.makeTempDir({ prefix: "netmon-l2-mut-" });
    try {
      const path = `${dir}/mutated.pcap`;
      writePcap(path, mutated, wireLens);
      const problems = compareWithTshark(path, await decodeFile(path));
      assert.deepEqual(problems.slice(0, 10), [], `${problems.length} mismatches`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
