/**
 * A small HTTP/1.1 server on `Deno.listen` that hands handlers web-standard `Request`
 * objects (streaming bodies) and writes their `Response`s (streaming too), with the limits
 * `Deno.serve` does not offer: a cap on concurrent connections (refused with 503 beyond
 * it), an accept loop that survives EMFILE, nginx-like timeouts (client_header_timeout,
 * client_body_timeout, keepalive_timeout, send_timeout) that hold before any handler (so
 * before authentication), a header size cap (431) and a shared bytes-in-flight budget
 * (see {@link ByteBudget}) that handlers draw on through their {@link RequestContext}.
 *
 * Protocol: keep-alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`),
 * `Content-Length` and chunked request bodies (trailers read and dropped), `Expect:
 * 100-continue` (100 is sent when the handler first reads the body), pipelined requests
 * answered in order, HEAD (headers of the GET answer, no body), `Connection: close`.
 * A request with both Content-Length and Transfer-Encoding, a transfer coding other than
 * chunked, obsolete header folding or a malformed request line is refused with 400/501
 * and the connection closed (no request smuggling). A body the handler did not read is
 * drained when small, otherwise the connection is closed after the answer (lingering:
 * what the client still sends is read and dropped for a moment so it sees the answer).
 *
 * Bodies move in large chunks: the connection reads up to 64 KiB at a time into its
 * buffer and each body chunk is one copy out of it; nothing loops over body bytes in JS.
 *
 * @example
 * ```ts
 * import { serveHttp } from "./http.ts";
 * import { ByteBudget } from "./budget.ts";
 * const srv = serveHttp({ hostname: "127.0.0.1", port: 0, budget: new ByteBudget(1 << 26, 5000), log },
 *   (req) => new Response(`hello ${new URL(req.url).pathname}\n`));
 * await srv.shutdown();
 * ```
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { StatsTransport } from "../query/api.ts";
import type { ByteBudget, Reservation } from "./budget.ts";
import { errorResponse, HttpError } from "./errors.ts";
import { SERVE_DEFAULTS } from "./limits.ts";
import { freeBuffer } from "./ndjson.ts";

/** Per-request context handed to handlers beside the Request. */
export interface RequestContext {
  readonly remoteAddr: Deno.NetAddr;
  /**
   * This request's share of the bytes-in-flight budget. Take bytes before holding them in
   * memory (request bodies, large answers); everything taken is given back once the
   * answer has been written.
   */
  readonly reservation: Reservation;
}

/** A request handler: web-standard Request in, Response out. */
export type Handler = (req: Request, ctx: RequestContext) => Response | Promise<Response>;

/** Transport limits; see docs/server.md for the defaults. */
export interface HttpLimits {
  /** Connections open at once; beyond it new ones get 503 and are closed. */
  maxConnections: number;
  /** Largest request head (request line + headers); beyond it 431. */
  maxHeaderBytes: number;
  /** Time for a whole request head, from the connection (or its first byte) on. */
  headerTimeoutMs: number;
  /** Longest wait for the next piece of a request body. */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Longest wait for the client to take the next piece of an answer. */
  sendTimeoutMs: number;
}

export interface HttpOptions extends Partial<HttpLimits> {
  hostname: string;
  port: number;
  budget: ByteBudget;
  log: Logger;
  /** Seconds between two log lines about the same overload (connection cap, EMFILE). */
  logIntervalMs?: number;
}

/** The transport's counters (/api/stats `transport`). */
export type HttpStats = StatsTransport;

export interface HttpServer {
  readonly addr: Deno.NetAddr;
  /** Resolves when the server stopped (listener closed, every connection done). */
  readonly finished: Promise<void>;
  /** Stops accepting, lets requests in progress finish (up to 5 s), closes the rest. */
  shutdown(): Promise<void>;
  stats(): HttpStats;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxConnections: SERVE_DEFAULTS.maxConnections,
  maxHeaderBytes: SERVE_DEFAULTS.maxHeaderBytes,
  headerTimeoutMs: SERVE_DEFAULTS.headerTimeoutMs,
  bodyTimeoutMs: SERVE_DEFAULTS.bodyTimeoutMs,
  keepAliveTimeoutMs: SERVE_DEFAULTS.keepAliveTimeoutMs,
  sendTimeoutMs: SERVE_DEFAULTS.sendTimeoutMs,
};

/** Read size for bodies; the head buffer starts smaller and grows to this. */
const READ_CHUNK = 64 * 1024;
const HEAD_BUFFER = 4 * 1024;
/** An unread body up to this size is read and dropped to keep the connection. */
const DRAIN_MAX = 64 * 1024;
/** Lingering close: read and drop for up to this long / this many bytes. */
const LINGER_MS = 2000;
const LINGER_BYTES = 64 * 1024 * 1024;
/** Grace for requests in progress at shutdown. */
const SHUTDOWN_GRACE_MS = 5000;
const SWEEP_MS = 250;
const STALL_MS = 5000;

const enc = new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const HOST = /^[A-Za-z0-9.\-_~!$&'()*+,;=%:\[\]]*$/;
const CONTINUE = enc.encode("HTTP/1.1 100 Continue\r\n\r\n");

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** A fixed answer written without a handler (timeouts, refusals); always closes. */
function canned(status: number, message: string, extra = ""): Uint8Array {
  const body = JSON.stringify({ error: message }) + "\n";
  return enc.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ncontent-type: application/json\r\n` +
      `content-length: ${enc.encode(body).length}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
}

const REFUSED = canned(503, "too many connections", "retry-after: 1\r\n");
const HEADER_TIMEOUT = canned(408, "request head not received in time");
const BODY_TIMEOUT = canned(408, "request body not received in time");

let dateText = "";
let dateSecond = 0;
function httpDate(now: number): string {
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(s * 1000).toUTCString();
  }
  return dateText;
}

function isFdExhaustion(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "EMFILE" || code === "ENFILE" || /too many open files/i.test(String(e));
}

/** Logs the first event, then at most one line per interval saying how many followed. */
class Throttled {
  #last = -Infinity;
  #suppressed = 0;
  constructor(private readonly intervalMs: number, private readonly emit: (msg: string) => void) {}
  note(msg: string): void {
    const now = Date.now();
    if (now - this.#last >= this.intervalMs) {
      const more = this.#suppressed > 0 ? ` (${this.#suppressed} more since the last report)` : "";
      this.emit(msg + more);
      this.#last = now;
      this.#suppressed = 0;
    } else this.#suppressed++;
  }
}

interface Head {
  method: string;
  target: string;
  minor: number;
  headers: [string, string][];
  /** Lowercased values of the headers the transport itself uses. */
  host: string | null;
  contentLength: number | null;
  chunked: boolean;
  connection: string;
  expect: string | null;
}

type Phase = "header" | "idle" | "body" | "send" | "handler" | "linger";

/** One client connection: reads requests in turn, answers them in order. */
class Connection {
  buf = new Uint8Array(HEAD_BUFFER);
  start = 0;
  end = 0;
  /** When the current read or write must be done (0: no deadline running). */
  deadline = 0;
  phase: Phase = "header";
  /** Set by the sweeper when a deadline passed. */
  expired: Phase | null = null;
  closed = false;
  writing = false;
  /** Body reads in progress (one the handler abandoned may still be pending). */
  bodyReads = 0;
  /** Body framing of the request being served. */
  body: {
    kind: "none" | "length" | "chunked";
    remaining: number;
    chunkState: "size" | "data" | "crlf" | "trailers";
    done: boolean;
    expectContinue: boolean;
    continueSent: boolean;
    failed: boolean;
  } = {
    kind: "none",
    remaining: 0,
    chunkState: "size",
    done: true,
    expectContinue: false,
    continueSent: false,
    failed: false,
  };

  constructor(
    private readonly srv: Server,
    readonly conn: Deno.TcpConn,
    readonly acceptedAt: number,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* gone */ }
  }

  /** Called by the sweeper when `deadline` passed. */
  expire(): void {
    if (this.closed || this.expired !== null) return;
    this.expired = this.phase;
    this.deadline = 0;
    this.srv.log.debug(
      `serve: ${this.phase} timeout, closing connection from ${this.conn.remoteAddr.hostname}:${this.conn.remoteAddr.port} (${
        this.end - this.start
      } bytes unparsed)`,
    );
    const s = this.srv.counters;
    let answer: Uint8Array | null = null;
    if (this.phase === "header") {
      s.header_timeouts++;
      if (this.end > this.start) answer = HEADER_TIMEOUT;
    } else if (this.phase === "idle") s.idle_timeouts++;
    else if (this.phase === "body") {
      s.body_timeouts++;
      answer = BODY_TIMEOUT;
    } else if (this.phase === "send") s.send_timeouts++;
    if (answer !== null && !this.writing) {
      // Best effort: the socket's send buffer is empty in these phases.
      const t = setTimeout(() => this.close(), 1000);
      this.conn.write(answer).catch(() => {}).finally(() => {
        clearTimeout(t);
        this.close();
      });
    } else this.close();
  }

  /** Reads more bytes into the buffer (compacting or growing it); null at EOF. */
  async readMore(maxBuffer: number): Promise<number | null> {
    if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (this.end === this.buf.length) {
        if (this.buf.length >= maxBuffer) return 0; // caller checks its limit
        const bigger = new Uint8Array(Math.min(maxBuffer, this.buf.length * 2));
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
      }
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return null;
    this.end += n;
    return n;
  }

  /** A body read: room for a large read first, deadline per read. */
  async readBodyBytes(): Promise<void> {
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.buf.length < READ_CHUNK) this.buf = new Uint8Array(READ_CHUNK);
    }
    this.phase = "body";
    this.deadline = Date.now() + this.srv.limits.bodyTimeoutMs;
    let n: number | null;
    try {
      n = await this.readMore(READ_CHUNK);
    } catch (e) {
      throw this.gone(e, "body");
    } finally {
      this.deadline = 0;
      this.phase = "handler";
    }
    if (n === null) throw new HttpError(400, "connection closed in the middle of the body");
  }

  /** The error for a failed socket operation: a timeout or the client gone. */
  gone(e: unknown, what: string): Error {
    if (this.expired !== null) {
      return new HttpError(408, `request ${what} not received in time`);
    }
    return e instanceof Error ? e : new Error(String(e));
  }

  async writeAll(data: Uint8Array): Promise<void> {
    this.writing = true;
    const prev = this.phase;
    this.phase = "send";
    try {
      let off = 0;
      while (off < data.length) {
        this.deadline = Date.now() + this.srv.limits.sendTimeoutMs;
        off += await this.conn.write(off === 0 ? data : data.subarray(off));
      }
    } finally {
      this.deadline = 0;
      this.writing = false;
      this.phase = prev;
    }
  }

  /** Next piece of the current request body, or null at its end. */
  async readBodyChunk(): Promise<Uint8Array | null> {
    const b = this.body;
    if (b.done) return null;
    if (b.failed) throw new HttpError(400, "request body unreadable");
    this.bodyReads++;
    try {
      if (b.expectContinue && !b.continueSent) {
        b.continueSent = true;
        await this.writeAll(CONTINUE);
      }
      if (b.kind === "length") return await this.bodyData();
      while (true) {
        if (b.chunkState === "data") return await this.bodyData();
        if (b.chunkState === "trailers") {
          await this.skipTrailers();
          b.done = true;
          return null;
        }
        const line = await this.bodyLine(b.chunkState === "crlf" ? 2 : 1024);
        if (b.chunkState === "crlf") {
          if (line !== "") throw new HttpError(400, "chunked body: missing CRLF after chunk data");
          b.chunkState = "size";
          continue;
        }
        const m = /^([0-9A-Fa-f]{1,15})[ \t]*(;.*)?$/.exec(line);
        if (m === null) throw new HttpError(400, "chunked body: bad chunk size line");
        const size = parseInt(m[1], 16);
        if (size === 0) b.chunkState = "trailers";
        else {
          b.remaining = size;
          b.chunkState = "data";
        }
      }
    } catch (e) {
      b.failed = true;
      throw e;
    } finally {
      this.bodyReads--;
    }
  }

  /** Body bytes of a Content-Length body or of the current chunk. */
  async bodyData(): Promise<Uint8Array> {
    const b = this.body;
    if (this.start === this.end) await this.readBodyBytes();
    const n = Math.min(this.end - this.start, b.remaining);
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    b.remaining -= n;
    if (b.remaining === 0) {
      if (b.kind === "length") b.done = true;
      else b.chunkState = "crlf";
    }
    return out;
  }

  /** One line of chunk framing (without its CRLF), at most `max` bytes. */
  async bodyLine(max: number): Promise<string> {
    while (true) {
      const i = this.buf.subarray(this.start, this.end).indexOf(10);
      if (i >= 0) {
        let e = this.start + i;
        if (e > this.start && this.buf[e - 1] === 13) e--;
        const text = latin1(this.buf, this.start, e);
        this.start += i + 1;
        return text;
      }
      if (this.end - this.start > max) throw new HttpError(400, "chunked body: line too long");
      await this.readBodyBytes();
    }
  }

  async skipTrailers(): Promise<void> {
    let total = 0;
    while (true) {
      const line = await this.bodyLine(this.srv.limits.maxHeaderBytes);
      total += line.length + 2;
      if (total > this.srv.limits.maxHeaderBytes) {
        throw new HttpError(431, "chunked body: trailers too large");
      }
      if (line === "") return;
    }
  }

  /** Waits for and parses the next request head; null when the client closed cleanly. */
  async readHead(first: boolean): Promise<Head | null> {
    const lim = this.srv.limits;
    const now = Date.now();
    if (this.start === this.end && !first) {
      this.phase = "idle";
      this.deadline = now + lim.keepAliveTimeoutMs;
      // Keep-alive connections that had large bodies drop their big buffer while idle.
      if (this.buf.length > HEAD_BUFFER && this.bodyReads === 0) {
        freeBuffer(this.buf.buffer);
        this.buf = new Uint8Array(HEAD_BUFFER);
        this.start = this.end = 0;
      }
    } else {
      this.phase = "header";
      this.deadline = (first ? this.acceptedAt : now) + lim.headerTimeoutMs;
    }
    // How far past `start` the search for the blank line got (the buffer may be compacted
    // by a read, so an offset, not an index).
    let scanned = 0;
    while (true) {
      // Empty lines before a request line are ignored (RFC 9112 section 2.2).
      while (
        this.start < this.end && (this.buf[this.start] === 13 || this.buf[this.start] === 10)
      ) {
        this.start++;
        scanned = 0;
      }
      const endOfHead = this.findHeadEnd(this.start + scanned);
      if (endOfHead >= 0) {
        this.deadline = 0;
        this.phase = "handler";
        const head = this.parseHead(this.start, endOfHead);
        this.start = endOfHead;
        return head;
      }
      scanned = Math.max(0, this.end - this.start - 3);
      if (this.end - this.start >= lim.maxHeaderBytes) {
        this.deadline = 0;
        throw new HttpError(431, `request head larger than ${lim.maxHeaderBytes} bytes`);
      }
      if (this.srv.closing && this.start === this.end) return null;
      let n: number | null;
      try {
        n = await this.readMore(lim.maxHeaderBytes);
      } catch (e) {
        if (this.expired !== null || this.closed) return null;
        throw e;
      }
      if (n === null) {
        if (this.start !== this.end) this.srv.counters.bad_requests++;
        return null;
      }
      if (n === 0) continue; // buffer at its cap: the size check above answers 431
      if (this.phase === "idle") {
        this.phase = "header";
        this.deadline = Date.now() + lim.headerTimeoutMs;
      }
    }
  }

  /** Index just after the blank line ending the head, or -1. */
  findHeadEnd(from: number): number {
    const view = this.buf.subarray(0, this.end);
    let i = view.indexOf(10, from);
    while (i >= 0) {
      if (i + 1 < this.end && view[i + 1] === 10) return i + 2;
      if (i + 2 < this.end && view[i + 1] === 13 && view[i + 2] === 10) return i + 3;
      if (i + 2 >= this.end) return -1;
      i = view.indexOf(10, i + 1);
    }
    return -1;
  }

  parseHead(from: number, to: number): Head {
    const lines = latin1(this.buf, from, to).split("\n");
    const first = lines[0].endsWith("\r") ? lines[0].slice(0, -1) : lines[0];
    const m = REQUEST_LINE.exec(first);
    if (m === null) throw new HttpError(400, "malformed request line");
    const major = Number(m[3]);
    const minor = Number(m[4]);
    if (major !== 1) throw new HttpError(505, `HTTP/${major}.${minor} not supported`);
    const head: Head = {
      method: m[1],
      target: m[2],
      minor,
      headers: [],
      host: null,
      contentLength: null,
      chunked: false,
      connection: "",
      expect: null,
    };
    let te: string | null = null;
    for (let k = 1; k < lines.length; k++) {
      let line = lines[k];
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") break;
      if (line[0] === " " || line[0] === "\t") throw new HttpError(400, "obsolete header folding");
      const c = line.indexOf(":");
      if (c <= 0) throw new HttpError(400, "malformed header line");
      const name = line.slice(0, c);
      if (!TOKEN.test(name)) throw new HttpError(400, "malformed header name");
      const value = line.slice(c + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      head.headers.push([name, value]);
      const lower = name.toLowerCase();
      if (lower === "content-length") {
        if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, "bad Content-Length");
        const n = Number(value);
        if (head.contentLength !== null && head.contentLength !== n) {
          throw new HttpError(400, "conflicting Content-Length headers");
        }
        head.contentLength = n;
      } else if (lower === "transfer-encoding") {
        te = te === null ? value.toLowerCase() : `${te}, ${value.toLowerCase()}`;
      } else if (lower === "connection") {
        head.connection += (head.connection ? "," : "") + value.toLowerCase();
      } else if (lower === "expect") head.expect = value.toLowerCase();
      else if (lower === "host") {
        if (head.host !== null) throw new HttpError(400, "more than one Host header");
        head.host = value;
      }
    }
    if (te !== null) {
      if (head.contentLength !== null) {
        throw new HttpError(400, "both Transfer-Encoding and Content-Length");
      }
      if (te !== "chunked") throw new HttpError(501, `Transfer-Encoding ${te} not supported`);
      if (minor === 0) throw new HttpError(400, "Transfer-Encoding in an HTTP/1.0 request");
      head.chunked = true;
    }
    if (head.host === null && minor >= 1) throw new HttpError(400, "missing Host header");
    return head;
  }

  /** Serves one request; true when the connection may carry another. */
  async serveOne(head: Head): Promise<boolean> {
    const srv = this.srv;
    const tokens = head.connection.split(",").map((t) => t.trim());
    let keepAlive = head.minor >= 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
    const b = this.body;
    b.kind = head.chunked ? "chunked" : (head.contentLength ?? 0) > 0 ? "length" : "none";
    b.remaining = head.chunked ? 0 : head.contentLength ?? 0;
    b.chunkState = "size";
    b.done = b.kind === "none";
    b.failed = false;
    b.continueSent = false;
    b.expectContinue = false;
    const reservation = srv.budget.reservation();
    let res: Response;
    try {
      if (head.expect !== null) {
        if (head.expect !== "100-continue") throw new HttpError(417, "unsupported Expect");
        b.expectContinue = head.minor >= 1 && !b.done;
      }
      const req = this.makeRequest(head);
      res = await this.callHandler(req, reservation);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      srv.counters.bad_requests++;
      res = errorResponse(e);
      keepAlive = false;
    }
    try {
      if (this.closed) return false;
      if (!b.done) {
        // The handler left (part of) the body unread.
        const small = b.kind === "length" && b.remaining <= DRAIN_MAX && !b.failed &&
          this.bodyReads === 0 && (!b.expectContinue || b.continueSent);
        if (!small) keepAlive = false;
      }
      if (srv.closing) keepAlive = false;
      await this.writeResponse(res, head, keepAlive);
      if (!keepAlive) {
        if (!b.done && !b.failed && (!b.expectContinue || b.continueSent)) await this.linger();
        return false;
      }
      if (!b.done) {
        while ((await this.readBodyChunk()) !== null) { /* dropped */ }
      }
      return !this.closed;
    } finally {
      reservation.release();
    }
  }

  makeRequest(head: Head): Request {
    const t = head.target;
    let url: string;
    if (t.startsWith("/")) {
      const host = head.host !== null && head.host !== "" && HOST.test(head.host)
        ? head.host
        : this.srv.hostPort;
      if (head.host !== null && !HOST.test(head.host)) throw new HttpError(400, "bad Host header");
      url = `http://${host}${t}`;
    } else if (/^https?:\/\//i.test(t)) url = t;
    else if (t === "*" && head.method === "OPTIONS") url = `http://${this.srv.hostPort}/`;
    else throw new HttpError(400, "bad request target");
    let headers: Headers;
    try {
      headers = new Headers(head.headers);
    } catch {
      throw new HttpError(400, "malformed header value");
    }
    const init: RequestInit & { duplex?: "half" } = { method: head.method, headers };
    if (!this.body.done && head.method !== "GET" && head.method !== "HEAD") {
      init.body = new ReadableStream<Uint8Array>({
        pull: async (c) => {
          const chunk = await this.readBodyChunk();
          if (chunk === null) c.close();
          else c.enqueue(chunk);
        },
      }, { highWaterMark: 0 });
      init.duplex = "half";
    }
    try {
      return new Request(url, init);
    } catch (e) {
      throw new HttpError(400, `bad request: ${(e as Error).message}`);
    }
  }

  async callHandler(req: Request, reservation: Reservation): Promise<Response> {
    try {
      return await this.srv.handler(req, { remoteAddr: this.conn.remoteAddr, reservation });
    } catch (e) {
      if (e instanceof HttpError) return errorResponse(e);
      this.srv.log.error(`serve: internal error: ${(e as Error).stack ?? e}`);
      return errorResponse(new HttpError(500, "internal error"));
    }
  }

  async writeResponse(res: Response, head: Head, keepAlive: boolean): Promise<void> {
    const status = res.status;
    const bodyless = head.method === "HEAD" || status === 204 || status === 304 || status < 200;
    let first: Uint8Array | null = null;
    let second: Uint8Array | null = null;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    if (res.body !== null) {
      reader = res.body.getReader();
      const a = await reader.read();
      if (!a.done) {
        first = a.value;
        const b = await reader.read();
        if (!b.done) second = b.value;
        else reader = null;
      } else reader = null;
    }
    const streaming = reader !== null;
    const chunked = streaming && head.minor >= 1 && !bodyless;
    if (streaming && !chunked) keepAlive = false; // close-delimited for HTTP/1.0
    let text = `HTTP/1.1 ${status} ${REASONS[status] ?? res.statusText ?? ""}\r\n`;
    for (const [k, v] of res.headers) {
      if (k === "connection" || k === "content-length" || k === "transfer-encoding") continue;
      if (k === "keep-alive" || k === "date") continue;
      text += `${k}: ${v}\r\n`;
    }
    text += `date: ${httpDate(Date.now())}\r\n`;
    if (status !== 204 && status !== 304 && status >= 200) {
      if (!streaming) text += `content-length: ${first?.length ?? 0}\r\n`;
      else if (chunked) text += "transfer-encoding: chunked\r\n";
    }
    if (!keepAlive) text += "connection: close\r\n";
    else if (head.minor === 0) text += "connection: keep-alive\r\n";
    text += "\r\n";
    const headBytes = enc.encode(text);
    if (bodyless || first === null) {
      await reader?.cancel().catch(() => {});
      await this.writeAll(headBytes);
      return;
    }
    if (!streaming) {
      if (first.length <= READ_CHUNK) {
        const all = new Uint8Array(headBytes.length + first.length);
        all.set(headBytes);
        all.set(first, headBytes.length);
        await this.writeAll(all);
      } else {
        await this.writeAll(headBytes);
        await this.writeAll(first);
      }
      return;
    }
    try {
      await this.writeAll(headBytes);
      const put = async (c: Uint8Array) => {
        if (c.length === 0) return;
        if (chunked) await this.writeAll(enc.encode(`${c.length.toString(16)}\r\n`));
        await this.writeAll(c);
        if (chunked) await this.writeAll(enc.encode("\r\n"));
      };
      await put(first);
      if (second !== null) await put(second);
      while (true) {
        const r = await reader!.read();
        if (r.done) break;
        await put(r.value);
      }
      if (chunked) await this.writeAll(enc.encode("0\r\n\r\n"));
    } catch (e) {
      await reader!.cancel().catch(() => {});
      throw e;
    }
  }

  /** After an answer that leaves body bytes unread: drop what still comes, briefly. */
  async linger(): Promise<void> {
    try {
      await this.conn.closeWrite();
    } catch {
      return;
    }
    this.phase = "linger";
    const until = Date.now() + LINGER_MS;
    this.deadline = until;
    let total = 0;
    const scratch = new Uint8Array(READ_CHUNK);
    try {
      while (total < LINGER_BYTES && Date.now() < until) {
        const n = await this.conn.read(scratch);
        if (n === null) break;
        total += n;
      }
    } catch { /* closed by the deadline or the peer */ }
    this.deadline = 0;
    freeBuffer(scratch.buffer);
  }

  async run(): Promise<void> {
    const srv = this.srv;
    try {
      try {
        this.conn.setNoDelay(true);
      } catch { /* not TCP */ }
      let first = true;
      while (!this.closed) {
        let head: Head | null;
        try {
          head = await this.readHead(first);
        } catch (e) {
          if (!(e instanceof HttpError) || this.closed) throw e;
          srv.counters.bad_requests++;
          try {
            await this.writeAll(canned(e.status, e.message));
            await this.linger();
          } catch { /* gone */ }
          return;
        }
        if (head === null) return;
        first = false;
        if (!(await this.serveOne(head))) return;
      }
    } catch (e) {
      if (!this.closed && this.expired === null && !(e instanceof Deno.errors.BadResource)) {
        srv.log.debug(`serve: connection ended: ${(e as Error).message}`);
      }
    } finally {
      this.close();
      srv.conns.delete(this);
      srv.connectionDone();
    }
  }
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 8192) {
    s += String.fromCharCode.apply(
      null,
      buf.subarray(i, Math.min(to, i + 8192)) as unknown as number[],
    );
  }
  return s;
}

class Server implements HttpServer {
  readonly conns = new Set<Connection>();
  readonly counters: HttpStats = {
    connections: 0,
    accepted: 0,
    refused_connections: 0,
    accept_errors: 0,
    header_timeouts: 0,
    body_timeouts: 0,
    idle_timeouts: 0,
    send_timeouts: 0,
    bad_requests: 0,
    bytes_in_flight: 0,
    bytes_in_flight_peak: 0,
    budget_refusals: 0,
  };
  readonly limits: HttpLimits;
  readonly budget: ByteBudget;
  readonly log: Logger;
  readonly addr: Deno.NetAddr;
  readonly hostPort: string;
  readonly finished: Promise<void>;
  closing = false;
  #listener: Deno.TcpListener;
  #sweeper: ReturnType<typeof setInterval>;
  #lastSweep = Date.now();
  #allDone: (() => void) | null = null;
  #capLog: Throttled;
  #fdLog: Throttled;

  constructor(o: HttpOptions, readonly handler: Handler) {
    this.limits = {
      maxConnections: o.maxConnections ?? DEFAULT_LIMITS.maxConnections,
      maxHeaderBytes: o.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes,
      headerTimeoutMs: o.headerTimeoutMs ?? DEFAULT_LIMITS.headerTimeoutMs,
      bodyTimeoutMs: o.bodyTimeoutMs ?? DEFAULT_LIMITS.bodyTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs ?? DEFAULT_LIMITS.keepAliveTimeoutMs,
      sendTimeoutMs: o.sendTimeoutMs ?? DEFAULT_LIMITS.sendTimeoutMs,
    };
    this.budget = o.budget;
    this.log = o.log;
    const every = o.logIntervalMs ?? 10_000;
    this.#capLog = new Throttled(every, (m) => o.log.warn(m));
    this.#fdLog = new Throttled(every, (m) => o.log.error(m));
    this.#listener = Deno.listen({ hostname: o.hostname, port: o.port });
    this.addr = this.#listener.addr;
    const h = this.addr.hostname.includes(":") ? `[${this.addr.hostname}]` : this.addr.hostname;
    this.hostPort = `${h}:${this.addr.port}`;
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.finished = this.acceptLoop();
  }

  stats(): HttpStats {
    return {
      ...this.counters,
      connections: this.conns.size,
      bytes_in_flight: this.budget.used,
      bytes_in_flight_peak: this.budget.peak,
      budget_refusals: this.budget.refused,
    };
  }

  sweep(): void {
    const now = Date.now();
    // A long synchronous stretch (a large SQLite commit) must not count against clients
    // whose bytes wait in the kernel meanwhile: when the event loop was stuck for more
    // than STALL_MS, push running deadlines back by the excess. (Ordinary load, commits of a
    // second or two back to back, is not compensated, or a busy server never times out.)
    const stall = now - this.#lastSweep - SWEEP_MS - STALL_MS;
    this.#lastSweep = now;
    for (const c of this.conns) {
      if (c.deadline === 0) continue;
      if (stall > 0) c.deadline += stall;
      else if (now > c.deadline) c.expire();
    }
  }

  connectionDone(): void {
    if (this.closing && this.conns.size === 0) this.#allDone?.();
  }

  async acceptLoop(): Promise<void> {
    let backoff = 10;
    while (!this.closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.closing || e instanceof Deno.errors.BadResource) break;
        this.counters.accept_errors++;
        if (isFdExhaustion(e)) {
          this.#fdLog.note(
            `serve: cannot accept connections: ${(e as Error).message} ` +
              `(${this.conns.size} open; raise the open-file limit or lower max_connections); retrying`,
          );
        } else this.log.warn(`serve: accept failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 1000);
        continue;
      }
      backoff = 10;
      this.counters.accepted++;
      if (this.conns.size >= this.limits.maxConnections) {
        this.counters.refused_connections++;
        this.#capLog.note(
          `serve: ${this.limits.maxConnections} connections open (max_connections); refusing new ones`,
        );
        conn.write(REFUSED).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* gone */ }
        });
        continue;
      }
      const c = new Connection(this, conn, Date.now());
      this.conns.add(c);
      c.run();
    }
    clearInterval(this.#sweeper);
    if (this.conns.size > 0) {
      const done = new Promise<void>((r) => (this.#allDone = r));
      const force = setTimeout(() => {
        for (const c of this.conns) c.close();
      }, SHUTDOWN_GRACE_MS);
      await done;
      clearTimeout(force);
    }
  }

  async shutdown(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      try {
        this.#listener.close();
      } catch { /* closed */ }
      for (const c of this.conns) {
        if (c.phase === "idle" || (c.phase === "header" && c.start === c.end)) c.close();
      }
    }
    await this.finished;
  }
}

/** Starts listening; see the module documentation. */
export function serveHttp(o: HttpOptions, handler: Handler): HttpServer {
  return new Server(o, handler);
}
