/**
 * Writes frames as a classic pcap file: nanosecond magic (0xa1b23c4d) in little-endian
 * byte order, which libpcap (tcpdump) and Wireshark read natively. Records are
 * collected in a 1 MiB buffer and written with one syscall per buffer.
 *
 * @example
 * ```ts
 * const w = await createPcapWriter("/tmp/out.pcap", 1, 262144);
 * // w.write(bytes, off, meta) per frame
 * await w.close();
 * ```
 */
import type { FrameMeta } from "../decode/meta.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";

/** File header (24 bytes) and record header (16 bytes) offsets. */
const HDR = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  VERSION_MINOR: 6,
  THISZONE: 8,
  SIGFIGS: 12,
  SNAPLEN: 16,
  LINKTYPE: 20,
  LEN: 24,
} as const;
const REC = { TS_SEC: 0, TS_NSEC: 4, CAPLEN: 8, WIRELEN: 12, LEN: 16 } as const;
const MAGIC_NSEC = 0xa1b23c4d;
const VERSION = [2, 4] as const;
/** Snap length written when the caller has none (libpcap's maximum). */
const DEFAULT_SNAPLEN = 262144;
const BUF_SIZE = 1024 * 1024;

export interface FrameWriter {
  /** Appends the frame bytes[off .. off + meta.capLen) (cut to the snap length). */
  write(bytes: Uint8Array, off: number, meta: FrameMeta): void;
  /** Writes what is buffered and closes the file. */
  close(): Promise<void>;
}

/** Creates (truncates) `path` and writes the pcap file header. */
export function createPcapWriter(
  path: string,
  linkType: number,
  snaplen: number,
): Promise<FrameWriter> {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, create: true, truncate: true });
  } catch (e) {
    return Promise.reject(
      new UsageError(`cannot write '${path}': ${e instanceof Error ? e.message : String(e)}`),
    );
  }
  const w = new PcapWriter(path, file, linkType, snaplen > 0 ? snaplen : DEFAULT_SNAPLEN);
  return Promise.resolve(w);
}

class PcapWriter implements FrameWriter {
  readonly #path: string;
  readonly #file: Deno.FsFile;
  readonly #snaplen: number;
  #buf = new Uint8Array(BUF_SIZE);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  #closed = false;

  constructor(path: string, file: Deno.FsFile, linkType: number, snaplen: number) {
    this.#path = path;
    this.#file = file;
    this.#snaplen = snaplen;
    const v = this.#view;
    v.setUint32(HDR.MAGIC, MAGIC_NSEC, true);
    v.setUint16(HDR.VERSION_MAJOR, VERSION[0], true);
    v.setUint16(HDR.VERSION_MINOR, VERSION[1], true);
    v.setInt32(HDR.THISZONE, 0, true);
    v.setUint32(HDR.SIGFIGS, 0, true);
    v.setUint32(HDR.SNAPLEN, snaplen, true);
    v.setUint32(HDR.LINKTYPE, linkType, true);
    this.#len = HDR.LEN;
  }

  write(bytes: Uint8Array, off: number, meta: FrameMeta): void {
    if (this.#closed) return;
    const capLen = Math.min(meta.capLen, this.#snaplen);
    const need = REC.LEN + capLen;
    if (this.#len + need > this.#buf.length) {
      this.#flush();
      if (need > this.#buf.length) {
        this.#buf = new Uint8Array(need);
        this.#view = new DataView(this.#buf.buffer);
      }
    }
    const v = this.#view;
    const p = this.#len;
    v.setUint32(p + REC.TS_SEC, meta.sec, true);
    v.setUint32(p + REC.TS_NSEC, meta.nsec, true);
    v.setUint32(p + REC.CAPLEN, capLen, true);
    v.setUint32(p + REC.WIRELEN, Math.max(meta.wireLen, capLen), true);
    this.#buf.set(bytes.subarray(off, off + capLen), p + REC.LEN);
    this.#len = p + need;
  }

  #flush(): void {
    let o = 0;
    try {
      while (o < this.#len) o += this.#file.writeSync(this.#buf.subarray(o, this.#len));
    } catch (e) {
      throw new RuntimeFailure(
        `writing '${this.#path}': ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    this.#len = 0;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    try {
      this.#flush();
    } finally {
      this.#closed = true;
      this.#file.close();
    }
    return Promise.resolve();
  }
}
