/**
 * Hostile input for the layer-3/4 decoders: every prefix of every frame of the
 * fixtures (captured length cut, wire length kept) and seeded random corruptions of
 * the IP/transport headers must decode without a decoder exception, into valid JSON,
 * and without reading a byte past the captured data.
 *
 * Reads past the captured data are caught with sentinels: each frame is decoded from
 * a buffer where the bytes after the captured length are all 0x00, then all 0xff; a
 * decoder that looks past `f.capEnd` produces two different records.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { openCaptureFile } from "../../../src/capture/file.ts";
import { type FrameMeta, newFrameMeta } from "../../../src/decode/meta.ts";
import { decodeFrame, newDecoder } from "../../../src/decode/mod.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { FIXTURES, PCAPS } from "../../helpers/run.ts";

const SENTINEL_LEN = 256;
// Each frame on its own: the same fragment is decoded many times over.
const dec = newDecoder({ reassemble: false });

interface Captured {
  data: Uint8Array;
  wireLen: number;
}

async function frames(path: string): Promise<Captured[]> {
  const src = await openCaptureFile(path);
  const out: Captured[] = [];
  try {
    await src.run((_v, bytes, off, meta) => {
      out.push({ data: bytes.slice(off, off + meta.capLen), wireLen: meta.wireLen });
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}

const meta: FrameMeta = newFrameMeta();
const bufs = [0x00, 0xff].map((fill) => new Uint8Array(70000 + SENTINEL_LEN).fill(fill));

/** Decodes data[0..capLen) with the given wire length once per sentinel; returns both records. */
function decodeBoth(data: Uint8Array, capLen: number, wireLen: number): PacketRecord[] {
  return bufs.map((buf) => {
    const fill = buf[buf.length - 1];
    buf.set(data.subarray(0, capLen), 0);
    buf.fill(fill, capLen, capLen + SENTINEL_LEN);
    meta.capLen = capLen;
    meta.wireLen = wireLen;
    const rec = decodeFrame(dec, new DataView(buf.buffer, 0, capLen + SENTINEL_LEN), buf, 0, meta);
    buf.fill(fill, 0, capLen);
    return JSON.parse(JSON.stringify(rec));
  });
}

const STATUSES = new Set(["good", "bad", "unverified", "absent"]);

/** What must hold for any record. Returns a problem description or "". */
function check(recs: PacketRecord[], where: string): string {
  const [a, b] = recs;
  const ja = JSON.stringify(a);
  if (ja !== JSON.stringify(b)) return `${where}: record depends on bytes past the captured length`;
  if (/undefined|NaN|Infinity/.test(ja)) return `${where}: junk value in ${ja.slice(0, 300)}`;
  for (const e of (a.Decode_Errors ?? []) as { Problem: string; Offset: number }[]) {
    if (e.Problem.startsWith("decoder error")) return `${where}: ${e.Problem}`;
    if (!(e.Offset >= 0)) return `${where}: bad fault offset ${e.Offset}`;
  }
  for (const [k, v] of Object.entries(a)) {
    const st = (v as Record<string, unknown>)?.Checksum_Status;
    if (st !== undefined && !STATUSES.has(st as string)) return `${where}: ${k} status ${st}`;
  }
  const p = a.Payload as { Length: number; Captured_Length: number } | undefined;
  if (p && !(p.Captured_Length >= 0 && p.Captured_Length <= p.Length)) {
    return `${where}: payload ${JSON.stringify(p)}`;
  }
  return "";
}

/** Prefix lengths to try: all of them for normal frames, a sample for jumbo ones. */
function prefixLengths(n: number): number[] {
  if (n <= 2000) return Array.from({ length: n + 1 }, (_, i) => i);
  const out = Array.from({ length: 200 }, (_, i) => i);
  for (let i = 200; i < n; i += 997) out.push(i);
  out.push(n);
  return out;
}

/** Deterministic PRNG (mulberry32) so failures can be replayed. */
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

/** True when the frame carries IPv4 or IPv6 (possibly after VLAN tags). */
function isIp(d: Uint8Array): boolean {
  let o = 12;
  while (
    o + 2 <= d.length && (d[o] === 0x81 || d[o] === 0x88 || d[o] === 0x91) && d[o + 1] !== 0x06
  ) o += 4;
  const t = o + 2 <= d.length ? (d[o] << 8) | d[o + 1] : 0;
  return t === 0x0800 || t === 0x86dd;
}

function captures(): string[] {
  const out: string[] = [];
  for (const dir of [PCAPS, `${FIXTURES}l3/`]) {
    for (const e of Deno.readDirSync(dir)) if (/\.pcap(ng)?$/.test(e.name)) out.push(dir + e.name);
  }
  return out.sort();
}

for (const file of captures()) {
  const short = file.slice(FIXTURES.length);
  const all = await frames(file);
  const ipFrames = all.filter((f) => isIp(f.data));
  if (ipFrames.length === 0) continue;

  Deno.test(`every prefix of the IP frames of ${short} decodes cleanly within the captured bytes`, () => {
    const problems: string[] = [];
    ipFrames.forEach((fr, i) => {
      for (const len of prefixLengths(fr.data.length)) {
        const p = check(decodeBoth(fr.data, len, fr.wireLen), `frame ${i + 1} prefix ${len}`);
        if (p) problems.push(p);
        if (problems.length > 5) return;
      }
    });
    deepStrictEqual(problems, []);
  });

  const small = ipFrames.filter((f) => f.data.length <= 4000);
  if (small.length === 0) continue;
  Deno.test(`corrupted IP/transport headers in ${short} decode cleanly within the captured bytes`, () => {
    const rand = rng(0x5eed ^ short.length);
    const problems: string[] = [];
    let decoded = 0;
    small.forEach((fr, i) => {
      const copy = new Uint8Array(fr.data.length);
      for (let m = 0; m < 150 && problems.length <= 5; m++) {
        copy.set(fr.data);
        // Corrupt 1-4 bytes among the first 120 after the Ethernet header (IP and transport headers).
        const n = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < n; k++) {
          const at = 14 + Math.floor(rand() * Math.min(120, Math.max(1, copy.length - 14)));
          if (at < copy.length) copy[at] = Math.floor(rand() * 256);
        }
        const cut = rand() < 0.3 ? Math.floor(rand() * copy.length) : copy.length;
        const wire = rand() < 0.2 ? Math.floor(rand() * 3000) : fr.wireLen;
        const p = check(
          decodeBoth(copy, Math.min(cut, wire), wire),
          `frame ${i + 1} mutation ${m}`,
        );
        if (p) problems.push(p);
        decoded++;
      }
    });
    deepStrictEqual(problems, []);
    ok(decoded > 0);
  });
}
