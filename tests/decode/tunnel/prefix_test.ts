/**
 * Every prefix of every tunnel fixture frame (crafted encapsulations, the real VXLAN
 * capture, the fragments, each frame on its own) decoded as if the snap length had cut
 * it there: no decoder exception, no byte read past the captured data (each prefix is
 * decoded twice, with 0x00 and with 0xff after it, and must give the same record), the
 * layers are those of the full frame in the same order with the same values (a layer
 * cut short may only lack attributes), and what was lost is said in Decode_Errors.
 */
import assert from "node:assert/strict";
import { FIXTURES } from "../../helpers/run.ts";
import { openCaptureFile } from "../../../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../../../src/decode/mod.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";

export const TUNNEL_FIXTURES = ["encap.pcap", "netns_vxlan.pcap", "fragments.pcap"].map((n) =>
  `${FIXTURES}conformance/${n}`
);
/** Attributes that legitimately change when bytes are missing. */
const VOLATILE = new Set(["Checksum_Status"]);
const SENTINEL = 64;

export async function framesOf(path: string): Promise<Uint8Array[]> {
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

const dec = newDecoder({ reassemble: false });
const meta = newFrameMeta();
const bufs = [0x00, 0xff].map((v) => new Uint8Array(70000 + SENTINEL).fill(v));

/** Decodes data[0..cap) of a frame of `wire` bytes, once per sentinel fill. */
function decodeBoth(data: Uint8Array, cap: number, wire: number): PacketRecord[] {
  return bufs.map((buf) => {
    const fill = buf[buf.length - 1];
    buf.set(data.subarray(0, cap), 0);
    buf.fill(fill, cap, cap + SENTINEL);
    meta.capLen = cap;
    meta.wireLen = wire;
    const r = JSON.parse(JSON.stringify(decodeFrame(dec, new DataView(buf.buffer), buf, 0, meta)));
    buf.fill(fill, 0, cap);
    delete r.AF_Packet;
    return r;
  });
}

function agrees(part: unknown, full: unknown): boolean {
  if (part === null) return true;
  if (Array.isArray(part)) {
    return Array.isArray(full) && part.length <= full.length &&
      part.every((v, i) => agrees(v, full[i]));
  }
  if (typeof part === "object") {
    if (typeof full !== "object" || full === null) return false;
    const f = full as Record<string, unknown>;
    return Object.entries(part as Record<string, unknown>).every(([k, v]) =>
      VOLATILE.has(k) || agrees(v, f[k])
    );
  }
  return part === full;
}

/** JSON without the volatile attributes (a payload cut short is no decode problem). */
const stable = (k: string, v: unknown) => VOLATILE.has(k) ? undefined : v;

const layers = (r: PacketRecord) =>
  Object.keys(r).filter((k) => k !== "Payload" && k !== "Decode_Errors");

export function checkPrefix(full: PacketRecord, data: Uint8Array, cap: number): string[] {
  const [a, b] = decodeBoth(data, cap, data.length);
  const out: string[] = [];
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push("depends on bytes past the capture");
  const errs = (a.Decode_Errors ?? []) as { Problem: string; Offset: number }[];
  for (const e of errs) {
    if (e.Problem.startsWith("decoder error")) out.push(`exception: ${e.Problem}`);
    if (!(e.Offset >= 0 && e.Offset <= data.length)) out.push(`fault offset ${e.Offset}`);
  }
  const keys = layers(a);
  const fullKeys = layers(full);
  if (keys.some((k, i) => fullKeys[i] !== k)) out.push(`layers ${keys} vs ${fullKeys}`);
  let lost = keys.length < fullKeys.length;
  for (const k of keys) {
    if (!agrees(a[k], full[k])) {
      out.push(`${k}: ${JSON.stringify(a[k])} vs ${JSON.stringify(full[k])}`);
    }
    if (JSON.stringify(a[k], stable) !== JSON.stringify(full[k], stable)) lost = true;
  }
  if (lost && errs.length === 0) out.push("lost data without a Decode_Errors entry");
  return out;
}

for (const file of TUNNEL_FIXTURES) {
  Deno.test(`every prefix of every frame of ${file.slice(FIXTURES.length)} decodes consistently`, async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const [i, data] of (await framesOf(file)).entries()) {
      const [full] = decodeBoth(data, data.length, data.length);
      for (let cap = 0; cap < data.length && problems.length < 10; cap++) {
        for (const p of checkPrefix(full, data, cap)) {
          problems.push(`frame ${i + 1} cap ${cap}: ${p}`);
        }
        checked++;
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 1000, `${checked} prefixes`);
  });
}
