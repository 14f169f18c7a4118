/** Helpers for the server tests: `netmon serve` per test, raw TCP clients, RSS, gzip. */
import zlib from "node:zlib";
import { ServeProcess } from "../submit/helpers.ts";
import { SERVE_DEFAULTS } from "../../src/server/limits.ts";

export { ServeProcess };

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** One ndjson record line with an envelope. */
export function recordLine(seq: number, run = "r1", extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    UDP: { Length: seq },
    ...extra,
    Netmon: { Record_Type: "packet", Agent_ID: "ag", Run_ID: run, Sequence: seq, Batch: 1 },
  });
}

/** POSTs a body with fetch; status, parsed JSON body and headers. */
export async function post(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method: "POST", body, headers });
  const text = await r.text();
  // deno-lint-ignore no-explicit-any
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: r.status, json, text, headers: r.headers };
}

/** Runs `fn` against a fresh `netmon serve` (own temp dir and database), then stops it. */
export async function withServe(
  extra: string[],
  fn: (srv: ServeProcess, dir: string) => Promise<void>,
  opts: { prefix?: string[]; env?: Record<string, string> } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-serve-" });
  let srv: ServeProcess | null = null;
  try {
    srv = await ServeProcess.start(`${dir}/db.sqlite`, 0, extra, opts);
    await fn(srv, dir);
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** gzip of `data` (one member). */
export function gzip(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(zlib.gzipSync(typeof data === "string" ? enc.encode(data) : data));
}

/**
 * A gzip bomb of about `compressedBytes`: ONE gzip member whose deflate stream repeats the
 * blocks of 64 MiB of zeros (ended by a sync flush, so they chain), then a final empty
 * block and a trailer whose CRC is left wrong (nobody should inflate that far). About
 * 1000:1; 10 MB decodes to 9.6 GiB.
 */
export function gzipBomb(
  compressedBytes: number,
): { body: Uint8Array<ArrayBuffer>; decoded: number } {
  const raw = new Uint8Array(
    zlib.deflateRawSync(new Uint8Array(64 * 2 ** 20), {
      level: 9,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    }),
  );
  const n = Math.ceil(compressedBytes / raw.length);
  const body = new Uint8Array(10 + raw.length * n + 2 + 8);
  body.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);
  for (let i = 0; i < n; i++) body.set(raw, 10 + i * raw.length);
  body.set([0x03, 0x00], 10 + raw.length * n); // final fixed-Huffman block: end of block only
  return { body, decoded: n * 64 * 2 ** 20 };
}

/** Concatenation of byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A process's memory figure from /proc (VmRSS now, VmHWM peak), MiB. */
export function memMiB(pid: number, key: "VmRSS" | "VmHWM" = "VmHWM"): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  if (m === null) throw new Error(`no ${key} for ${pid}`);
  return Number(m[1]) / 1024;
}

/** A raw TCP client: write bytes as they come, read everything until the peer closes. */
export class RawClient {
  readonly received: Uint8Array[] = [];
  /** Resolves with ms from connect until the server closed (EOF or reset). */
  readonly closed: Promise<number>;
  #t0 = Date.now();

  private constructor(readonly conn: Deno.TcpConn) {
    this.closed = this.#readAll();
  }

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async #readAll(): Promise<number> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.received.push(buf.slice(0, n));
      }
    } catch { /* reset or closed by us */ }
    return Date.now() - this.#t0;
  }

  /** Writes; false when the server already closed the connection. */
  async write(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    try {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  text(): string {
    return dec.decode(concat(...this.received));
  }

  /** Waits until the server closed, at most `ms`; the close time or null. */
  async closedWithin(ms: number): Promise<number | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.closed,
      new Promise<null>((res) => (timer = setTimeout(() => res(null), ms))),
    ]);
    clearTimeout(timer);
    return r;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* gone */ }
  }
}

/** Sends one request on a fresh connection and returns the whole answer once closed. */
export async function rawRequest(port: number, data: string | Uint8Array, waitMs = 10_000) {
  const c = await RawClient.connect(port);
  await c.write(data);
  const closedAfter = await c.closedWithin(waitMs);
  c.close();
  return { text: c.text(), closedAfter };
}

/** Status codes of the HTTP answers in a raw byte stream, in order. */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3}) [A-Za-z ]*\r\n/g)].map((m) => Number(m[1]));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The RSS cap docs/server.md states: 288 MiB (runtime, SQLite writer and the two query
 * threads' page caches) + 2.5 x max_bytes_in_flight + 128 KiB per allowed connection
 * (736 MiB with the defaults).
 */
export function rssCapMiB(
  inFlight: number = SERVE_DEFAULTS.maxBytesInFlight,
  connections: number = SERVE_DEFAULTS.maxConnections,
): number {
  return 288 + 2.5 * inFlight / 2 ** 20 + connections / 8;
}
