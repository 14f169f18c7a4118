/**
 * IPv4 and IPv6 fragment reassembly, one {@link Reassembler} per decoder (so per
 * pipeline or worker: no state is shared between decoders).
 *
 * Like Wireshark and Zeek: each fragment whose bytes were all captured is held under
 * its datagram's key (IP version, VLAN, source, destination, identification; IPv4 also
 * the protocol); the frame that completes the datagram is decoded with the whole
 * datagram's upper layers and a `Reassembly` layer listing the fragments, earlier ones
 * show their IP layer, a `Fragment` note and their bytes as Payload.
 *
 * Bounded: the fragments held take at most `memoryBytes` (payload plus a fixed
 * overhead per fragment and per datagram; the oldest datagrams are dropped to make room,
 * counted as `evicted`), a datagram not completed within `timeoutS` seconds of packet
 * time after its first fragment is dropped (Linux's ipfrag_time is 30 s; `timedOut`),
 * and a datagram of more than `maxFragments` fragments is discarded (`discarded`).
 * Overlapping fragments are decode problems: IPv4 keeps the bytes that came first
 * (Wireshark's choice); IPv6 discards the whole datagram and every later fragment of it
 * until the timeout (RFC 5722).
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { LAYER } from "./record.ts";

export const LAYER_FRAGMENT = "Fragment";
export const LAYER_REASSEMBLY = "Reassembly";

export interface ReassemblyOptions {
  /** Bytes all held fragments may take (default 32 MiB). */
  memoryBytes: number;
  /** Seconds of packet time a datagram may wait for its missing fragments (default 30). */
  timeoutS: number;
  /** Fragments one datagram may have (default 512). */
  maxFragments: number;
}

export const DEFAULT_REASSEMBLY: Readonly<ReassemblyOptions> = {
  memoryBytes: 32 * 1024 * 1024,
  timeoutS: 30,
  maxFragments: 512,
};

/** Accounted bytes of one held fragment besides its payload, and of one datagram. */
export const FRAGMENT_OVERHEAD = 96;
export const DATAGRAM_OVERHEAD = 256;
/** Largest IP datagram payload a fragment offset can reach. */
const MAX_DATAGRAM = 65535;

export interface ReassemblyStats {
  /** Datagrams completed. */
  reassembled: number;
  /** Datagrams dropped at the memory cap. */
  evicted: number;
  /** Datagrams dropped at the timeout. */
  timedOut: number;
  /** Datagrams discarded: overlapping IPv6 fragments, too many fragments, too large. */
  discarded: number;
  /** Datagrams and fragments held now, and the bytes they take. */
  datagramsHeld: number;
  fragmentsHeld: number;
  bytesHeld: number;
}

interface Fragment {
  off: number;
  len: number;
  data: Uint8Array;
  /** Arrival order (the earlier bytes win where IPv4 fragments overlap). */
  seq: number;
  timestamp: string;
  wireLen: number;
}

interface Datagram {
  key: string;
  first: number;
  /** Sorted by offset. */
  frags: Fragment[];
  /** Payload length once the last fragment (MF clear) was seen, else -1. */
  total: number;
  bytes: number;
  /** RFC 5722: discarded; later fragments are swallowed until the timeout. */
  dead: boolean;
}

/** What became of a fragment handed to {@link Reassembler.add}. */
export type FragmentResult =
  /** Held (or swallowed): the frame shows its IP layer and a Fragment note. */
  | { kind: "held" }
  /** The datagram is complete: its payload and the fragments it was made of. */
  | { kind: "complete"; payload: Uint8Array; fragments: Layer[]; heldWireBytes: number }
  /** Not taken (too large): decode the frame on its own. */
  | { kind: "refused" };

const HELD: FragmentResult = { kind: "held" };
const REFUSED: FragmentResult = { kind: "refused" };

/** Text key of a datagram: version, VLAN, addresses, identification, IPv4 protocol. */
export function datagramKey(
  b: Uint8Array,
  version: number,
  vlan: number,
  srcOff: number,
  dstOff: number,
  id: number,
  proto: number,
): string {
  const n = version === 4 ? 4 : 16;
  const codes: number[] = [version, vlan + 1, proto + 1, id >>> 16, id & 0xffff];
  for (let i = 0; i < n; i++) codes.push(b[srcOff + i]);
  for (let i = 0; i < n; i++) codes.push(b[dstOff + i]);
  return String.fromCharCode.apply(null, codes);
}

export class Reassembler {
  readonly opts: ReassemblyOptions;
  readonly #table = new Map<string, Datagram>();
  #bytes = 0;
  #fragments = 0;
  #seq = 0;
  readonly #stats = { reassembled: 0, evicted: 0, timedOut: 0, discarded: 0 };

  constructor(opts: Partial<ReassemblyOptions> = {}) {
    this.opts = { ...DEFAULT_REASSEMBLY, ...opts };
  }

  stats(): ReassemblyStats {
    return {
      ...this.#stats,
      datagramsHeld: this.#table.size,
      fragmentsHeld: this.#fragments,
      bytesHeld: this.#bytes,
    };
  }

  /** Drops datagrams whose first fragment is older than the timeout at packet time `now`. */
  expire(now: number): void {
    const limit = now - this.opts.timeoutS;
    for (const d of this.#table.values()) {
      if (d.first > limit) break; // insertion order is first-seen order
      this.#drop(d);
      if (!d.dead) this.#stats.timedOut++;
    }
  }

  #drop(d: Datagram): void {
    this.#table.delete(d.key);
    this.#bytes -= d.bytes;
    this.#fragments -= d.frags.length;
  }

  #discard(d: Datagram, dead: boolean): void {
    this.#stats.discarded++;
    this.#bytes -= d.bytes - DATAGRAM_OVERHEAD;
    this.#fragments -= d.frags.length;
    d.frags = [];
    d.bytes = DATAGRAM_OVERHEAD;
    d.total = -1;
    if (dead) d.dead = true;
    else {
      this.#table.delete(d.key);
      this.#bytes -= DATAGRAM_OVERHEAD;
    }
  }

  /**
   * Adds the fragment at payload offset `fragOff` whose `len` bytes sit at `dataOff` in
   * the frame; `more` is the More Fragments flag. Problems are recorded on `f` as decode
   * errors of `layer`; `note` receives what the Fragment note shows.
   */
  add(
    f: Frame,
    layer: string,
    key: string,
    fragOff: number,
    dataOff: number,
    len: number,
    more: boolean,
    v6: boolean,
    note: Layer,
  ): FragmentResult {
    const now = f.time;
    this.expire(now);
    if (fragOff + len > MAX_DATAGRAM) {
      f.fault(layer, `fragment ends past ${MAX_DATAGRAM} bytes`, dataOff);
      return REFUSED;
    }
    let d = this.#table.get(key);
    if (d === undefined) {
      d = { key, first: now, frags: [], total: -1, bytes: DATAGRAM_OVERHEAD, dead: false };
      this.#table.set(key, d);
      this.#bytes += DATAGRAM_OVERHEAD;
    }
    if (d.dead) {
      f.fault(layer, "fragment of a datagram discarded for overlapping fragments", dataOff);
      note.Discarded = true;
      return HELD;
    }
    const end = fragOff + len;
    if (!more) {
      if (d.total >= 0 && d.total !== end) {
        f.fault(layer, `last fragment ends at ${end}, an earlier one at ${d.total}`, dataOff);
      } else d.total = end;
    }
    if (d.total >= 0 && end > d.total) {
      f.fault(layer, `fragment ends at ${end}, past the datagram's end ${d.total}`, dataOff);
      note.Fragments_Held = d.frags.length;
      return HELD;
    }
    // Overlaps with held fragments.
    const b = f.bytes;
    for (const o of d.frags) {
      const lo = Math.max(o.off, fragOff), hi = Math.min(o.off + o.len, end);
      if (lo >= hi) continue;
      if (v6) {
        f.fault(layer, "overlapping fragment: datagram discarded (RFC 5722)", dataOff);
        this.#discard(d, true);
        note.Discarded = true;
        return HELD;
      }
      let same = true;
      for (let i = lo; i < hi && same; i++) same = o.data[i - o.off] === b[dataOff + i - fragOff];
      f.fault(
        layer,
        same
          ? `fragment overlaps bytes ${lo}-${hi - 1} held already`
          : `fragment overlaps bytes ${lo}-${
            hi - 1
          } held already with different data (the held bytes are kept)`,
        dataOff,
      );
    }
    if (d.frags.length >= this.opts.maxFragments) {
      f.fault(layer, `more than ${this.opts.maxFragments} fragments: datagram discarded`, dataOff);
      this.#discard(d, false);
      note.Discarded = true;
      return HELD;
    }
    const cost = len + FRAGMENT_OVERHEAD;
    // Make room: the oldest other datagrams go first.
    if (this.#bytes + cost > this.opts.memoryBytes) {
      for (const o of this.#table.values()) {
        if (this.#bytes + cost <= this.opts.memoryBytes) break;
        if (o === d) continue;
        this.#drop(o);
        if (!o.dead) this.#stats.evicted++;
      }
    }
    if (this.#bytes + cost > this.opts.memoryBytes) {
      f.fault(layer, "datagram larger than the reassembly memory: discarded", dataOff);
      this.#stats.evicted++;
      this.#drop(d);
      note.Discarded = true;
      return HELD;
    }
    const rec = f.rec[LAYER.AF_PACKET] as Layer | undefined;
    const frag: Fragment = {
      off: fragOff,
      len,
      data: b.slice(dataOff, dataOff + len),
      seq: this.#seq++,
      timestamp: rec !== undefined ? String(rec.Timestamp) : "",
      wireLen: f.wireLen,
    };
    let i = d.frags.length;
    while (i > 0 && d.frags[i - 1].off > fragOff) i--;
    d.frags.splice(i, 0, frag);
    d.bytes += cost;
    this.#bytes += cost;
    this.#fragments++;
    note.Fragments_Held = d.frags.length;
    if (d.total < 0 || !covered(d.frags, d.total)) return HELD;
    // Complete: copy the fragments, latest arrival first, so the earliest bytes win.
    const payload = new Uint8Array(d.total);
    const byArrival = [...d.frags].sort((x, y) => y.seq - x.seq);
    for (const x of byArrival) payload.set(x.data, x.off);
    let heldWireBytes = 0;
    const fragments: Layer[] = d.frags.map((x) => {
      if (x !== frag) heldWireBytes += x.wireLen;
      return { Offset: x.off, Length: x.len, Timestamp: x.timestamp };
    });
    this.#drop(d);
    this.#stats.reassembled++;
    return { kind: "complete", payload, fragments, heldWireBytes };
  }
}

/** True when fragments sorted by offset cover 0..total without a gap. */
function covered(frags: Fragment[], total: number): boolean {
  let reach = 0;
  for (const x of frags) {
    if (x.off > reach) return false;
    if (x.off + x.len > reach) reach = x.off + x.len;
  }
  return reach >= total;
}

/**
 * Points the frame at a reassembled datagram: a copy of the completing fragment's
 * header bytes `off..hdrEnd` (so the flow summary's address offsets stay valid), then
 * the payload. Fault offsets inside count from the frame start as if the datagram had
 * come whole in this frame. Returns the length of the copied header (where the payload
 * starts in the new buffer).
 */
export function switchToDatagram(f: Frame, off: number, hdrEnd: number, payload: Uint8Array) {
  const hl = hdrEnd - off;
  const buf = new Uint8Array(hl + payload.length);
  buf.set(f.bytes.subarray(off, hdrEnd), 0);
  buf.set(payload, hl);
  const s = f.sum;
  s.srcAddrOff -= off;
  s.dstAddrOff -= off;
  s.ipBytes = buf.length;
  s.fragment = false;
  f.start -= off;
  f.setBuffer(new DataView(buf.buffer), buf);
  f.capEnd = buf.length;
  return hl;
}
