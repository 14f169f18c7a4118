/**
 * Capture file source: classic pcap (micro- and nanosecond magic, both byte orders)
 * and pcapng (sections in either byte order; IDB with if_name, if_tsresol and
 * if_tsoffset; EPB, SPB and the obsolete Packet Block; unknown blocks skipped).
 *
 * The file is read in large chunks into one buffer with one DataView; every frame
 * is handed to the sink in place (no copy). Between chunks the source awaits
 * `ctl.ready()` so a slow consumer slows the replay instead of losing frames.
 *
 * Errors: a file that cannot be opened, is not a capture file, or names a link type
 * netmon does not decode is a {@link UsageError} (one line, exit 2). A file cut off
 * in the middle of a record (or a record whose lengths are impossible) is a
 * {@link RuntimeFailure} thrown by `run()` after every complete record before the
 * cut was delivered.
 *
 * @example
 * ```ts
 * const src = await openCaptureFile("fixtures/pcaps/dns_udp.pcap");
 * const ac = new AbortController();
 * let n = 0;
 * await src.run(() => n++, { signal: ac.signal, ready: () => Promise.resolve() });
 * src.close();
 * ```
 */
import type { FrameSink, PacketSource, SourceControl, SourceStats } from "./source.ts";
import {
  type FrameMeta,
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  newFrameMeta,
} from "../decode/meta.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";
import { nsecFraction, splitTimestamp, type Ticks } from "./timestamp.ts";

/** Bytes read per chunk (the buffer grows only for a record larger than this). */
const CHUNK = 4 * 1024 * 1024;
/**
 * Frames delivered between two `ctl.ready()` checks, whatever their size: the stages
 * behind (the shipper's queue above all) are bounded in records, not bytes.
 */
const FRAMES_PER_TURN = 2048;
/** What a parse step returns when it stopped for a ready() check, not for lack of bytes. */
const TURN = -1;
/** Largest record netmon accepts; anything bigger means the file is corrupt. */
const MAX_RECORD = 256 * 1024 * 1024;

/** Classic pcap file header (24 bytes) and record header (16 bytes). */
const PCAP = {
  MAGIC: 0,
  VERSION_MAJOR: 4,
  SNAPLEN: 16,
  LINKTYPE: 20,
  HEADER_LEN: 24,
  REC_TS_SEC: 0,
  REC_TS_FRAC: 4,
  REC_CAPLEN: 8,
  REC_WIRELEN: 12,
  REC_LEN: 16,
} as const;
const MAGIC_USEC = 0xa1b2c3d4;
const MAGIC_NSEC = 0xa1b23c4d;
const MAGIC_USEC_SWAPPED = 0xd4c3b2a1;
const MAGIC_NSEC_SWAPPED = 0x4d3cb2a1;
/** Kuznetzov's patched format: 24-byte record headers with ifindex, protocol, pkt_type. */
const MAGIC_KUZNETZOV = 0xa1b2cd34;
const MAGIC_KUZNETZOV_SWAPPED = 0x34cdb2a1;
const KUZ = { IFINDEX: 16, PKT_TYPE: 22, REC_LEN: 24 } as const;

/** pcapng block framing and the blocks netmon reads. */
const NG = {
  TYPE: 0,
  TOTAL_LEN: 4,
  BODY: 8,
  /** Type + length at the start, length again at the end. */
  OVERHEAD: 12,
  MIN_BLOCK: 12,
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  EPB: 0x00000006,
  BYTE_ORDER_MAGIC: 0x1a2b3c4d,
  // SHB body: byte-order magic (4), version (2+2), section length (8), options
  SHB_BOM: 8,
  SHB_MAJOR: 12,
  SHB_OPTIONS: 24,
  // IDB body: link type (2), reserved (2), snaplen (4), options
  IDB_LINKTYPE: 8,
  IDB_SNAPLEN: 12,
  IDB_OPTIONS: 16,
  // EPB: interface (4), ts high (4), ts low (4), captured (4), original (4), data, options
  EPB_IFACE: 8,
  EPB_TS_HIGH: 12,
  EPB_TS_LOW: 16,
  EPB_CAPLEN: 20,
  EPB_WIRELEN: 24,
  EPB_DATA: 28,
  // Obsolete PB: interface (2), drops (2), ts high, ts low, captured, original, data, options
  PB_IFACE: 8,
  // SPB: original length (4), data
  SPB_WIRELEN: 8,
  SPB_DATA: 12,
  // options
  OPT_END: 0,
  OPT_IF_NAME: 2,
  OPT_IF_TSRESOL: 9,
  OPT_IF_TSOFFSET: 14,
  OPT_EPB_FLAGS: 2,
} as const;

/** EPB flags bits 0-1: direction; bits 2-4: reception type. */
const EPB_DIR_INBOUND = 1;
const EPB_DIR_OUTBOUND = 2;
/** PACKET_* values for FrameMeta.pktType. */
const PACKET_HOST = 0;
const PACKET_BROADCAST = 1;
const PACKET_MULTICAST = 2;
const PACKET_OTHERHOST = 3;
const PACKET_OUTGOING = 4;

const SUPPORTED_LINKTYPES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_ETHERNET, "Ethernet"],
  [LINKTYPE_LINUX_SLL, "Linux SLL"],
  [LINKTYPE_LINUX_SLL2, "Linux SLL2"],
]);

/** A few well-known link types, to name them in the error message. */
const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, "NULL (BSD loopback)"],
  [6, "IEEE 802.5 Token Ring"],
  [9, "PPP"],
  [101, "RAW (IP)"],
  [105, "IEEE 802.11"],
  [108, "LOOP (OpenBSD loopback)"],
  [127, "IEEE 802.11 radiotap"],
  [147, "USER0"],
  [195, "IEEE 802.15.4"],
  [220, "USB Linux mmapped"],
  [228, "IPv4"],
  [229, "IPv6"],
  [249, "Netlink"],
]);

function checkLinkType(path: string, lt: number): void {
  if (SUPPORTED_LINKTYPES.has(lt)) return;
  const name = LINKTYPE_NAMES.get(lt);
  throw new UsageError(
    `${path}: unsupported link type ${lt}${name ? ` (${name})` : ""}; ` +
      "netmon reads Ethernet (1), Linux SLL (113) and Linux SLL2 (276)",
  );
}

/** One pcapng interface (IDB) as far as the reader needs it. */
interface Iface {
  linkType: number;
  snaplen: number;
  name: string;
  ticks: Ticks;
  /** if_tsoffset: seconds added to every timestamp (as a double, and exact). */
  offset: number;
  offsetBig: bigint;
  /** The offset fits a double exactly. */
  offsetExact: boolean;
}

/** Each block type's name and smallest possible total length (fixed fields + framing). */
const BLOCK_MIN: ReadonlyMap<number, [string, number]> = new Map([
  [NG.SHB, ["section header block", NG.SHB_OPTIONS + 4]],
  [NG.IDB, ["interface description block", NG.IDB_OPTIONS + 4]],
  [NG.EPB, ["enhanced packet block", NG.EPB_DATA + 4]],
  [NG.PB, ["packet block", NG.EPB_DATA + 4]],
  [NG.SPB, ["simple packet block", NG.SPB_DATA + 4]],
]);

/** What the reader needs of a file (a Deno.FsFile, or Deno.stdin for "-"). */
type Input = Pick<Deno.FsFile, "read" | "readSync" | "close">;

/**
 * Opens a capture file ("-" reads standard input); rejects with a one-line UsageError
 * when it cannot be read. A FIFO or stdin is decoded as the bytes arrive.
 */
export async function openCaptureFile(path: string): Promise<PacketSource> {
  let file: Input;
  let regular = false;
  try {
    if (path === "-") {
      file = Deno.stdin;
      path = "stdin";
    } else {
      const f = await Deno.open(path, { read: true });
      file = f;
      regular = (await f.stat()).isFile;
    }
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new UsageError(`cannot open capture file '${path}': ${why}`);
  }
  const src = new FileSource(path, file, regular);
  try {
    await src.readHeader();
  } catch (e) {
    src.close();
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `cannot read capture file '${path}': ${e instanceof Error ? e.message : e}`,
    );
  }
  return src;
}

class FileSource implements PacketSource {
  readonly #path: string;
  readonly #file: Input;
  #closed = false;
  /** A regular file (read synchronously, in large chunks), not a FIFO, stdin or a device. */
  readonly #regular: boolean;
  #buf = new Uint8Array(CHUNK);
  #view = new DataView(this.#buf.buffer);
  /** Valid bytes in the buffer are [#pos, #end). */
  #pos = 0;
  #end = 0;
  #eof = false;
  /** Bytes of the file before #buf[0] (for error messages). */
  #base = 0;
  /** Records delivered so far (frames), for error messages. */
  #records = 0;
  readonly #meta: FrameMeta = newFrameMeta();

  // format state
  #ng = false;
  #le = true;
  // classic pcap
  #nsecs = false;
  #recLen: number = PCAP.REC_LEN;
  #kuznetzov = false;
  #snaplen = 0;
  // pcapng
  #ifaces: Iface[] = [];

  linkType = LINKTYPE_ETHERNET;

  constructor(path: string, file: Input, regular: boolean) {
    this.#path = path;
    this.#file = file;
    this.#regular = regular;
  }

  stats(): SourceStats | null {
    return null;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }

  /** Moves unconsumed bytes to the front and reads until at least `need` bytes are buffered or EOF. */
  async #fill(need: number): Promise<void> {
    if (this.#pos > 0) {
      this.#buf.copyWithin(0, this.#pos, this.#end);
      this.#base += this.#pos;
      this.#end -= this.#pos;
      this.#pos = 0;
    }
    if (need > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#end));
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    // Fill the whole buffer (large chunks), or until EOF.
    while (!this.#eof && this.#end < this.#buf.length) {
      // Regular files are read synchronously: faster than a trip through the event loop,
      // and ready() between chunks still lets timers and the shipper run. A FIFO or a
      // device may block, so those are read asynchronously (signals stay responsive).
      const into = this.#buf.subarray(this.#end);
      const n = this.#regular ? this.#file.readSync(into) : await this.#file.read(into);
      if (n === null) this.#eof = true;
      else this.#end += n;
      // A FIFO or stdin: decode what arrived as soon as the next record is complete,
      // instead of waiting for half a buffer (2 MiB) that may come much later.
      if (this.#end >= need && (!this.#regular || this.#end >= this.#buf.length / 2)) break;
    }
  }

  async readHeader(): Promise<void> {
    await this.#fill(PCAP.HEADER_LEN);
    const v = this.#view;
    if (this.#end < 4) throw this.#notCapture();
    const magic = v.getUint32(0, false);
    if (magic === NG.SHB) {
      this.#ng = true;
      // Read the SHB and the IDBs that precede the first packet, so the link type is known.
      while (true) {
        const r = this.#blockAt(this.#pos);
        if (r <= 0) {
          if (this.#eof) break; // run() reports a block cut off
          await this.#fill(this.#needAt(this.#pos));
          continue;
        }
        const type = this.#view.getUint32(this.#pos, this.#le);
        if (this.#base + this.#pos === 0 && type !== NG.SHB) throw this.#notCapture();
        if (type !== NG.SHB && type !== NG.IDB) break;
        this.#meta_block(type, this.#pos, r);
        this.#pos += r;
      }
      if (this.#ifaces.length > 0) this.linkType = this.#ifaces[0].linkType;
      return;
    }
    let le: boolean;
    switch (magic) {
      case MAGIC_USEC:
      case MAGIC_NSEC:
      case MAGIC_KUZNETZOV:
        le = false;
        break;
      case MAGIC_USEC_SWAPPED:
      case MAGIC_NSEC_SWAPPED:
      case MAGIC_KUZNETZOV_SWAPPED:
        le = true;
        break;
      default:
        throw this.#notCapture();
    }
    if (this.#end < PCAP.HEADER_LEN) {
      throw new UsageError(`${this.#path}: pcap file header cut off (${this.#end} of 24 bytes)`);
    }
    this.#le = le;
    const m = v.getUint32(0, le);
    this.#nsecs = m === MAGIC_NSEC;
    this.#kuznetzov = m === MAGIC_KUZNETZOV;
    this.#recLen = this.#kuznetzov ? KUZ.REC_LEN : PCAP.REC_LEN;
    this.#snaplen = v.getUint32(PCAP.SNAPLEN, le);
    // Bits 0-15: link type; 26-31 carry FCS information; 16-25 must be zero.
    const lt = v.getUint32(PCAP.LINKTYPE, le) & 0x03ffffff;
    checkLinkType(this.#path, lt);
    this.linkType = lt;
    this.#meta.linkType = lt;
    this.#pos = PCAP.HEADER_LEN;
  }

  #notCapture(): UsageError {
    return new UsageError(`${this.#path}: not a pcap or pcapng capture file`);
  }

  /**
   * Length of the pcapng block at `p` when it is complete in the buffer, 0 when more
   * bytes are needed, and throws when its length field is impossible.
   */
  #blockAt(p: number): number {
    if (this.#end - p < NG.MIN_BLOCK) return this.#end === p ? -1 : 0;
    const v = this.#view;
    if (v.getUint32(p, false) === NG.SHB) {
      // A new section: its byte order magic decides how to read everything after it.
      const bom = v.getUint32(p + NG.SHB_BOM, true);
      if (bom === NG.BYTE_ORDER_MAGIC) this.#le = true;
      else if (bom === 0x4d3c2b1a) this.#le = false;
      else throw this.#notCapture();
    }
    const len = v.getUint32(p + NG.TOTAL_LEN, this.#le);
    if (len < NG.MIN_BLOCK || len % 4 !== 0 || len > MAX_RECORD) {
      throw new RuntimeFailure(
        `${this.#path}: corrupt pcapng block at byte ${this.#base + p} (length ${len})`,
      );
    }
    if (this.#end - p < len) return 0;
    return len;
  }

  /** Bytes the incomplete block at `p` needs (its total length once the header is in). */
  #needAt(p: number): number {
    if (this.#end - p < NG.MIN_BLOCK) return NG.MIN_BLOCK;
    return this.#view.getUint32(p + NG.TOTAL_LEN, this.#le);
  }

  /** Handles SHB and IDB blocks (section and interface state). */
  #meta_block(type: number, p: number, len: number): void {
    const v = this.#view;
    const le = this.#le;
    if (type === NG.SHB) {
      const major = v.getUint16(p + NG.SHB_MAJOR, le);
      if (major !== 1) {
        throw new UsageError(`${this.#path}: unsupported pcapng version ${major}`);
      }
      this.#ifaces = [];
      return;
    }
    // IDB
    if (len < NG.IDB_OPTIONS + 4) {
      throw new RuntimeFailure(`${this.#path}: corrupt interface block at byte ${this.#base + p}`);
    }
    const lt = v.getUint16(p + NG.IDB_LINKTYPE, le);
    checkLinkType(this.#path, lt);
    const iface: Iface = {
      linkType: lt,
      snaplen: v.getUint32(p + NG.IDB_SNAPLEN, le),
      name: "",
      ticks: { perSec: 1_000_000, pow10: 6 },
      offset: 0,
      offsetBig: 0n,
      offsetExact: true,
    };
    const end = p + len - 4;
    let o = p + NG.IDB_OPTIONS;
    while (o + 4 <= end) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      const val = o + 4;
      if (code === NG.OPT_END || val + olen > end) break;
      if (code === NG.OPT_IF_NAME) {
        let n = olen;
        while (n > 0 && this.#buf[val + n - 1] === 0) n--;
        iface.name = new TextDecoder().decode(this.#buf.subarray(val, val + n));
      } else if (code === NG.OPT_IF_TSRESOL && olen >= 1) {
        const r = this.#buf[val];
        const exp = r & 0x7f;
        if (r & 0x80) iface.ticks = { perSec: 2 ** exp, pow10: -1 };
        else iface.ticks = { perSec: 10 ** exp, pow10: exp };
      } else if (code === NG.OPT_IF_TSOFFSET && olen >= 8) {
        iface.offsetBig = v.getBigInt64(val, le);
        iface.offset = Number(iface.offsetBig);
        iface.offsetExact = Number.isSafeInteger(iface.offset);
      }
      o = val + ((olen + 3) & ~3);
    }
    this.#ifaces.push(iface);
  }

  async run(sink: FrameSink, ctl: SourceControl): Promise<void> {
    const signal = ctl.signal;
    // A plain flag instead of reading `signal.aborted` per frame (a branded getter that
    // showed up in profiles); abort() dispatches the event synchronously, so the flag
    // is set before the sink returns.
    const stop = { aborted: signal.aborted };
    const onAbort = () => {
      stop.aborted = true;
    };
    signal.addEventListener("abort", onAbort);
    try {
      while (!stop.aborted) {
        const need = this.#ng ? this.#parseNg(sink, stop) : this.#parsePcap(sink, stop);
        if (stop.aborted) return;
        if (need === 0) return; // clean end of file
        if (need === TURN) {
          await ctl.ready();
          continue;
        }
        if (this.#eof) {
          const have = this.#end - this.#pos;
          throw new RuntimeFailure(
            `${this.#path}: file cut off in the middle of record ${this.#records + 1} ` +
              `(${have} of ${need} bytes at byte ${this.#base + this.#pos})`,
          );
        }
        await ctl.ready();
        if (stop.aborted) return;
        await this.#fill(need);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Delivers every complete classic pcap record in the buffer. Returns 0 at the end of
   * the file, TURN after FRAMES_PER_TURN frames (time for a ready() check), else the
   * number of bytes the next (incomplete) record needs.
   */
  #parsePcap(sink: FrameSink, signal: { aborted: boolean }): number {
    const buf = this.#buf;
    const v = this.#view;
    const le = this.#le;
    const meta = this.#meta;
    const end = this.#end;
    const recLen = this.#recLen;
    const fracMul = this.#nsecs ? 1 : 1000;
    const fracMax = this.#nsecs ? 1_000_000_000 : 1_000_000;
    const kuz = this.#kuznetzov;
    let p = this.#pos;
    let budget = FRAMES_PER_TURN;
    try {
      while (true) {
        if (budget-- === 0) return TURN;
        if (end - p < recLen) {
          this.#pos = p;
          return end === p ? (this.#eof ? 0 : recLen) : recLen;
        }
        const capLen = v.getUint32(p + PCAP.REC_CAPLEN, le);
        if (capLen > MAX_RECORD) {
          throw new RuntimeFailure(
            `${this.#path}: corrupt record ${this.#records + 1} at byte ${this.#base + p} ` +
              `(captured length ${capLen})`,
          );
        }
        const total = recLen + capLen;
        if (end - p < total) {
          this.#pos = p;
          return total;
        }
        let sec = v.getUint32(p + PCAP.REC_TS_SEC, le);
        let frac = v.getUint32(p + PCAP.REC_TS_FRAC, le);
        if (frac >= fracMax) {
          sec += Math.floor(frac / fracMax);
          frac %= fracMax;
        }
        meta.sec = sec;
        meta.nsec = frac * fracMul;
        meta.capLen = capLen;
        meta.wireLen = v.getUint32(p + PCAP.REC_WIRELEN, le);
        if (kuz) {
          meta.ifIndex = v.getInt32(p + KUZ.IFINDEX, le);
          const t = buf[p + KUZ.PKT_TYPE];
          meta.pktType = t <= PACKET_OUTGOING ? t : -1;
        }
        this.#records++;
        sink(v, buf, p + recLen, meta);
        p += total;
        if (signal.aborted) {
          this.#pos = p;
          return 0;
        }
      }
    } finally {
      this.#pos = p;
    }
  }

  /** pcapng counterpart of {@link #parsePcap}. */
  #parseNg(sink: FrameSink, signal: { aborted: boolean }): number {
    const buf = this.#buf;
    const v = this.#view;
    const meta = this.#meta;
    let p = this.#pos;
    let budget = FRAMES_PER_TURN;
    try {
      while (true) {
        if (budget === 0) return TURN;
        const len = this.#blockAt(p);
        if (len < 0) return this.#eof ? 0 : NG.MIN_BLOCK;
        if (len === 0) return this.#needAt(p);
        const le = this.#le;
        const type = v.getUint32(p, le);
        this.#checkBlockLength(type, p, len);
        let dataOff = -1;
        if (type === NG.EPB || type === NG.PB) {
          const ifId = type === NG.EPB
            ? v.getUint32(p + NG.EPB_IFACE, le)
            : v.getUint16(p + NG.PB_IFACE, le);
          const iface = this.#iface(ifId, p);
          const capLen = v.getUint32(p + NG.EPB_CAPLEN, le);
          if (NG.EPB_DATA + capLen + 4 > len) {
            throw new RuntimeFailure(
              `${this.#path}: corrupt packet block at byte ${this.#base + p} ` +
                `(captured length ${capLen} in a ${len}-byte block)`,
            );
          }
          this.#timestamp(
            iface,
            v.getUint32(p + NG.EPB_TS_HIGH, le),
            v.getUint32(p + NG.EPB_TS_LOW, le),
          );
          meta.capLen = capLen;
          meta.wireLen = v.getUint32(p + NG.EPB_WIRELEN, le);
          meta.ifIndex = ifId;
          meta.ifName = iface.name;
          meta.linkType = iface.linkType;
          const optOff = p + NG.EPB_DATA + ((capLen + 3) & ~3);
          meta.pktType = type === NG.EPB && optOff + 4 < p + len - 4
            ? this.#epbPacketType(optOff, p + len - 4)
            : -1;
          dataOff = p + NG.EPB_DATA;
        } else if (type === NG.SPB) {
          const iface = this.#iface(0, p);
          const wireLen = v.getUint32(p + NG.SPB_WIRELEN, le);
          let capLen = Math.min(wireLen, len - NG.SPB_DATA - 4);
          if (iface.snaplen > 0 && capLen > iface.snaplen) capLen = iface.snaplen;
          meta.sec = 0;
          meta.nsec = 0;
          meta.capLen = capLen;
          meta.wireLen = wireLen;
          meta.ifIndex = 0;
          meta.ifName = iface.name;
          meta.linkType = iface.linkType;
          meta.pktType = -1;
          dataOff = p + NG.SPB_DATA;
        } else if (type === NG.SHB || type === NG.IDB) {
          this.#meta_block(type, p, len);
        }
        // every other block type (NRB, ISB, DSB, custom...) is skipped
        p += len;
        if (dataOff >= 0) {
          budget--;
          this.#records++;
          sink(v, buf, dataOff, meta);
          if (signal.aborted) return 0;
        }
      }
    } finally {
      this.#pos = p;
    }
  }

  /** A block too short for its own fixed fields is corrupt (say so, never read past it). */
  #checkBlockLength(type: number, p: number, len: number): void {
    const min = BLOCK_MIN.get(type);
    if (min === undefined || len >= min[1]) return;
    throw new RuntimeFailure(
      `${this.#path}: corrupt pcapng file: ${min[0]} at byte ${this.#base + p} is too short ` +
        `(${len} bytes; at least ${min[1]})`,
    );
  }

  #iface(id: number, p: number): Iface {
    const iface = this.#ifaces[id];
    if (iface === undefined) {
      throw new RuntimeFailure(
        `${this.#path}: packet block at byte ${this.#base + p} names interface ${id}, ` +
          `but the section has ${this.#ifaces.length}`,
      );
    }
    return iface;
  }

  /** Converts a pcapng 64-bit tick count into exact seconds + nanoseconds. */
  #timestamp(iface: Iface, hi: number, lo: number): void {
    const meta = this.#meta;
    const t = iface.ticks;
    meta.secText = "";
    if (t.perSec === 1_000_000 && hi < 0x200000 && iface.offsetExact) {
      // Common case (microseconds, < 2^53 ticks): exact in doubles.
      const ticks = hi * 4294967296 + lo;
      let sec = Math.floor(ticks / 1_000_000);
      let rem = ticks - sec * 1_000_000;
      if (rem < 0) {
        sec--;
        rem += 1_000_000;
      } else if (rem >= 1_000_000) {
        sec++;
        rem -= 1_000_000;
      }
      meta.sec = sec + iface.offset;
      meta.nsec = rem * 1000;
      if (Number.isSafeInteger(meta.sec)) return;
    }
    const r = splitTimestamp(hi, lo, t);
    meta.nsec = nsecFraction(r.rem, t);
    const sec = r.sec + iface.offset;
    if (Number.isSafeInteger(r.sec) && Number.isSafeInteger(sec) && iface.offsetExact) {
      meta.sec = sec;
      return;
    }
    // Beyond 2^53 seconds a double is not exact: count them in BigInt, print them as text.
    const big = ((BigInt(hi) << 32n) | BigInt(lo)) / BigInt(t.perSec) + iface.offsetBig;
    meta.sec = Number(big);
    meta.secText = big.toString();
  }

  /**
   * PACKET_* type from the epb_flags option, -1 when absent or direction unknown.
   * Outbound is "outgoing"; inbound uses the reception type (broadcast, multicast,
   * promiscuous = "otherhost"), and "host" when the reception type is unicast or
   * not given.
   */
  #epbPacketType(o: number, end: number): number {
    const v = this.#view;
    const le = this.#le;
    while (o + 4 <= end) {
      const code = v.getUint16(o, le);
      const olen = v.getUint16(o + 2, le);
      if (code === NG.OPT_END || o + 4 + olen > end) return -1;
      if (code === NG.OPT_EPB_FLAGS && olen >= 4) {
        const flags = v.getUint32(o + 4, le);
        const dir = flags & 3;
        if (dir === EPB_DIR_OUTBOUND) return PACKET_OUTGOING;
        if (dir !== EPB_DIR_INBOUND) return -1;
        switch ((flags >>> 2) & 7) {
          case 2:
            return PACKET_MULTICAST;
          case 3:
            return PACKET_BROADCAST;
          case 4:
            return PACKET_OTHERHOST;
          default:
            return PACKET_HOST;
        }
      }
      o += 4 + ((olen + 3) & ~3);
    }
    return -1;
  }
}
