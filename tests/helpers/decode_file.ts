/** Decodes every frame of a capture file with netmon's own reader and decoders. */
import { openCaptureFile } from "../../src/capture/file.ts";
import { decodeFrame, type DecoderOptions, newDecoder } from "../../src/decode/mod.ts";
import type { PacketRecord } from "../../src/decode/record.ts";

export async function decodeFile(
  path: string,
  opts: DecoderOptions = {},
): Promise<PacketRecord[]> {
  const src = await openCaptureFile(path);
  const dec = newDecoder(opts);
  const out: PacketRecord[] = [];
  const ac = new AbortController();
  try {
    await src.run((view, bytes, off, meta) => {
      out.push(decodeFrame(dec, view, bytes, off, meta));
    }, { signal: ac.signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  return out;
}
