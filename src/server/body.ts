/**
 * Request bodies as decoded chunks, with the size limit applied while decoding: identity
 * or gzip (`gzip`, `x-gzip`; members concatenated as RFC 1952 section 2.2 allows are all
 * decoded). gzip is inflated as a stream by node:zlib, which stops inflating while the
 * consumer has not taken its last output (64 KiB pieces), so a gzip bomb costs one piece
 * of memory and is cut off at `maxBytes` (413).
 *
 * A chunk is valid until the consumer asks for the next one: its memory is then freed at
 * once (ArrayBuffer transfer), so a body leaves no garbage for the GC to find later.
 * Copy what you keep.
 *
 * @example
 * ```ts
 * import { bodyChunks } from "./body.ts";
 * for await (const chunk of bodyChunks(req, 64 << 20)) handle(chunk); // HttpError 413/400/415
 * ```
 * @module
 */
import zlib from "node:zlib";
import { HttpError } from "./errors.ts";
import { freeBuffer } from "./ndjson.ts";

const GZIP_PIECE = 64 * 1024;

/** The request's content coding: "identity" or "gzip"; 415 for anything else. */
export function contentCoding(req: Request): "identity" | "gzip" {
  const ce = (req.headers.get("content-encoding") ?? "").trim().toLowerCase();
  if (ce === "" || ce === "identity") return "identity";
  if (ce === "gzip" || ce === "x-gzip") return "gzip";
  throw new HttpError(415, `unsupported Content-Encoding '${ce}' (use gzip or none)`, {
    "accept-encoding": "gzip",
  });
}

/**
 * The decoded body, chunk by chunk. Throws {@link HttpError}: 413 when the declared length
 * or the decoded bytes exceed `maxBytes`, 400 for a body that is not valid gzip, 415 for
 * an unsupported coding; errors of the transport (408 timeout, 400 framing) pass through.
 */
export async function* bodyChunks(req: Request, maxBytes: number): AsyncGenerator<Uint8Array> {
  const coding = contentCoding(req);
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  if (req.body === null) return;
  const reader = req.body.getReader();
  try {
    let total = 0;
    const source = coding === "gzip" ? gunzip(reader) : chunksOf(reader);
    for await (const c of source) {
      total += c.length;
      if (total > maxBytes) throw tooLarge(maxBytes, coding === "gzip");
      yield c;
      // Transport chunks own their whole buffer; gzip pieces are freed by gunzip().
      if (coding === "identity" && c.byteOffset === 0 && c.byteLength === c.buffer.byteLength) {
        freeBuffer(c.buffer);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function tooLarge(max: number, decoded = false): HttpError {
  return new HttpError(
    413,
    `body larger than ${max} bytes${decoded ? " after gzip decoding" : ""}`,
  );
}

async function* chunksOf(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  while (true) {
    const r = await reader.read();
    if (r.done) return;
    yield r.value;
  }
}

/** Inflates gzip members one after another; output in pieces of at most 64 KiB. */
async function* gunzip(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  const z = zlib.createGunzip({ chunkSize: GZIP_PIECE });
  let sourceError: unknown = null;
  const feed = (async () => {
    try {
      while (!z.destroyed) {
        const r = await reader.read();
        if (r.done) break;
        if (z.destroyed) break;
        if (!z.write(r.value)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              z.off("drain", done);
              z.off("close", done);
              resolve();
            };
            z.on("drain", done);
            z.on("close", done);
          });
        }
      }
      if (!z.destroyed) z.end();
    } catch (e) {
      sourceError = e;
      z.destroy(e as Error);
    }
  })();
  // zlib fills one 64 KiB buffer after another; once a piece ends at the end of its buffer
  // (and the consumer is back for more), zlib writes there no more: free it.
  let last: ArrayBufferLike | null = null;
  try {
    for await (const out of z) {
      const c = out as Uint8Array;
      last = c.buffer;
      yield c;
      if (c.byteOffset + c.byteLength === c.buffer.byteLength) {
        freeBuffer(c.buffer);
        last = null;
      }
    }
  } catch (e) {
    if (sourceError !== null) throw sourceError;
    throw new HttpError(400, `body is not valid gzip: ${(e as Error).message}`);
  } finally {
    z.destroy();
    if (last !== null) freeBuffer(last);
    reader.cancel().catch(() => {});
    feed.catch(() => {});
  }
  if (sourceError !== null) throw sourceError;
}
