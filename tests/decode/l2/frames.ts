/**
 * Helpers for the layer-2 decoder tests: frames from `tshark -x` dumps, decoding
 * byte arrays with netmon's decoder, and writing small pcap files for tshark.
 */
import { decodeFrame, newDecoder } from "../../../src/decode/mod.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";

/** Width of the offset column and of the 16 hex bytes in a `tshark -x` line. */
const DUMP_OFFSET_COLS = 6;
const DUMP_HEX_COLS = 16 * 3 - 1;

/**
 * Bytes of a `tshark -x` / `tcpdump -xx`-style dump ("0000  01 80 c2 ...  ascii").
 * Only the fixed hex columns are read, so the ASCII column never leaks in.
 */
export function fromDump(dump: string): Uint8Array {
  const out: number[] = [];
  for (const raw of dump.split("\n")) {
    const line = raw.trim();
    if (!/^[0-9a-f]{4}\s/.test(line)) continue;
    const cols = line.slice(DUMP_OFFSET_COLS, DUMP_OFFSET_COLS + DUMP_HEX_COLS);
    for (const t of cols.trim().split(/\s+/)) {
      if (/^[0-9a-f]{2}$/.test(t)) out.push(parseInt(t, 16));
    }
  }
  return new Uint8Array(out);
}

/** Bytes from a plain hex string (whitespace ignored). */
export function fromHex(hex: string): Uint8Array {
  const h = hex.replace(/\s+/g, "");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// Each frame on its own (tests decode the same frames again and again).
const decoder = newDecoder({ reassemble: false });

/** Decodes an Ethernet frame of which `bytes` were captured out of `wireLen` on the wire. */
export function decodeBytes(bytes: Uint8Array, wireLen = bytes.length): PacketRecord {
  // Copy into a buffer with a few bytes of slack before and after, so that a decoder
  // reading outside the frame would see garbage rather than an exception.
  const buf = new Uint8Array(bytes.length + 16);
  buf.fill(0xee);
  buf.set(bytes, 8);
  const meta = newFrameMeta();
  meta.capLen = bytes.length;
  meta.wireLen = Math.max(wireLen, bytes.length);
  return decodeFrame(decoder, new DataView(buf.buffer), buf, 8, meta);
}

/**
 * Writes classic microsecond pcap (link type Ethernet) holding `frames`; `wireLens[i]`
 * (when given and larger) is frame i's original length, as if a snap length cut it.
 */
export function writePcap(path: string, frames: Uint8Array[], wireLens: number[] = []): void {
  let size = 24;
  for (const f of frames) size += 16 + f.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 1, true);
  let p = 24;
  frames.forEach((f, i) => {
    v.setUint32(p, i + 1, true);
    v.setUint32(p + 8, f.length, true);
    v.setUint32(p + 12, Math.max(f.length, wireLens[i] ?? 0), true);
    out.set(f, p + 16);
    p += 16 + f.length;
  });
  Deno.writeFileSync(path, out);
}

/** The record's layer `name` as a plain object (throws in the test if absent). */
export function layer(rec: PacketRecord, name: string): Record<string, unknown> {
  const l = rec[name];
  if (l === undefined || l === null || typeof l !== "object") {
    throw new Error(`no ${name} layer in ${JSON.stringify(rec)}`);
  }
  return l as Record<string, unknown>;
}
