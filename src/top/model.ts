/**
 * netmon top's numbers: bytes per connection and direction, counted per second of packet
 * time, and per process by adding up the connections whose local end it holds (a connection
 * between two local processes counts for both: sent by one, received by the other). Frames
 * that are not TCP or UDP, and connections without a process, are kept as their own rows
 * ("unknown TCP", "not local", "other"), never dropped. Pure: feed it frames, ask for rows.
 *
 * @module
 */
import type { Frame } from "../decode/frame.ts";
import type { FrameMeta } from "../decode/meta.ts";
import type { Conn, ProcessInfo, ProcessResolver } from "../attribution/mod.ts";

/** Seconds of history (the longest average). */
export const WINDOW = 40;
const SLOTS = WINDOW + 2;
/** Seconds the "current" rate covers (the last completed ones). */
export const CURRENT = 2;
const PACKET_OUTGOING = 4;

/** Bytes per second bucket, per direction (0: sent from end A, 1: sent from end B). */
class Series {
  readonly total = [0, 0];
  readonly #bytes = new Float64Array(SLOTS * 2);
  readonly #sec = new Float64Array(SLOTS).fill(-1);

  add(dir: 0 | 1, sec: number, n: number): void {
    const i = sec % SLOTS;
    if (this.#sec[i] !== sec) {
      this.#sec[i] = sec;
      this.#bytes[i * 2] = 0;
      this.#bytes[i * 2 + 1] = 0;
    }
    this.#bytes[i * 2 + dir] += n;
    this.total[dir] += n;
  }

  /** Bytes in direction `dir` over the `n` whole seconds before `now` (now excluded). */
  sum(dir: 0 | 1, now: number, n: number): number {
    let t = 0;
    for (let s = now - n; s < now; s++) {
      const i = ((s % SLOTS) + SLOTS) % SLOTS;
      if (this.#sec[i] === s) t += this.#bytes[i * 2 + dir];
    }
    return t;
  }
}

/** Sent and received bytes, totals and rates (bytes per second). */
export interface Traffic {
  Sent_Bytes: number;
  Received_Bytes: number;
  /** Over the last CURRENT seconds. */
  Sent_Rate: number;
  Received_Rate: number;
  Sent_Rate_10s: number;
  Received_Rate_10s: number;
  Sent_Rate_40s: number;
  Received_Rate_40s: number;
}

export interface ConnectionRow extends Traffic {
  Protocol: "TCP" | "UDP";
  Local_Address: string;
  Local_Port: number;
  Remote_Address: string;
  Remote_Port: number;
}

export interface ProcessRow extends Traffic {
  Process: ProcessInfo;
  Connections: ConnectionRow[];
}

/** Traffic no process can be named for, by kind. */
export interface UnattributedRow extends Traffic {
  /** "unknown TCP" / "unknown UDP" (a local end without a process found), "not local"
   * (no end is a socket of this host), "resolving" (not looked up yet), "other" (not TCP/UDP). */
  Kind: string;
  Connections: number;
}

export interface TopDocument {
  Interface: string;
  /** Seconds of traffic counted. */
  Duration: number;
  Processes: ProcessRow[];
  Unattributed: UnattributedRow[];
}

function zero(): Traffic {
  return {
    Sent_Bytes: 0,
    Received_Bytes: 0,
    Sent_Rate: 0,
    Received_Rate: 0,
    Sent_Rate_10s: 0,
    Received_Rate_10s: 0,
    Sent_Rate_40s: 0,
    Received_Rate_40s: 0,
  };
}

/** Adds series `s` (sent = direction `out`) into `t`, with rates over what has elapsed. */
function accumulate(t: Traffic, s: Series, out: 0 | 1, now: number, elapsed: number): void {
  const inn = out === 0 ? 1 : 0;
  const span = (n: number) => Math.max(1, Math.min(n, elapsed));
  t.Sent_Bytes += s.total[out];
  t.Received_Bytes += s.total[inn];
  t.Sent_Rate += s.sum(out, now, CURRENT) / span(CURRENT);
  t.Received_Rate += s.sum(inn, now, CURRENT) / span(CURRENT);
  t.Sent_Rate_10s += s.sum(out, now, 10) / span(10);
  t.Received_Rate_10s += s.sum(inn, now, 10) / span(10);
  t.Sent_Rate_40s += s.sum(out, now, WINDOW) / span(WINDOW);
  t.Received_Rate_40s += s.sum(inn, now, WINDOW) / span(WINDOW);
}

export class TopModel {
  readonly #resolver: ProcessResolver;
  readonly #conns = new Map<Conn, Series>();
  /** Frames that are not TCP or UDP over IP: direction 0 sent by this host, 1 received. */
  readonly #other = new Series();
  #first = -1;
  #last = -1;
  readonly iface: string;

  constructor(resolver: ProcessResolver, iface: string) {
    this.#resolver = resolver;
    this.iface = iface;
  }

  /** Counts one decoded frame. */
  add(f: Frame, meta: FrameMeta): void {
    const sec = meta.sec;
    if (this.#first < 0) this.#first = sec;
    if (sec > this.#last) this.#last = sec;
    const c = this.#resolver.connOf(f);
    if (c === null) {
      this.#other.add(meta.pktType === PACKET_OUTGOING ? 0 : 1, sec, meta.wireLen);
      return;
    }
    let s = this.#conns.get(c);
    if (s === undefined) {
      s = new Series();
      this.#conns.set(c, s);
    }
    s.add(this.#resolver.lastDir, sec, meta.wireLen);
  }

  /** Per-process and unattributed rows as of `now` (seconds since the epoch). */
  document(now = Math.floor(Date.now() / 1000)): TopDocument {
    const elapsed = this.#first < 0 ? 0 : Math.max(1, now - this.#first);
    const procs = new Map<ProcessInfo, ProcessRow>();
    const unknown = new Map<string, UnattributedRow>();
    const other = (kind: string): UnattributedRow => {
      let u = unknown.get(kind);
      if (u === undefined) {
        u = { Kind: kind, Connections: 0, ...zero() };
        unknown.set(kind, u);
      }
      return u;
    };
    for (const [c, s] of this.#conns) {
      let named = false;
      for (const end of [0, 1] as const) {
        const p = c.procOf(end);
        if (p === null) continue;
        named = true;
        let row = procs.get(p);
        if (row === undefined) {
          row = { Process: p, ...zero(), Connections: [] };
          procs.set(p, row);
        }
        const conn: ConnectionRow = {
          Protocol: c.proto === 6 ? "TCP" : "UDP",
          Local_Address: c.address(end),
          Local_Port: c.port(end),
          Remote_Address: c.address(end === 0 ? 1 : 0),
          Remote_Port: c.port(end === 0 ? 1 : 0),
          ...zero(),
        };
        accumulate(conn, s, end, now, elapsed);
        accumulate(row, s, end, now, elapsed);
        row.Connections.push(conn);
      }
      if (named) continue;
      const proto = c.proto === 6 ? "TCP" : "UDP";
      const local = c.isLocal(0) || c.isLocal(1);
      const kind = c.isLocal(0) === null && c.isLocal(1) === null
        ? "resolving"
        : local
        ? `unknown ${proto}`
        : "not local";
      const u = other(kind);
      u.Connections++;
      // Sent = from the local end when there is one, else from the first packet's source.
      accumulate(u, s, c.isLocal(1) && !c.isLocal(0) ? 1 : 0, now, elapsed);
    }
    if (this.#other.total[0] + this.#other.total[1] > 0) {
      accumulate(other("other"), this.#other, 0, now, elapsed);
    }
    const order = (a: Traffic, b: Traffic) =>
      (b.Sent_Rate + b.Received_Rate) - (a.Sent_Rate + a.Received_Rate) ||
      (b.Sent_Bytes + b.Received_Bytes) - (a.Sent_Bytes + a.Received_Bytes);
    const processes = [...procs.values()].sort(order);
    for (const p of processes) p.Connections.sort(order);
    return {
      Interface: this.iface,
      Duration: this.#first < 0 ? 0 : Math.max(0, this.#last - this.#first + 1),
      Processes: processes,
      Unattributed: [...unknown.values()].sort(order),
    };
  }
}
