/**
 * Hostile input for the tunnel decoders: seeded random corruptions of the tunnel
 * fixture frames (1-4 bytes among the first 100 after the outer Ethernet header, where
 * the tunnel headers and their lengths are, biased to 0x00/0xff; some cut by a snap
 * length) never make a decoder throw, keep every fault inside the frame, and decode as
 * tshark dissects them, field by field through scripts/tshark_diff.ts. As for the
 * layer-3 fuzzing, a few quirks on junk are not emulated: at most 1% of the frames may
 * disagree, and every disagreement is printed.
 */
import assert from "node:assert/strict";

import {
  compareRecords,
  decodeCapture,
  formatMismatch,
  tsharkRows,
} from "../../../scripts/tshark_diff.ts";
import { framesOf, TUNNEL_FIXTURES } from "./prefix_test.ts";
import { gated, NEEDS_TSHARK } from "../../helpers/skip.ts";

const PER_FRAME = 25;
const SEED = 0x7e11e15;

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

export async function mutated(): Promise<{ frames: Uint8Array[]; wire: number[] }> {
  const rand = rng(SEED);
  const frames: Uint8Array[] = [];
  const wire: number[] = [];
  // The fragments file is left out: corrupted fragments of one datagram reassemble with
  // each other in ways that say nothing about the decoders.
  for (const file of TUNNEL_FIXTURES.filter((f) => !f.endsWith("fragments.pcap"))) {
    for (const original of await framesOf(file)) {
      for (let m = 0; m < PER_FRAME; m++) {
        const d = original.slice();
        const n = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < n; k++) {
          const at = 14 + Math.floor(rand() * Math.min(100, Math.max(1, d.length - 14)));
          const r = rand();
          if (at < d.length) d[at] = r < 0.25 ? 0 : r < 0.5 ? 0xff : Math.floor(rand() * 256);
        }
        const cut = rand() < 0.15 ? 14 + Math.floor(rand() * (d.length - 14)) : d.length;
        frames.push(d.subarray(0, cut));
        wire.push(d.length);
      }
    }
  }
  return { frames, wire };
}

/** Classic pcap, one frame per millisecond (reassembly timeouts run on packet time). */
function writeCapture(path: string, frames: Uint8Array[], wire: number[]): void {
  const size = 24 + frames.reduce((n, f) => n + 16 + f.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, 1, true);
  let p = 24;
  frames.forEach((f, i) => {
    v.setUint32(p, 1700000000 + Math.floor(i / 1000), true);
    v.setUint32(p + 4, (i % 1000) * 1000, true);
    v.setUint32(p + 8, f.length, true);
    v.setUint32(p + 12, wire[i], true);
    out.set(f, p + 16);
    p += 16 + f.length;
  });
  Deno.writeFileSync(path, out);
}

Deno.test(gated({
  name: "corrupted tunnel frames never throw and decode like tshark dissects them (<= 1% differ)",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const { frames, wire } = await mutated();
    const dir = await Deno.makeTempDir({ prefix: "netmon-tunnel-mut-" });
    try {
      const path = `${dir}/mutated.pcap`;
      writeCapture(path, frames, wire);
      const { records, error } = await decodeCapture(path);
      assert.equal(error, undefined);
      const bad: string[] = [];
      records.forEach((r, i) => {
        // Inside a reassembled datagram offsets count as if it had come whole in the frame.
        const max = r.Reassembly !== undefined ? 70000 : wire[i];
        for (const e of (r.Decode_Errors ?? []) as { Problem: string; Offset: number }[]) {
          if (e.Problem.startsWith("decoder error") || e.Offset < 0 || e.Offset > max) {
            bad.push(`#${i + 1} ${JSON.stringify(e)}`);
          }
        }
      });
      assert.deepEqual(bad.slice(0, 10), []);
      const { rows } = await tsharkRows(path);
      const c = compareRecords(path, records, rows);
      const differ = new Set(c.mismatches.map((m) => m.frame));
      if (c.mismatches.length > 0) console.log(c.mismatches.map(formatMismatch).join("\n"));
      assert.ok(records.length > 2000, `${records.length} frames`);
      assert.ok(
        differ.size <= records.length / 100,
        `${differ.size} of ${records.length} frames differ`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
