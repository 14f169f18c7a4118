/**
 * Bidirectional flow table (Zeek conn.log in spirit).
 *
 * Lookup is a symmetric hash of the two endpoints into a Map of chained entries;
 * comparing a known flow reads addresses straight from the frame bytes, so a
 * packet of a known flow allocates nothing. Flows sit on intrusive LRU lists (one
 * per idle timeout class, ordered by last packet) and on an "active" list ordered
 * by the start of their current reporting interval, so expiry and eviction look
 * only at list heads.
 */
import type { Frame } from "../decode/frame.ts";
import type { PacketRecord } from "../decode/record.ts";
import type { FrameMeta } from "../decode/meta.ts";
import { ipv4, ipv6 } from "../decode/format.ts";
import { timestampText } from "../decode/mod.ts";
import type { FlowAnnotator, FlowNote } from "./annotate.ts";
import {
  communityIdAt,
  icmpCounterpart,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "./community_id.ts";

/** TCP flag bits as in FrameSummary.tcpFlags. */
const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

/** Seconds a TCP flow lingers after FIN from both sides or a RST (Zeek's tcp_close_delay). */
export const TCP_CLOSE_DELAY_S = 5;

export type EndReason = "fin" | "rst" | "idle_timeout" | "active_timeout" | "shutdown" | "evicted";

export interface FlowOptions {
  tcpIdleTimeout: number;
  udpIdleTimeout: number;
  icmpIdleTimeout: number;
  activeTimeout: number;
  maxFlows: number;
  communityId: boolean;
}

/** List indices. */
const L_TCP = 0, L_UDP = 1, L_OTHER = 2, L_CLOSING = 3, N_LISTS = 4;

// History bits: one per (event, direction); letters as in Zeek's conn.log history.
const H_SYN = 0, H_SYNACK = 1, H_ACK = 2, H_DATA = 3, H_FIN = 4, H_RST = 5;
const HIST_LETTERS = "SHADFR";

class Flow {
  // key
  ver = 4;
  proto = 0;
  vlan = -1;
  /** ICMP echo identifier (part of the key for echo), else -1. */
  icmpId = -1;
  /** Slot in the address slab: originator address at slot*32, responder at slot*32+16. */
  slot = 0;
  aPort = 0;
  bPort = 0;
  hash = 0;
  nextInBucket: Flow | null = null;
  // lists
  list = L_OTHER;
  prev: Flow | null = null;
  next: Flow | null = null;
  aprev: Flow | null = null;
  anext: Flow | null = null;
  // identity
  id = "";
  communityId = "";
  ifName = "";
  // time
  firstSec = 0;
  firstNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  last = 0;
  intervalStart = 0;
  // counters: 0 originator -> responder, 1 responder -> originator
  pkts0 = 0;
  pkts1 = 0;
  ip0 = 0;
  ip1 = 0;
  pay0 = 0;
  pay1 = 0;
  wire0 = 0;
  wire1 = 0;
  // tcp
  flags = 0; // bit (event*2 + dir)
  history = "";
  flipped = false;
  closed = false;
  closeReason: EndReason = "fin";
  interims = 0;
  /** Fields another module adds to this flow's records (process attribution). */
  note: FlowNote | null = null;
}

export class FlowTable {
  readonly #opts: FlowOptions;
  readonly #emit: (rec: PacketRecord) => void;
  readonly #buckets = new Map<number, Flow>();
  readonly #heads: (Flow | null)[] = new Array(N_LISTS).fill(null);
  readonly #tails: (Flow | null)[] = new Array(N_LISTS).fill(null);
  #aHead: Flow | null = null;
  #aTail: Flow | null = null;
  #count = 0;
  /** Flow addresses live here (32 bytes a flow) so a new flow allocates no typed arrays. */
  #slab = new Uint8Array(32 * 1024);
  readonly #freeSlots: number[] = [];
  #nextSlot = 0;
  #seq = 0;
  readonly #runId = Date.now().toString(36);
  emitted = 0;
  evicted = 0;
  /** Frames that carried IP but could not be put in a flow (non-first fragments). */
  skipped = 0;

  readonly #annotator: FlowAnnotator | null;

  constructor(
    opts: FlowOptions,
    emit: (rec: PacketRecord) => void,
    annotator: FlowAnnotator | null = null,
  ) {
    this.#opts = opts;
    this.#emit = emit;
    this.#annotator = annotator;
  }

  get size(): number {
    return this.#count;
  }

  /** Sees one decoded frame. Returns the flow's Community ID when asked for, else "". */
  observe(f: Frame, meta: FrameMeta): string {
    const s = f.sum;
    if (s.ipVersion === 0) return "";
    if (s.fragment) {
      this.skipped++;
      return "";
    }
    const proto = s.ipProto;
    const bytes = f.bytes;
    const alen = s.ipVersion === 4 ? 4 : 16;
    let sport = s.srcPort, dport = s.dstPort, icmpId = -1;
    // A one-way ICMP message (Community ID's rule, Zeek's too) is never the reverse
    // direction of another: port unreachable (3/3) both ways makes two flows.
    let oneWay = false;
    if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
      if (s.icmpType < 0) return "";
      const other = icmpCounterpart(proto, s.icmpType);
      sport = s.icmpType;
      oneWay = other < 0;
      if (oneWay) dport = s.icmpCode;
      else {
        dport = other;
        icmpId = s.icmpId;
      }
    }
    const v = f.view;
    const h = endpointHash(v, s.srcAddrOff, alen, sport) ^
      endpointHash(v, s.dstAddrOff, alen, dport) ^
      Math.imul(proto + 1, 0x9e3779b1) ^ Math.imul(s.vlanId + 2, 0x85ebca6b) ^
      Math.imul(icmpId + 3, 0xc2b2ae35);
    const now = meta.sec + meta.nsec / 1e9;
    let flow = this.#buckets.get(h) ?? null;
    let dir = 0;
    const slab = this.#slab;
    for (; flow !== null; flow = flow.nextInBucket) {
      if (
        flow.proto !== proto || flow.vlan !== s.vlanId || flow.icmpId !== icmpId ||
        flow.ver !== s.ipVersion
      ) {
        continue;
      }
      if (
        flow.aPort === sport && flow.bPort === dport &&
        same(slab, flow.slot * 32, bytes, s.srcAddrOff, alen) &&
        same(slab, flow.slot * 32 + 16, bytes, s.dstAddrOff, alen)
      ) {
        dir = 0;
        break;
      }
      if (
        !oneWay && flow.aPort === dport && flow.bPort === sport &&
        same(slab, flow.slot * 32, bytes, s.dstAddrOff, alen) &&
        same(slab, flow.slot * 32 + 16, bytes, s.srcAddrOff, alen)
      ) {
        dir = 1;
        break;
      }
    }
    const tcpFlags = s.tcpFlags;
    if (flow !== null && flow.closed && proto === IPPROTO_TCP && (tcpFlags & (SYN | ACK)) === SYN) {
      // A new connection reuses the ports of one that just closed.
      this.#end(flow, flow.closeReason);
      flow = null;
    }
    if (flow === null) {
      if (this.#count >= this.#opts.maxFlows) this.#evictOne();
      flow = this.#create(
        h,
        bytes,
        s.srcAddrOff,
        s.dstAddrOff,
        alen,
        proto,
        sport,
        dport,
        icmpId,
        s.vlanId,
        meta,
      );
      dir = 0;
      // Whoever answers a SYN is the responder: a first packet that is a SYN-ACK came from it.
      if (proto === IPPROTO_TCP && (tcpFlags & (SYN | ACK)) === (SYN | ACK)) {
        this.#flip(flow);
        dir = 1;
      }
      if (this.#annotator !== null) flow.note = this.#annotator.open(f, dir === 0);
    }
    if (dir === 0) {
      flow.pkts0++;
      flow.ip0 += s.ipBytes;
      flow.pay0 += s.payloadBytes;
      flow.wire0 += meta.wireLen + s.heldWireBytes;
    } else {
      flow.pkts1++;
      flow.ip1 += s.ipBytes;
      flow.pay1 += s.payloadBytes;
      flow.wire1 += meta.wireLen + s.heldWireBytes;
    }
    flow.lastSec = meta.sec;
    flow.lastNsec = meta.nsec;
    flow.last = now;
    if (proto === IPPROTO_TCP) this.#tcp(flow, dir, tcpFlags, s.payloadBytes);
    else if (s.payloadBytes > 0 || proto !== IPPROTO_UDP) this.#mark(flow, H_DATA, dir);
    this.#touch(flow);
    return this.#opts.communityId ? flow.communityId : "";
  }

  /**
   * Ends flows idle past their timeout, and reports flows active past the active timeout.
   * Emits at most `max` records (so a burst cannot flood the stages behind); returns true
   * when more are due and the caller should call again soon.
   */
  expire(now: number, max = Infinity): boolean {
    const o = this.#opts;
    const limits = [o.tcpIdleTimeout, o.udpIdleTimeout, o.icmpIdleTimeout, TCP_CLOSE_DELAY_S];
    let budget = max;
    for (let l = 0; l < N_LISTS; l++) {
      let f = this.#heads[l];
      while (f !== null && now - f.last >= limits[l]) {
        if (budget-- <= 0) return true;
        const nx = f.next;
        this.#end(f, l === L_CLOSING ? f.closeReason : "idle_timeout");
        f = nx;
      }
    }
    // Flows whose reporting interval is over get an interim record and move to the tail.
    // A moved flow's interval starts now, so the loop ends at the first fresh one.
    let f = this.#aHead;
    while (f !== null && now - f.intervalStart >= o.activeTimeout) {
      if (budget-- <= 0) return true;
      f.interims++;
      this.#emitRecord(f, "active_timeout", true);
      f.intervalStart = now;
      this.#aUnlink(f);
      this.#aAppend(f);
      f = this.#aHead;
    }
    return false;
  }

  /** Emits up to `max` open flows (end of file, shutdown); returns how many are still open. */
  flush(max = Infinity): number {
    let budget = max;
    for (let l = 0; l < N_LISTS && budget > 0; l++) {
      let f = this.#heads[l];
      while (f !== null && budget-- > 0) {
        const nx = f.next;
        this.#end(f, l === L_CLOSING ? f.closeReason : "shutdown");
        f = nx;
      }
    }
    return this.#count;
  }

  /** Emits every open flow. */
  flushAll(): void {
    this.flush();
  }

  // --- internals -------------------------------------------------------------

  #create(
    h: number,
    bytes: Uint8Array,
    srcOff: number,
    dstOff: number,
    alen: number,
    proto: number,
    sport: number,
    dport: number,
    icmpId: number,
    vlan: number,
    meta: FrameMeta,
  ): Flow {
    const f = new Flow();
    f.ver = alen === 4 ? 4 : 6;
    f.proto = proto;
    f.vlan = vlan;
    f.icmpId = icmpId;
    f.slot = this.#allocSlot();
    const slab = this.#slab, base = f.slot * 32;
    for (let i = 0; i < alen; i++) {
      slab[base + i] = bytes[srcOff + i];
      slab[base + 16 + i] = bytes[dstOff + i];
    }
    f.aPort = sport;
    f.bPort = dport;
    f.hash = h;
    f.id = `F${this.#runId}-${(this.#seq++).toString(36)}`;
    f.ifName = meta.ifName;
    f.firstSec = meta.sec;
    f.firstNsec = meta.nsec;
    f.intervalStart = meta.sec + meta.nsec / 1e9;
    f.list = proto === IPPROTO_TCP ? L_TCP : proto === IPPROTO_UDP ? L_UDP : L_OTHER;
    this.#setCommunityId(f);
    f.nextInBucket = this.#buckets.get(h) ?? null;
    this.#buckets.set(h, f);
    this.#append(f);
    this.#aAppend(f);
    this.#count++;
    return f;
  }

  /** The key holds ICMP ports already mapped (type, counterpart or code); mapping them again is a no-op. */
  #setCommunityId(f: Flow): void {
    const base = f.slot * 32;
    const alen = f.ver === 4 ? 4 : 16;
    f.communityId = communityIdAt(
      this.#slab,
      base,
      this.#slab,
      base + 16,
      alen,
      f.proto,
      f.aPort,
      f.bPort,
    );
  }

  #allocSlot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.#nextSlot++;
    if ((slot + 1) * 32 > this.#slab.length) {
      const bigger = new Uint8Array(this.#slab.length * 2);
      bigger.set(this.#slab);
      this.#slab = bigger;
    }
    return slot;
  }

  /** Swaps originator and responder (the first packet came from the responder). */
  #flip(f: Flow): void {
    const slab = this.#slab, base = f.slot * 32;
    for (let i = 0; i < 16; i++) {
      const t = slab[base + i];
      slab[base + i] = slab[base + 16 + i];
      slab[base + 16 + i] = t;
    }
    const p = f.aPort;
    f.aPort = f.bPort;
    f.bPort = p;
    f.flipped = true;
    f.history += "^";
  }

  #mark(f: Flow, ev: number, dir: number): void {
    const bit = 1 << (ev * 2 + dir);
    if (f.flags & bit) return;
    f.flags |= bit;
    const c = HIST_LETTERS[ev];
    f.history += dir === 0 ? c : c.toLowerCase();
  }

  #has(f: Flow, ev: number, dir: number): boolean {
    return (f.flags & (1 << (ev * 2 + dir))) !== 0;
  }

  #tcp(f: Flow, dir: number, fl: number, payload: number): void {
    if (fl & SYN) this.#mark(f, fl & ACK ? H_SYNACK : H_SYN, dir);
    else if ((fl & (FIN | RST)) === 0 && payload === 0 && (fl & ACK)) this.#mark(f, H_ACK, dir);
    if (payload > 0) this.#mark(f, H_DATA, dir);
    if (fl & FIN) this.#mark(f, H_FIN, dir);
    if (fl & RST) this.#mark(f, H_RST, dir);
    if (!f.closed) {
      if (fl & RST) this.#close(f, "rst");
      else if (this.#has(f, H_FIN, 0) && this.#has(f, H_FIN, 1)) this.#close(f, "fin");
    }
  }

  #close(f: Flow, why: EndReason): void {
    f.closed = true;
    f.closeReason = why;
    this.#unlink(f);
    f.list = L_CLOSING;
    this.#append(f);
  }

  /** Zeek conn_state from what was seen. */
  state(f: Flow): string {
    if (f.proto !== IPPROTO_TCP) return f.pkts1 > 0 ? "SF" : "S0";
    const synO = this.#has(f, H_SYN, 0), synackR = this.#has(f, H_SYNACK, 1);
    const finO = this.#has(f, H_FIN, 0), finR = this.#has(f, H_FIN, 1);
    const rstO = this.#has(f, H_RST, 0), rstR = this.#has(f, H_RST, 1);
    if (synO && !synackR) {
      if (rstO) return "RSTOS0";
      if (rstR) return "REJ";
      if (finO) return "SH";
      return "S0";
    }
    if (!synO && synackR) {
      if (rstR) return "RSTRH";
      if (finR) return "SHR";
      return "OTH";
    }
    if (!synO && !synackR) return "OTH";
    if (rstO) return "RSTO";
    if (rstR) return "RSTR";
    if (finO && finR) return "SF";
    if (finO) return "S2";
    if (finR) return "S3";
    return "S1";
  }

  #end(f: Flow, why: EndReason): void {
    this.#emitRecord(f, why, false);
    this.#unlink(f);
    this.#aUnlink(f);
    // remove from its bucket chain
    let p = this.#buckets.get(f.hash) ?? null;
    if (p === f) {
      if (f.nextInBucket === null) this.#buckets.delete(f.hash);
      else this.#buckets.set(f.hash, f.nextInBucket);
    } else {
      while (p !== null && p.nextInBucket !== f) p = p.nextInBucket;
      if (p !== null) p.nextInBucket = f.nextInBucket;
    }
    f.nextInBucket = null;
    this.#freeSlots.push(f.slot);
    this.#count--;
  }

  /** At the flow cap: end the flow that has been idle longest. */
  #evictOne(): void {
    let best: Flow | null = null;
    for (let l = 0; l < N_LISTS; l++) {
      const h = this.#heads[l];
      if (h !== null && (best === null || h.last < best.last)) best = h;
    }
    if (best !== null) {
      this.evicted++;
      this.#end(best, "evicted");
    }
  }

  #emitRecord(f: Flow, why: EndReason, interim: boolean): void {
    const fmt = f.ver === 4 ? ipv4 : ipv6;
    const icmp = f.proto === IPPROTO_ICMP || f.proto === IPPROTO_ICMPV6;
    const dur = (f.lastSec - f.firstSec) + (f.lastNsec - f.firstNsec) / 1e9;
    const body: Record<string, unknown> = {
      Flow_ID: f.id,
      Community_ID: f.communityId,
      Interface_Name: f.ifName,
      IP_Version: f.ver,
      Protocol: protoName(f.proto),
      Protocol_Number: f.proto,
      VLAN_ID: f.vlan >= 0 ? f.vlan : null,
      Source_Address: fmt(this.#slab, f.slot * 32),
      Source_Port: icmp ? null : f.aPort,
      Destination_Address: fmt(this.#slab, f.slot * 32 + 16),
      Destination_Port: icmp ? null : f.bPort,
      Start: timestampText(f.firstSec, f.firstNsec),
      End: timestampText(f.lastSec, f.lastNsec),
      Duration: Math.round(dur * 1e6) / 1e6,
      Originator_Packets: f.pkts0,
      Originator_Bytes: f.ip0,
      Originator_Payload_Bytes: f.pay0,
      Originator_Wire_Bytes: f.wire0,
      Responder_Packets: f.pkts1,
      Responder_Bytes: f.ip1,
      Responder_Payload_Bytes: f.pay1,
      Responder_Wire_Bytes: f.wire1,
      State: this.state(f),
      History: f.history,
      End_Reason: why,
      Interim: interim,
    };
    if (icmp) {
      body.ICMP_Type = f.aPort;
      body.ICMP_Code_Or_Counterpart = f.bPort;
      if (f.icmpId >= 0) body.ICMP_ID = f.icmpId;
    }
    this.emitted++;
    const rec: PacketRecord = { Flow: body };
    if (f.note !== null) f.note.addTo(rec, !interim);
    this.#emit(rec);
  }

  // intrusive list helpers (idle lists)
  #append(f: Flow): void {
    const l = f.list;
    f.prev = this.#tails[l];
    f.next = null;
    if (f.prev !== null) f.prev.next = f;
    else this.#heads[l] = f;
    this.#tails[l] = f;
  }

  #unlink(f: Flow): void {
    const l = f.list;
    if (f.prev !== null) f.prev.next = f.next;
    else if (this.#heads[l] === f) this.#heads[l] = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else if (this.#tails[l] === f) this.#tails[l] = f.prev;
    f.prev = f.next = null;
  }

  /** Moves a flow to the tail of its idle list (it just saw a packet). */
  #touch(f: Flow): void {
    if (this.#tails[f.list] === f) return;
    this.#unlink(f);
    this.#append(f);
  }

  #aAppend(f: Flow): void {
    f.aprev = this.#aTail;
    f.anext = null;
    if (f.aprev !== null) f.aprev.anext = f;
    else this.#aHead = f;
    this.#aTail = f;
  }

  #aUnlink(f: Flow): void {
    if (f.aprev !== null) f.aprev.anext = f.anext;
    else if (this.#aHead === f) this.#aHead = f.anext;
    if (f.anext !== null) f.anext.aprev = f.aprev;
    else if (this.#aTail === f) this.#aTail = f.aprev;
    f.aprev = f.anext = null;
  }
}

/** Hash of one endpoint (address words and port), read through the frame's DataView. */
function endpointHash(v: DataView, off: number, len: number, port: number): number {
  let h = Math.imul(v.getUint32(off) ^ port, 0x9e3779b1);
  for (let i = 4; i < len; i += 4) {
    h = Math.imul((h << 13 | h >>> 19) ^ v.getUint32(off + i), 0x85ebca6b);
  }
  return h ^ (h >>> 15);
}

function same(a: Uint8Array, aOff: number, b: Uint8Array, off: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[off + i]) return false;
  return true;
}

/** Protocol name as flow records give it: TCP, UDP, ICMP, ICMPv6, else the number. */
export function protoName(p: number): string {
  switch (p) {
    case IPPROTO_TCP:
      return "TCP";
    case IPPROTO_UDP:
      return "UDP";
    case IPPROTO_ICMP:
      return "ICMP";
    case IPPROTO_ICMPV6:
      return "ICMPv6";
    default:
      return String(p);
  }
}
