/**
 * Parser for the socket tables in /proc/<pid>/net: tcp, tcp6, udp, udp6, raw, raw6, icmp,
 * icmp6 (ping sockets). Columns are found by their header name, so a kernel that adds,
 * drops or reorders named columns still parses. Two header names share one data field
 * each (`tx_queue rx_queue` -> `00000000:00000000`, `tr tm->when` -> `00:00000000`).
 *
 * Fields the header does not name (tcp prints refcount, socket pointer, rto, ato,
 * quick-ack/ping-pong, cwnd and ssthresh after `inode`) are the kernel's fixed trailer
 * and are named from its source (net/ipv4/tcp_ipv4.c get_tcp4_sock). Short rows
 * (TIME_WAIT, NEW_SYN_RECV) simply lack the trailer.
 *
 * @module
 */
import { HOST_LITTLE_ENDIAN, procAddress } from "./addr.ts";

/** The socket table files this parser reads. */
export const SOCKET_FILES = ["tcp", "tcp6", "udp", "udp6", "raw", "raw6", "icmp", "icmp6"] as const;
export type SocketFile = typeof SOCKET_FILES[number];

/** Kernel socket states (include/net/tcp_states.h), by number. */
export const TCP_STATES: Record<number, string> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV",
  13: "BOUND_INACTIVE",
};

/** The `tr` column: which timer is pending (get_tcp4_sock / tcp4_seq_show). */
export const TIMERS: Record<number, string> = {
  0: "off",
  1: "retransmit",
  2: "keepalive",
  3: "timewait",
  4: "zero-window-probe",
};

/** Clock ticks per second of `tm->when` (USER_HZ, 100 on every Linux architecture's ABI). */
export const USER_HZ = 100;

/** One socket. Keys follow the project's Title_Snake_Case record convention. */
export interface SocketRow {
  Protocol: SocketFile;
  Local_Address: string;
  Local_Port: number;
  Remote_Address: string;
  Remote_Port: number;
  State: string;
  Inode: number;
  /** True when the watched process holds this socket (set by the caller from /proc/<pid>/fd). */
  Own: boolean;
  Tx_Queue?: number;
  Rx_Queue?: number;
  Timer?: string;
  Timer_Seconds?: number;
  Retransmits?: number;
  UID?: number;
  Timeout?: number;
  Ref_Count?: number;
  Drops?: number;
  RTO_Ticks?: number;
  ATO_Ticks?: number;
  Cwnd?: number;
  Ssthresh?: number;
  Slot?: number;
  /** Columns this parser does not know, by their header name (raw text). */
  Extra?: Record<string, string>;
}

/** Header name -> canonical field. Aliases cover `rem_address` vs `remote_address`. */
const KNOWN: Record<string, string> = {
  "sl": "sl",
  "local_address": "local",
  "rem_address": "remote",
  "remote_address": "remote",
  "st": "st",
  "tx_queue": "tx_queue",
  "rx_queue": "rx_queue",
  "tr": "tr",
  "tm->when": "when",
  "retrnsmt": "retrnsmt",
  "uid": "uid",
  "timeout": "timeout",
  "inode": "inode",
  "ref": "ref",
  "pointer": "pointer",
  "drops": "drops",
};

/** Header pairs printed as one `a:b` data field. */
const JOINED: Record<string, string> = { "tx_queue": "rx_queue", "tr": "tm->when" };

/** Unnamed trailer of tcp/tcp6 rows after the last named column (get_tcp4_sock). */
const TCP_TRAILER = ["ref", "pointer", "rto", "ato", "qack_pingpong", "cwnd", "ssthresh"];

interface Column {
  names: string[]; // one name, or two for a joined a:b field
}

/** Splits a header line into data columns. */
function headerColumns(header: string): Column[] {
  const names = header.trim().split(/\s+/);
  const cols: Column[] = [];
  for (let i = 0; i < names.length; i++) {
    const second = JOINED[names[i]];
    if (second && names[i + 1] === second) {
      cols.push({ names: [names[i], second] });
      i++;
    } else cols.push({ names: [names[i]] });
  }
  return cols;
}

function splitEndpoint(s: string, le: boolean): { addr: string; port: number } | null {
  const i = s.lastIndexOf(":");
  if (i < 0) return null;
  const addr = procAddress(s.slice(0, i), le);
  const port = parseInt(s.slice(i + 1), 16);
  if (addr === null || !Number.isFinite(port)) return null;
  return { addr, port };
}

const hexNum = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const n = parseInt(s, 16);
  return Number.isFinite(n) ? n : undefined;
};
const decNum = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
};

/**
 * Parses one socket table. Rows whose addresses do not decode are skipped.
 *
 * @example
 * ```ts
 * const rows = parseSocketTable(Deno.readTextFileSync("/proc/self/net/tcp"), "tcp");
 * ```
 */
export function parseSocketTable(
  text: string,
  file: SocketFile,
  littleEndian = HOST_LITTLE_ENDIAN,
): SocketRow[] {
  const lines = text.split("\n");
  const headerIdx = lines.findIndex((l) => l.trim() !== "");
  if (headerIdx < 0) return [];
  const cols = headerColumns(lines[headerIdx]);
  const datagram = !file.startsWith("tcp");
  const trailer = file.startsWith("tcp") ? TCP_TRAILER : [];
  const rows: SocketRow[] = [];
  for (const line of lines.slice(headerIdx + 1)) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 2 || tokens[0] === "") continue;
    const f: Record<string, string> = {};
    const extra: Record<string, string> = {};
    let t = 0;
    for (const col of cols) {
      if (t >= tokens.length) break;
      const tok = tokens[t++];
      const parts = col.names.length === 2 ? tok.split(":") : [tok];
      col.names.forEach((name, k) => {
        const v = parts[k] ?? "";
        const key = KNOWN[name];
        if (key) f[key] = v;
        else extra[name] = v;
      });
    }
    // The kernel's fixed unnamed trailer (only tcp has one beyond the header).
    for (let k = 0; t < tokens.length; k++, t++) {
      const name = trailer[k];
      if (name && !(name in f)) f[name] = tokens[t];
      else extra[`column_${t + 1}`] = tokens[t];
    }
    const local = splitEndpoint(f.local ?? "", littleEndian);
    const remote = splitEndpoint(f.remote ?? "", littleEndian);
    if (!local || !remote) continue;
    const st = hexNum(f.st) ?? 0;
    let state = TCP_STATES[st] ?? `UNKNOWN(${st})`;
    // Datagram sockets use only ESTABLISHED (connected) and CLOSE; ss calls CLOSE "UNCONN".
    if (datagram && st === 7) state = "UNCONN";
    const row: SocketRow = {
      Protocol: file,
      Local_Address: local.addr,
      Local_Port: local.port,
      Remote_Address: remote.addr,
      Remote_Port: remote.port,
      State: state,
      Inode: decNum(f.inode) ?? 0,
      Own: false,
    };
    const set = <K extends keyof SocketRow>(k: K, v: SocketRow[K] | undefined) => {
      if (v !== undefined) row[k] = v;
    };
    set("Tx_Queue", hexNum(f.tx_queue));
    set("Rx_Queue", hexNum(f.rx_queue));
    const tr = hexNum(f.tr);
    if (tr !== undefined) set("Timer", TIMERS[tr] ?? `unknown(${tr})`);
    const when = hexNum(f.when);
    if (when !== undefined) set("Timer_Seconds", when / USER_HZ);
    set("Retransmits", hexNum(f.retrnsmt));
    set("UID", decNum(f.uid));
    set("Timeout", decNum(f.timeout));
    set("Ref_Count", decNum(f.ref));
    set("Drops", decNum(f.drops));
    set("RTO_Ticks", decNum(f.rto));
    set("ATO_Ticks", decNum(f.ato));
    set("Cwnd", decNum(f.cwnd));
    set("Ssthresh", decNum(f.ssthresh));
    set("Slot", decNum(f.sl?.replace(/:$/, "")));
    if (Object.keys(extra).length > 0) row.Extra = extra;
    rows.push(row);
  }
  return rows;
}

/** Marks rows whose inode is in `own` (inode 0 = no socket object, never owned). */
export function markOwn(rows: SocketRow[], own: ReadonlySet<number>): SocketRow[] {
  for (const r of rows) r.Own = r.Inode !== 0 && own.has(r.Inode);
  return rows;
}
