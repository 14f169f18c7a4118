/**
 * The process resolver: which process owns each end of the TCP and UDP connections a capture
 * sees. Self-contained and thread-agnostic: one is constructed where a flow tracker is, with
 * its own netlink sockets, timers and SYN tap, so each capture worker can own one.
 *
 * Per packet, {@link ProcessResolver.annotate} only looks the frame's connection up in a
 * hash table (no allocation for a known connection) and copies what is known. Each
 * connection is resolved once, off the per-packet path, in a batch that runs between
 * frame batches:
 *
 * 1. each end whose address is assigned in some network namespace (loopback: netmon's own)
 *    is local; the others are not looked at;
 * 2. the socket is taken from {@link SocketMemory} (filled by periodic inet_diag dumps of
 *    the namespaces traffic concerns), else asked of the kernel by exact tuple in that
 *    namespace (TCP finds the listener when no connection socket exists, UDP a
 *    wildcard-bound socket);
 * 3. its inode leads to a pid through {@link SocketOwners}; on a miss a targeted scan of
 *    /proc/<pid>/fd runs at once and a full scan at most every two seconds;
 * 4. a socket that has no inode any more (TIME_WAIT) is recognised by its cookie when it
 *    was seen alive within the grace window.
 *
 * What cannot be found stays unresolved (no guess) and is counted. A SYN tap on the captured
 * interface (tap.ts) starts step 1 for every new TCP connection as soon as its SYN is on the
 * wire, rather than when the capture ring hands the frame over (up to 20 ms later, when a
 * short connection may already be closed).
 *
 * @module
 */
import { cpuUsage } from "node:process";
import type { Frame } from "../decode/frame.ts";
import type { PacketRecord } from "../decode/record.ts";
import { ipv4, ipv6 } from "../decode/format.ts";
import type { FlowAnnotator, FlowNote } from "../flow/annotate.ts";
import { dumpSockets, IPPROTO, querySocket, TCP_LISTEN } from "../net/sock_diag.ts";
import type { Logger } from "../log/mod.ts";
import { Namespaces, type Netns } from "./netns.ts";
import { canReadOtherProcesses, SocketOwners } from "./owners.ts";
import { type KnownProcess, type ProcessInfo, readProcess } from "./procinfo.ts";
import { type SocketMemo, SocketMemory, tupleKey } from "./memory.ts";
import { SynTap } from "./tap.ts";
import { readStat } from "../proc/read.ts";

/** A record's `Process` / `Peer_Process` value: the process plus which end of the flow it is. */
export type RecordProcess = ProcessInfo & { Role: "originator" | "responder" };

export interface ResolverOptions {
  /** The captured interface, for the SYN tap (none: no tap). */
  tapInterface?: { name: string; index: number; loopback: boolean } | null;
  /** Seconds between namespace refreshes and socket dumps of small namespaces (default 10). */
  refreshSeconds?: number;
  /** Seconds between full descriptor scans on the timer (default 30; misses scan at once). */
  fullScanSeconds?: number;
  /** Seconds closed sockets are remembered (default 30). */
  graceSeconds?: number;
  /** Most connections tracked at once (default 200000). */
  maxConnections?: number;
  /** Root of the proc filesystem (tests). */
  procRoot?: string;
  log?: Logger;
}

/** Counters for the summary and the benchmark. */
export interface ResolverStats {
  connections: number;
  resolved: number;
  unresolved: number;
  notLocal: number;
  /** Flow records (final ones) with a Process, with a local end but none, with no local end. */
  flowsAttributed: number;
  flowsUnresolved: number;
  flowsNotLocal: number;
  queries: number;
  queryMs: number;
  dumps: number;
  dumpMs: number;
  fullScans: number;
  targetedScans: number;
  scanMs: number;
  tapSyns: number;
  tableFull: number;
  /** Milliseconds from a connection's first packet to its answer: p50, p95, max. */
  latencyMs: { p50: number; p95: number; max: number; n: number };
  /** Full descriptor scans per minute since the resolver started. */
  rescansPerMinute: number;
  /** CPU milliseconds the resolver's own work took (lookups, scans, dumps, timers, SYN tap). */
  cpuMs: number;
}

const TCP = IPPROTO.TCP, UDP = IPPROTO.UDP;
/** End states. */
const E_PENDING = 0, E_REMOTE = 1, E_LOCAL = 2;
/** How long a connection's ends are retried before they count as unresolved. */
const RESOLVE_DEADLINE_MS = 3000;
/** Connections not seen for this many ticks (seconds) are forgotten. */
const IDLE_TICKS = 120;
/** Latency samples kept (a reservoir, for the percentiles). */
const LATENCY_SAMPLES = 2048;
/** Namespaces with more sockets than this are dumped once, then only queried. */
const DUMP_AGAIN_MAX = 2000;
/** Least time between two namespace refreshes started by an unknown address. */
const NS_REFRESH_GAP_MS = 1000;

class End {
  state = E_PENDING;
  ns: Netns[] = [];
  memo: SocketMemo | null = null;
  /** Inode still waiting for a pid. */
  wanted = 0;
  proc: KnownProcess | null = null;
  final = false;
  /** Why it ended as it did (debug log). */
  why = "";
}

/** One connection (both directions), as the packets show it. */
export class Conn {
  ver = 4;
  proto = 0;
  aAddr: Uint8Array;
  bAddr: Uint8Array;
  aPort = 0;
  bPort = 0;
  hash = 0;
  next: Conn | null = null;
  seen = 0;
  created = 0;
  deadline = 0;
  /** True when the first frame's source is the originator (false: it was a SYN-ACK). */
  origIsA = true;
  a = new End();
  b = new End();
  done = false;
  queued = false;
  /** Record values (null until known). */
  process: RecordProcess | null = null;
  peer: RecordProcess | null = null;

  constructor(alen: number) {
    this.aAddr = new Uint8Array(alen);
    this.bAddr = new Uint8Array(alen);
  }

  /** The process at end A (the first frame's source) or B, once known. */
  procOf(end: 0 | 1): ProcessInfo | null {
    return (end === 0 ? this.a : this.b).proc?.info ?? null;
  }
  /** Whether end A or B is an address of this host (null: not known yet). */
  isLocal(end: 0 | 1): boolean | null {
    const s = (end === 0 ? this.a : this.b).state;
    return s === E_PENDING ? null : s === E_LOCAL;
  }
  address(end: 0 | 1): string {
    const b = end === 0 ? this.aAddr : this.bAddr;
    return b.length === 4 ? ipv4(b, 0) : ipv6(b, 0);
  }
  port(end: 0 | 1): number {
    return end === 0 ? this.aPort : this.bPort;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array, off: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[off + i]) return false;
  return true;
}

function endpointHash(v: DataView, off: number, len: number, port: number): number {
  let h = Math.imul(v.getUint32(off) ^ port, 0x9e3779b1);
  for (let i = 4; i < len; i += 4) {
    h = Math.imul((h << 13 | h >>> 19) ^ v.getUint32(off + i), 0x85ebca6b);
  }
  return h ^ (h >>> 15);
}

const SYN = 0x02, ACK = 0x10;
/** A SYN on a connection resolved longer ago than this starts a new connection (port reuse). */
const REUSE_MS = 5000;

/**
 * TCP and UDP sockets in `ns` by /proc/<pid>/net/sockstat{,6} (in use and TIME_WAIT), or
 * null when the namespace has no process to read them through.
 */
export function socketCount(ns: Netns): number | null {
  const m = /^(.*)\/ns\/net$/.exec(ns.path);
  if (m === null) return null;
  let n = 0;
  for (const f of ["sockstat", "sockstat6"]) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${m[1]}/net/${f}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      if (!/^(TCP6?|UDP6?):/.test(line)) continue;
      n += Number(/\binuse (\d+)/.exec(line)?.[1] ?? 0) + Number(/\btw (\d+)/.exec(line)?.[1] ?? 0);
    }
  }
  return n;
}

/** Why attribution is off, when it cannot run here. */
export function attributionUnavailable(procRoot = "/proc"): string | null {
  if (Deno.build.os !== "linux") return "process attribution needs Linux";
  if (!canReadOtherProcesses(procRoot)) {
    return "process attribution off: reading other processes' descriptors needs root " +
      "(or CAP_SYS_PTRACE)";
  }
  return null;
}

export class ProcessResolver implements FlowAnnotator {
  readonly #buckets = new Map<number, Conn>();
  #count = 0;
  readonly #maxConns: number;
  readonly #ns: Namespaces;
  readonly #owners: SocketOwners;
  readonly #memory: SocketMemory;
  readonly #procRoot: string;
  readonly #procs = new Map<number, KnownProcess>();
  readonly #roles = new WeakMap<KnownProcess, [RecordProcess, RecordProcess]>();
  #pending: Conn[] = [];
  /** Connections waiting for the next full scan. */
  #waiting: Conn[] = [];
  #waitTimer: ReturnType<typeof setTimeout> | null = null;
  #scheduled = false;
  #tick = 0;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #refreshMs: number;
  readonly #fullScanMs: number;
  /** Sockets each namespace had at its last dump (large ones are not dumped again). */
  readonly #dumped = new Map<Netns, number>();
  #tap: SynTap | null = null;
  readonly #log: Logger | undefined;
  readonly #started = performance.now();
  #lastNsRefresh = -Infinity;
  /** Namespaces whose sockets are dumped on the timer (those traffic has touched). */
  readonly #active = new Set<Netns>();
  readonly #latency: number[] = [];
  #latencySeen = 0;
  #maxLatency = 0;
  #closed = false;
  /** Direction of the last frame looked up: 0 its source is end A, 1 end B. */
  lastDir: 0 | 1 = 0;
  readonly counts = {
    resolved: 0,
    unresolved: 0,
    notLocal: 0,
    flowsAttributed: 0,
    flowsUnresolved: 0,
    flowsNotLocal: 0,
    queries: 0,
    queryMs: 0,
    dumps: 0,
    dumpMs: 0,
    tapSyns: 0,
    tableFull: 0,
  };

  constructor(opts: ResolverOptions = {}) {
    this.#procRoot = opts.procRoot ?? "/proc";
    this.#log = opts.log;
    this.#maxConns = opts.maxConnections ?? 200_000;
    this.#refreshMs = (opts.refreshSeconds ?? 10) * 1000;
    this.#fullScanMs = (opts.fullScanSeconds ?? 30) * 1000;
    this.#memory = new SocketMemory((opts.graceSeconds ?? 30) * 1000);
    this.#ns = new Namespaces(this.#procRoot);
    this.#owners = new SocketOwners(this.#procRoot);
    this.#active.add(this.#ns.own);
    // The first scans and dumps can take a while on a busy host: they run right after the
    // caller has finished setting up (signal handlers...), or at the first lookup.
    setTimeout(() => this.#init(), 0);
    // Timers never keep netmon alive on their own (close() clears them).
    this.#timers.push(setInterval(() => this.#onTimer(), 1000));
    for (const t of this.#timers) t.unref();
    this.#tapAt = opts.tapInterface ?? null;
  }

  readonly #tapAt: ResolverOptions["tapInterface"];

  /** Opens the SYN tap (last in #init: an open tap means the resolver is ready). */
  #openTap(): void {
    const tap = this.#tapAt;
    if (!tap) return;
    try {
      this.#tap = new SynTap(tap.name, tap.index, tap.loopback, (f) => this.#onSyn(f));
    } catch (e) {
      this.#log?.warn(
        `process attribution: no SYN tap on ${tap.name} (${
          e instanceof Error ? e.message : e
        }); short connections may stay unresolved`,
      );
    }
  }

  #initialized = false;

  /** Namespaces, their sockets, the first descriptor scan. */
  #init(): void {
    if (this.#initialized || this.#closed) return;
    this.#timed(() => this.#initNow());
  }

  #initNow(): void {
    this.#initialized = true;
    this.#ns.refresh();
    this.#lastNsRefresh = performance.now();
    // Sockets inside every namespace now, so the first connection of one does not wait.
    for (const ns of this.#ns.all()) this.#ns.diag(ns);
    this.#dumpActive();
    this.#owners.fullScan();
    this.#openTap();
  }

  #cpuMs = 0;
  #timing = false;

  /** Runs `fn`, adding the CPU time it took to the resolver's own (outermost call only). */
  #timed(fn: () => void): void {
    if (this.#timing) return fn();
    this.#timing = true;
    const c0 = cpuUsage();
    try {
      fn();
    } finally {
      const d = cpuUsage(c0);
      this.#cpuMs += (d.user + d.system) / 1000;
      this.#timing = false;
    }
  }

  /** Connections tracked now. */
  get size(): number {
    return this.#count;
  }

  // --- per packet ----------------------------------------------------------

  /**
   * The connection of frame `f` (created and queued for resolution when new), or null when
   * the frame is not TCP or UDP over IP. Sets {@link lastDir}.
   */
  connOf(f: Frame): Conn | null {
    const s = f.sum;
    const proto = s.ipProto;
    if (s.ipVersion === 0 || s.fragment || (proto !== TCP && proto !== UDP)) return null;
    const alen = s.ipVersion === 4 ? 4 : 16;
    const v = f.view, bytes = f.bytes;
    const sport = s.srcPort, dport = s.dstPort;
    const h = endpointHash(v, s.srcAddrOff, alen, sport) ^
      endpointHash(v, s.dstAddrOff, alen, dport) ^ Math.imul(proto + 1, 0x9e3779b1);
    for (let c = this.#buckets.get(h) ?? null; c !== null; c = c.next) {
      if (c.proto !== proto || c.aAddr.length !== alen) continue;
      let dir: 0 | 1;
      if (
        c.aPort === sport && c.bPort === dport && sameBytes(c.aAddr, bytes, s.srcAddrOff) &&
        sameBytes(c.bAddr, bytes, s.dstAddrOff)
      ) dir = 0;
      else if (
        c.aPort === dport && c.bPort === sport && sameBytes(c.aAddr, bytes, s.dstAddrOff) &&
        sameBytes(c.bAddr, bytes, s.srcAddrOff)
      ) dir = 1;
      else continue;
      c.seen = this.#tick;
      this.lastDir = dir;
      if (proto === TCP && c.done && (s.tcpFlags & (SYN | ACK)) === SYN) this.#reused(c, dir);
      return c;
    }
    if (this.#count >= this.#maxConns) {
      this.counts.tableFull++;
      return null;
    }
    const c = new Conn(alen);
    c.ver = s.ipVersion;
    c.proto = proto;
    c.aAddr.set(bytes.subarray(s.srcAddrOff, s.srcAddrOff + alen));
    c.bAddr.set(bytes.subarray(s.dstAddrOff, s.dstAddrOff + alen));
    c.aPort = sport;
    c.bPort = dport;
    c.hash = h;
    c.seen = this.#tick;
    c.created = performance.now();
    c.deadline = c.created + RESOLVE_DEADLINE_MS;
    // The tracker's rule: whoever answers a SYN is the responder.
    c.origIsA = !(proto === TCP && (s.tcpFlags & (SYN | ACK)) === (SYN | ACK));
    c.next = this.#buckets.get(h) ?? null;
    this.#buckets.set(h, c);
    this.#count++;
    this.lastDir = 0;
    this.#resolveSoon(c);
    return c;
  }

  /** A new connection on the ports of an old one: resolved again, its SYN's sender the originator. */
  #reused(c: Conn, dir: 0 | 1): void {
    const now = performance.now();
    if (now - c.created < REUSE_MS) return;
    c.a = new End();
    c.b = new End();
    c.created = now;
    c.deadline = now + RESOLVE_DEADLINE_MS;
    c.done = false;
    c.process = null;
    c.peer = null;
    c.origIsA = dir === 0;
    this.#resolveSoon(c);
  }

  /** Adds `Process` (and `Peer_Process`) to a packet record when its connection is known. */
  annotate(f: Frame, rec: PacketRecord): void {
    const c = this.connOf(f);
    if (c === null || c.process === null) return;
    rec.Process = c.process;
    if (c.peer !== null) rec.Peer_Process = c.peer;
  }

  // --- flow hook -----------------------------------------------------------

  open(f: Frame, srcIsOriginator: boolean): FlowNote | null {
    const c = this.connOf(f);
    if (c === null) return null;
    const origIsA = this.lastDir === 0 ? srcIsOriginator : !srcIsOriginator;
    if (c.origIsA !== origIsA) {
      c.origIsA = origIsA;
      if (c.done) this.#setRecordValues(c);
    }
    return new ConnNote(c, this);
  }

  /** Counts one flow record's attribution (called by the note of its final record). */
  countFlow(c: Conn): void {
    if (c.process !== null) this.counts.flowsAttributed++;
    else if (c.a.state === E_LOCAL || c.b.state === E_LOCAL) this.counts.flowsUnresolved++;
    else this.counts.flowsNotLocal++;
  }

  // --- resolution ----------------------------------------------------------

  #resolveSoon(c: Conn): void {
    if (c.queued || c.done) return;
    c.queued = true;
    this.#pending.push(c);
    if (!this.#scheduled && !this.#closed) {
      this.#scheduled = true;
      setTimeout(() => this.#work(), 0);
    }
  }

  /** Resolves what is pending now (also at shutdown, before the last flows are emitted). */
  settle(): void {
    for (const head of this.#buckets.values()) {
      for (let c: Conn | null = head; c !== null; c = c.next) {
        if (!c.done && !c.queued) {
          c.queued = true;
          this.#pending.push(c);
        }
      }
    }
    this.#work(true);
  }

  #work(final = false): void {
    this.#timed(() => this.#workNow(final));
  }

  #workNow(final: boolean): void {
    this.#scheduled = false;
    if (this.#closed) return;
    this.#init();
    const batch = this.#pending;
    this.#pending = [];
    for (const c of batch) c.queued = false;
    const start = performance.now();
    let open = batch.filter((c) => !this.#step(c));
    if (open.length > 0) {
      const wanted = this.#wanted(open);
      if (wanted.size > 0) {
        this.#owners.targetedScan(wanted);
        open = open.filter((c) => !this.#step(c));
        // A responder socket no likely process holds was closed after accept (or sits in a
        // forking server's child we have not seen): it came through the listening socket.
        for (const c of open) this.#toListener(c);
        open = open.filter((c) => !this.#step(c));
      }
    }
    if (open.length > 0 && this.#owners.exhaustiveAllowed()) {
      const wanted = this.#wanted(open);
      if (wanted.size > 0) {
        this.#owners.targetedScan(wanted, true);
        open = open.filter((c) => !this.#step(c));
      }
    }
    const now = performance.now();
    // Retried only while a full scan that could find the inode has yet to run.
    const scanned = this.#owners.lastExhaustive >= start;
    for (const c of open) {
      if (final || scanned || now >= c.deadline || this.#wanted([c]).size === 0) {
        this.#giveUp(c);
      } else this.#retryLater(c);
    }
  }

  /** Retries `c` once the next full scan is allowed (the wanted socket may be in any process). */
  #retryLater(c: Conn): void {
    if (c.queued) return;
    c.queued = true;
    this.#waiting.push(c);
    if (this.#waitTimer !== null) return;
    const t = setTimeout(() => {
      this.#waitTimer = null;
      const list = this.#waiting;
      this.#waiting = [];
      for (const w of list) {
        w.queued = false;
        this.#resolveSoon(w);
      }
    }, Math.max(10, this.#owners.nextExhaustiveIn()));
    t.unref();
    this.#waitTimer = t;
  }

  #wanted(conns: Conn[]): Set<number> {
    const w = new Set<number>();
    for (const c of conns) {
      if (!c.a.final && c.a.wanted !== 0) w.add(c.a.wanted);
      if (!c.b.final && c.b.wanted !== 0) w.add(c.b.wanted);
    }
    return w;
  }

  /** One attempt at both ends; true when the connection is finished. */
  #step(c: Conn): boolean {
    if (!c.a.final) this.#stepEnd(c, c.a, c.aAddr, c.aPort, c.bAddr, c.bPort);
    if (!c.b.final) this.#stepEnd(c, c.b, c.bAddr, c.bPort, c.aAddr, c.aPort);
    if (c.a.final && c.b.final) {
      this.#finish(c);
      return true;
    }
    return false;
  }

  #stepEnd(
    c: Conn,
    e: End,
    laddr: Uint8Array,
    lport: number,
    raddr: Uint8Array,
    rport: number,
  ): void {
    if (e.state === E_PENDING) {
      const text = laddr.length === 4 ? ipv4(laddr, 0) : ipv6(laddr, 0);
      let ns = this.#ns.forAddress(text);
      if (ns.length === 0 && performance.now() - this.#lastNsRefresh >= NS_REFRESH_GAP_MS) {
        // A namespace (container) may have appeared since the last refresh.
        this.#lastNsRefresh = performance.now();
        this.#ns.refresh();
        ns = this.#ns.forAddress(text);
      }
      if (ns.length === 0) {
        e.state = E_REMOTE;
        e.final = true;
        e.why = "not local";
        return;
      }
      e.state = E_LOCAL;
      e.ns = ns;
    }
    if (e.memo === null) {
      const ltext = laddr.length === 4 ? ipv4(laddr, 0) : ipv6(laddr, 0);
      const rtext = raddr.length === 4 ? ipv4(raddr, 0) : ipv6(raddr, 0);
      const orig = this.#isOrig(c, e);
      for (const ns of e.ns) {
        let m = this.#socket(ns, c.proto, laddr, lport, ltext, raddr, rport, rtext);
        // An originator is never a listening socket (that answer is about another use of
        // the port).
        if (m !== null && orig && m.state === TCP_LISTEN) m = null;
        if (m !== null && !orig && c.proto === TCP && m.inode === 0 && m.proc === null) {
          // The responder's own socket is held by no process: still in the accept queue,
          // or accepted and closed already. It arrived on the listening socket: that one's.
          m = this.#socket(ns, TCP, laddr, lport, ltext, new Uint8Array(laddr.length), 0, "") ?? m;
        }
        if (m !== null) {
          e.memo = m;
          break;
        }
      }
      if (e.memo === null) {
        e.final = true; // a local address without such a socket (closed and never seen)
        e.why = "no socket";
        return;
      }
    }
    const m = e.memo;
    if (m.proc !== null) {
      e.proc = m.proc;
      e.final = true;
      return;
    }
    if (m.inode === 0) {
      e.final = true; // TIME_WAIT or orphaned, and not seen alive before
      e.why = `no inode (state ${m.state})`;
      return;
    }
    const pid = this.#owners.pidOf(m.inode);
    if (pid === undefined) {
      e.wanted = m.inode;
      return;
    }
    const kp = this.#process(pid);
    e.wanted = 0;
    e.final = true;
    e.why = kp === null ? `pid ${pid} gone` : `pid ${pid} (state ${m.state})`;
    if (kp !== null) {
      m.proc = kp;
      e.proc = kp;
    }
  }

  /**
   * The socket for one end in `ns`: remembered, else asked of the kernel (and remembered
   * under the tuple asked). `rtext` "" asks for the listener (remote 0.0.0.0:0 / [::]:0).
   */
  #socket(
    ns: Netns,
    proto: number,
    laddr: Uint8Array,
    lport: number,
    ltext: string,
    raddr: Uint8Array,
    rport: number,
    rtext: string,
  ): SocketMemo | null {
    this.#active.add(ns);
    const key = tupleKey(ns.inode, proto, ltext, lport, rtext === "" ? "listen" : rtext, rport);
    const had = this.#memory.get(key);
    if (had !== undefined) return had;
    const t = this.#ns.diag(ns);
    if (t === null) return null;
    const t0 = performance.now();
    let s = null;
    try {
      s = querySocket(t, proto, laddr, lport, raddr, rport);
    } catch (err) {
      this.#log?.debug(`process attribution: socket query failed: ${err}`);
    }
    this.counts.queries++;
    this.counts.queryMs += performance.now() - t0;
    return s === null ? null : this.#memory.put(key, s, performance.now());
  }

  /** Falls back to the listening socket for a TCP responder end whose socket has no owner. */
  #toListener(c: Conn): void {
    if (c.proto !== TCP) return;
    const e = c.origIsA ? c.b : c.a;
    if (e.final || e.wanted === 0 || e.memo === null || e.memo.state === TCP_LISTEN) return;
    const laddr = e === c.a ? c.aAddr : c.bAddr;
    const lport = e === c.a ? c.aPort : c.bPort;
    const ltext = laddr.length === 4 ? ipv4(laddr, 0) : ipv6(laddr, 0);
    for (const ns of e.ns) {
      const m = this.#socket(ns, TCP, laddr, lport, ltext, new Uint8Array(laddr.length), 0, "");
      if (m !== null && m.state === TCP_LISTEN) {
        e.memo = m;
        e.wanted = 0;
        return;
      }
    }
  }

  #isOrig(c: Conn, e: End): boolean {
    return (e === c.a) === c.origIsA;
  }

  /** What is known of `pid` (read once; a reused pid is told apart by its start time). */
  #process(pid: number): KnownProcess | null {
    const had = this.#procs.get(pid);
    if (had !== undefined) {
      const st = readStat(pid, this.#procRoot);
      if (st === null || st.startTime === had.startTime) return had;
    }
    const kp = readProcess(pid, this.#procRoot);
    if (kp === null) return had ?? null;
    this.#procs.set(pid, kp);
    return kp;
  }

  #giveUp(c: Conn): void {
    for (const e of [c.a, c.b]) {
      if (!e.final) e.why = `inode ${e.wanted} not found in any process`;
      e.final = true;
    }
    this.#finish(c);
  }

  #finish(c: Conn): void {
    c.done = true;
    this.#setRecordValues(c);
    if (c.process !== null) this.counts.resolved++;
    else if (c.a.state === E_LOCAL || c.b.state === E_LOCAL) this.counts.unresolved++;
    else this.counts.notLocal++;
    const ms = performance.now() - c.created;
    if (this.#log !== undefined) {
      const end = (x: 0 | 1) => `${c.address(x)}:${c.port(x)} ${(x === 0 ? c.a : c.b).why}`;
      this.#log.debug(
        `process attribution: ${c.proto === TCP ? "tcp" : "udp"} ${end(0)} <-> ${end(1)} ` +
          `in ${ms.toFixed(2)} ms`,
      );
    }
    this.#maxLatency = Math.max(this.#maxLatency, ms);
    this.#latencySeen++;
    if (this.#latency.length < LATENCY_SAMPLES) this.#latency.push(ms);
    else {
      const j = Math.floor(Math.random() * this.#latencySeen);
      if (j < LATENCY_SAMPLES) this.#latency[j] = ms;
    }
  }

  #role(kp: KnownProcess, role: "originator" | "responder"): RecordProcess {
    let pair = this.#roles.get(kp);
    if (pair === undefined) {
      pair = [{ ...kp.info, Role: "originator" }, { ...kp.info, Role: "responder" }];
      this.#roles.set(kp, pair);
    }
    return role === "originator" ? pair[0] : pair[1];
  }

  #setRecordValues(c: Conn): void {
    const orig = c.origIsA ? c.a : c.b;
    const resp = c.origIsA ? c.b : c.a;
    c.process = null;
    c.peer = null;
    if (orig.proc !== null) {
      c.process = this.#role(orig.proc, "originator");
      if (resp.proc !== null) c.peer = this.#role(resp.proc, "responder");
    } else if (resp.proc !== null) c.process = this.#role(resp.proc, "responder");
  }

  // --- SYN tap and timers --------------------------------------------------

  #onSyn(f: Frame): void {
    this.#timed(() => this.#syn(f));
  }

  #syn(f: Frame): void {
    this.counts.tapSyns++;
    const c = this.connOf(f);
    // Now, not after a timer turn: the connection may last only milliseconds.
    if (c !== null && c.queued && !c.done) this.#work();
  }

  /**
   * Dumps the sockets of the namespaces traffic concerns into the memory: once for each, and
   * again on the timer while a namespace has at most DUMP_AGAIN_MAX sockets (a dump costs
   * about 15 µs a socket; larger namespaces rely on exact queries, 25 µs a connection).
   */
  #dumpActive(): void {
    const now = performance.now();
    for (const ns of this.#active) {
      const had = this.#dumped.get(ns) ?? socketCount(ns);
      if (had !== null && had > DUMP_AGAIN_MAX) {
        this.#dumped.set(ns, had);
        continue;
      }
      const t = this.#ns.diag(ns);
      if (t === null) continue;
      const t0 = performance.now();
      let n = 0;
      try {
        for (const fam of [4, 6] as const) {
          for (const proto of [TCP, UDP]) {
            const list = dumpSockets(t, fam, proto);
            n += list.length;
            this.#memory.load(ns.inode, list, now);
            this.counts.dumps++;
          }
        }
        this.#dumped.set(ns, n);
      } catch (e) {
        this.#log?.debug(`process attribution: dump failed: ${e}`);
      }
      this.counts.dumpMs += performance.now() - t0;
    }
  }

  #onTimer(): void {
    this.#timed(() => this.#timer());
  }

  #timer(): void {
    if (this.#closed) return;
    this.#init();
    this.#tick++;
    const everyRefresh = Math.max(1, Math.round(this.#refreshMs / 1000));
    if (this.#tick % Math.max(1, Math.round(this.#fullScanMs / 1000)) === 0) {
      this.#owners.fullScan();
    }
    if (this.#tick % everyRefresh === 0) {
      this.#ns.refresh();
      this.#lastNsRefresh = performance.now();
      this.#dumpActive();
      this.#memory.expire(performance.now());
      this.#sweep();
      // Remembered sockets keep their process; the pid cache only holds live ones.
      for (const pid of [...this.#procs.keys()]) if (!this.#alive(pid)) this.#procs.delete(pid);
    }
  }

  #alive(pid: number): boolean {
    try {
      Deno.statSync(`${this.#procRoot}/${pid}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Forgets connections no packet touched for IDLE_TICKS seconds. */
  #sweep(): void {
    const limit = this.#tick - IDLE_TICKS;
    for (const [h, head] of this.#buckets) {
      let first: Conn | null = head;
      while (first !== null && first.seen < limit) {
        first = first.next;
        this.#count--;
      }
      if (first === null) {
        this.#buckets.delete(h);
        continue;
      }
      if (first !== head) this.#buckets.set(h, first);
      let p = first;
      while (p.next !== null) {
        if (p.next.seen < limit) {
          p.next = p.next.next;
          this.#count--;
        } else p = p.next;
      }
    }
  }

  stats(): ResolverStats {
    const sorted = [...this.#latency].sort((x, y) => x - y);
    const pct = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const minutes = Math.max(1 / 60, (performance.now() - this.#started) / 60000);
    const o = this.#owners.stats;
    return {
      connections: this.#count,
      resolved: this.counts.resolved,
      unresolved: this.counts.unresolved,
      notLocal: this.counts.notLocal,
      flowsAttributed: this.counts.flowsAttributed,
      flowsUnresolved: this.counts.flowsUnresolved,
      flowsNotLocal: this.counts.flowsNotLocal,
      queries: this.counts.queries,
      queryMs: this.counts.queryMs,
      dumps: this.counts.dumps,
      dumpMs: this.counts.dumpMs,
      fullScans: o.fullScans,
      targetedScans: o.targetedScans,
      scanMs: o.scanMs,
      tapSyns: this.counts.tapSyns,
      tableFull: this.counts.tableFull,
      latencyMs: { p50: pct(0.5), p95: pct(0.95), max: this.#maxLatency, n: this.#latencySeen },
      rescansPerMinute: o.fullScans / minutes,
      cpuMs: this.#cpuMs,
    };
  }

  /** Lines for the capture summary. */
  summary(): string[] {
    const s = this.stats();
    const f = (n: number) => n.toFixed(n < 10 ? 2 : 0);
    return [
      `netmon: processes: ${s.flowsAttributed} flows attributed, ${s.flowsUnresolved} unresolved, ` +
      `${s.flowsNotLocal} without a local end`,
      `netmon: processes: lookup ${f(s.latencyMs.p50)} ms median, ${f(s.latencyMs.p95)} ms p95 ` +
      `over ${s.latencyMs.n} connections; ${s.queries} socket queries, ` +
      `${f(s.rescansPerMinute)} full rescans/min, ${s.targetedScans} targeted scans; ` +
      `${Math.round(s.dumpMs)} ms in socket dumps, ${
        Math.round(s.scanMs)
      } ms in descriptor scans, ` +
      `${Math.round(s.cpuMs)} ms CPU in all`,
    ];
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    this.#tap?.close();
    this.#ns.close();
  }
}

/** The note a flow keeps: its connection, read at each emit. */
class ConnNote implements FlowNote {
  readonly #c: Conn;
  readonly #r: ProcessResolver;
  constructor(c: Conn, r: ProcessResolver) {
    this.#c = c;
    this.#r = r;
  }
  addTo(rec: PacketRecord, final: boolean): void {
    const c = this.#c;
    if (c.process !== null) rec.Process = c.process;
    if (c.peer !== null) rec.Peer_Process = c.peer;
    if (final) this.#r.countFlow(c);
  }
}
