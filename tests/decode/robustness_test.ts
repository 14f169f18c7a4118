/**
 * Hostile input is normal: every capture in fixtures/pcaps decodes with no exception
 * escaping a decoder and as many frames as tshark sees; and every prefix of every
 * frame (captured length 1..n, wire length unchanged) decodes into valid JSON.
 *
 * Each prefix is decoded from a view that ends exactly at the prefix, so a decoder
 * that reads past the captured bytes through the DataView throws a RangeError, which
 * decodeFrame turns into a "decoder error" fault that this test reports.
 */
import assert from "node:assert/strict";
import { openCaptureFile } from "../../src/capture/file.ts";
import type { FrameMeta } from "../../src/decode/meta.ts";
import { decodeFrame, newDecoder } from "../../src/decode/mod.ts";
import { HAVE_TSHARK, tsharkFields } from "../helpers/tshark.ts";
import { PCAPS } from "../helpers/run.ts";

const FIXTURES = [...Deno.readDirSync(PCAPS)]
  .map((e) => e.name)
  .filter((n) => /\.pcap(ng)?$/.test(n))
  .sort();

interface Captured {
  data: Uint8Array;
  meta: FrameMeta;
}

async function frames(path: string): Promise<Captured[]> {
  const src = await openCaptureFile(path);
  const out: Captured[] = [];
  try {
    await src.run((_v, bytes, off, meta) => {
      out.push({ data: bytes.slice(off, off + meta.capLen), meta: { ...meta } });
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}

/** What must hold for any record: JSON round trip, no escaped decoder exception, no junk text. */
function checkRecord(rec: Record<string, unknown>, where: string): void {
  const json = JSON.stringify(rec);
  assert.deepEqual(Object.keys(JSON.parse(json)), Object.keys(rec), where);
  const errs = (rec.Decode_Errors ?? []) as { Problem: string }[];
  for (const e of errs) {
    assert.ok(!e.Problem.startsWith("decoder error"), `${where}: ${e.Problem}`);
  }
  assert.ok(!/undefined|NaN/.test(json), `${where}: ${json.slice(0, 300)}`);
}

for (const name of FIXTURES) {
  Deno.test(`${name}: all frames and all their prefixes decode without an escaping exception`, async () => {
    const path = PCAPS + name;
    const all = await frames(path);
    if (HAVE_TSHARK) assert.equal(all.length, tsharkFields(path, ["frame.number"]).length);
    const dec = newDecoder({ reassemble: false });
    all.forEach((fr, i) => {
      const full = decodeFrame(dec, new DataView(fr.data.buffer), fr.data, 0, fr.meta);
      checkRecord(full, `${name} frame ${i + 1}`);
      const meta = { ...fr.meta };
      for (let len = 1; len <= fr.data.length; len++) {
        meta.capLen = len;
        const bytes = fr.data.subarray(0, len);
        const rec = decodeFrame(dec, new DataView(fr.data.buffer, 0, len), bytes, 0, meta);
        const where = `${name} frame ${i + 1} cut to ${len} of ${fr.data.length}`;
        checkRecord(rec, where);
        const af = rec.AF_Packet as Record<string, unknown>;
        assert.equal(af.Captured_Length, len, where);
        assert.equal(af.Length, fr.meta.wireLen, where);
      }
    });
  });
}
