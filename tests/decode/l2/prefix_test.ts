/**
 * Every prefix of every fixture frame that carries a layer-2 protocol beyond plain
 * Ethernet (tags, ISL, LLC/SNAP, STP, ARP, CDP, LLDP) is decoded as if the snap
 * length had cut it there. Each prefix must decode without a decoder exception,
 * keep the layer-2 layers of the full frame in the same order with the same values
 * (a layer cut short may only lack attributes), and say why when it lost something.
 */
import assert from "node:assert/strict";
import { PCAPS } from "../../helpers/run.ts";
import { openCaptureFile } from "../../../src/capture/file.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { decodeBytes } from "./frames.ts";

const L2 = /^(Ethernet|802\.1Q|802\.1ad|ISL|LLC|SNAP|STP|ARP|CDP|LLDP)(_\d+)?$/;
const INTERESTING = /^(802\.1Q|802\.1ad|ISL|LLC|SNAP|STP|ARP|CDP|LLDP)(_\d+)?$/;
/** Attributes that legitimately change when bytes are missing. */
const VOLATILE = new Set(["Checksum_Status"]);

interface Captured {
  bytes: Uint8Array;
  wireLen: number;
}

async function framesOf(path: string): Promise<Captured[]> {
  const src = await openCaptureFile(path);
  const out: Captured[] = [];
  try {
    await src.run((_view, bytes, off, meta) => {
      out.push({ bytes: bytes.slice(off, off + meta.capLen), wireLen: meta.wireLen });
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}

const l2Keys = (rec: PacketRecord) => Object.keys(rec).filter((k) => L2.test(k));

/** `part` agrees with `full`: equal values, shorter arrays must be prefixes, nulls mean "not reached". */
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

/** Problems of the decode of `bytes[0..len)` compared with the full decode; [] when fine. */
function checkPrefix(full: PacketRecord, c: Captured, len: number): string[] {
  const rec = decodeBytes(c.bytes.subarray(0, len), c.wireLen);
  const out: string[] = [];
  const errors = (rec.Decode_Errors ?? []) as { Layer: string; Problem: string }[];
  if (errors.some((e) => e.Problem.startsWith("decoder error"))) {
    out.push(`exception: ${JSON.stringify(errors)}`);
  }
  const keys = l2Keys(rec);
  const fullKeys = l2Keys(full);
  if (keys.some((k, i) => fullKeys[i] !== k)) out.push(`layers ${keys} vs ${fullKeys}`);
  let lost = keys.length < fullKeys.length;
  for (const k of keys) {
    if (!agrees(rec[k], full[k])) out.push(`${k}: ${JSON.stringify(rec[k])}`);
    if (JSON.stringify(rec[k]) !== JSON.stringify(full[k])) lost = true;
  }
  if (lost && errors.length === 0) out.push("lost layer-2 data without a Decode_Errors entry");
  return out;
}

const files = [...Deno.readDirSync(PCAPS)].map((e) => e.name).filter((n) => /\.pcap(ng)?$/.test(n))
  .sort();

Deno.test("every prefix of every layer-2 fixture frame decodes consistently", async (t) => {
  let checked = 0;
  for (const name of files) {
    const frames = await framesOf(PCAPS + name);
    const relevant = frames.map((c) => ({ c, full: decodeBytes(c.bytes, c.wireLen) }))
      .filter(({ full }) => Object.keys(full).some((k) => INTERESTING.test(k)));
    if (relevant.length === 0) continue;
    await t.step(name, () => {
      const problems: string[] = [];
      relevant.forEach(({ c, full }, i) => {
        for (let len = 0; len < c.bytes.length && problems.length < 10; len++) {
          for (const p of checkPrefix(full, c, len)) problems.push(`frame ${i} len ${len}: ${p}`);
          checked++;
        }
      });
      assert.deepEqual(problems, []);
    });
  }
  assert.ok(checked > 1000, `only ${checked} prefixes checked`);
});
