/**
 * The HTTP submitter: one POST per batch via fetch, the response mapped to what
 * happens to the batch next.
 *
 * - 2xx: stored.
 * - 408, 429, 5xx, connection errors, timeouts: retry later (backoff, Retry-After).
 * - 413: split the batch in two and send both halves.
 * - 400: dead letter (never retried).
 * - 422 (the key was stored before with another body): dead letter, and a netmon bug
 *   to report: a closed batch never changes, so its key never names other bytes.
 * - 3xx: redirects are never followed (a POST would become a GET that "succeeds"):
 *   configuration error, naming the Location.
 * - 401, 403, 404 and other 4xx: configuration error: keep spooling, say so.
 * - format "clickhouse": the `Code:` in the error body decides first (clickhouse.ts).
 */
import { type Batch, batchKey, splitBatch } from "./batch.ts";
import { classifyClickHouseCode, clickHouseCode, toClickHouseRows } from "./clickhouse.ts";

export type Outcome =
  | { kind: "ok"; duplicate: boolean }
  | { kind: "retry"; why: string; retryAfterMs: number | null; connection: boolean }
  | { kind: "split"; why: string }
  | { kind: "dead"; why: string; conflict?: boolean }
  | { kind: "config"; why: string };

export interface SubmitterOptions {
  url: string;
  format: "ndjson" | "clickhouse";
  token: string;
  table: string;
  gzip: boolean;
  /** Per-request timeout (ms). */
  timeoutMs: number;
}

/** Default per-request timeout (`[server] request_timeout`). */
export const REQUEST_TIMEOUT_S = 30;

/** Longest Retry-After honoured (a server asking for more is asked again after this). */
const MAX_RETRY_AFTER_MS = 600_000;
/** Bytes of an error body kept for the log. */
const MAX_ERROR_TEXT = 300;

/** Retry-After as milliseconds (seconds or an HTTP date), or null. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | null {
  if (v === null || v.trim() === "") return null;
  const t = v.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.min(MAX_RETRY_AFTER_MS, Number(t) * 1000);
  const at = Date.parse(t);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - now));
}

/** Maps an HTTP status (and body, for ClickHouse) to an outcome. */
export function classifyResponse(
  status: number,
  body: string,
  retryAfter: string | null,
  format: "ndjson" | "clickhouse",
  location: string | null = null,
): Outcome {
  const text = body.replace(/\s+/g, " ").trim().slice(0, MAX_ERROR_TEXT);
  const why = `HTTP ${status}${text ? ": " + text : ""}`;
  if (status >= 200 && status < 300) {
    return { kind: "ok", duplicate: /"duplicate"\s*:\s*true/.test(body) };
  }
  if (status >= 300 && status < 400) {
    const to = location === null ? "no Location" : `Location: ${location.slice(0, MAX_ERROR_TEXT)}`;
    return {
      kind: "config",
      why: `HTTP ${status} redirect (${to}); netmon does not follow redirects: use the final URL`,
    };
  }
  const ra = parseRetryAfter(retryAfter);
  if (format === "clickhouse") {
    const code = clickHouseCode(body);
    const cls = code !== null ? classifyClickHouseCode(code) : null;
    if (cls === "retry") return { kind: "retry", why, retryAfterMs: ra, connection: false };
    if (cls !== null) return { kind: cls, why };
  }
  if (status === 413) return { kind: "split", why };
  if (status === 400) return { kind: "dead", why };
  if (status === 422) return { kind: "dead", why, conflict: true };
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: "retry", why, retryAfterMs: ra, connection: false };
  }
  return { kind: "config", why };
}

/** Posts batches to one server. */
export class Submitter {
  private readonly endpoint: string;
  private readonly auth: string | null;
  /** ClickHouse too old for insert_deduplication_token: stop sending it. */
  private dedupToken = true;
  /** Reused conversion buffers (format clickhouse), one per request in flight. */
  private scratch: Uint8Array[] = [];

  constructor(readonly opts: SubmitterOptions) {
    const u = new URL(opts.url);
    let auth: string | null = opts.token ? `Bearer ${opts.token}` : null;
    if (u.username || u.password) {
      // fetch refuses credentials in the URL: send them as Basic auth instead.
      auth ??= "Basic " +
        btoa(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`);
      u.username = "";
      u.password = "";
    }
    if (opts.format === "clickhouse") {
      u.searchParams.set("query", `INSERT INTO ${opts.table} FORMAT JSONEachRow`);
    }
    this.endpoint = u.toString();
    this.auth = auth;
  }

  /** Where batches go (without credentials), for logs. */
  get where(): string {
    const u = new URL(this.endpoint);
    u.search = "";
    return u.toString();
  }

  /** Sends one batch once. Never throws. */
  async post(b: Batch, signal?: AbortSignal): Promise<Outcome> {
    const key = batchKey(b);
    const headers: Record<string, string> = { "Idempotency-Key": key };
    if (this.auth) headers["Authorization"] = this.auth;
    let url = this.endpoint;
    let body: Uint8Array;
    let scratch: Uint8Array | undefined;
    if (this.opts.format === "clickhouse") {
      if (this.dedupToken) {
        const u = new URL(url);
        u.searchParams.set("insert_deduplication_token", key);
        url = u.toString();
      }
      headers["Content-Type"] = "application/x-ndjson";
      scratch = this.scratch.pop();
      body = toClickHouseRows(b, scratch);
      // Keep the bigger of the two for the next request.
      if (body.buffer !== scratch?.buffer) scratch = new Uint8Array(body.buffer as ArrayBuffer);
    } else {
      headers["Content-Type"] = "application/x-ndjson";
      body = b.body;
    }
    if (this.opts.gzip) {
      headers["Content-Encoding"] = "gzip";
      body = await gzip(body);
    }
    try {
      return await this.send(b, url, headers, body, signal);
    } finally {
      // The request is over (answered, failed or aborted): nothing reads the buffer now.
      if (scratch !== undefined && this.scratch.length < 2) this.scratch.push(scratch);
    }
  }

  private async send(
    b: Batch,
    url: string,
    headers: Record<string, string>,
    body: Uint8Array,
    signal?: AbortSignal,
  ): Promise<Outcome> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      headers["Content-Length"] = String(body.length);
      res = await fetch(url, {
        method: "POST",
        headers,
        body: chunked(body),
        signal: sig,
        redirect: "manual",
      });
    } catch (e) {
      const why = sig.aborted
        ? (timeout.aborted ? `no answer within ${this.opts.timeoutMs / 1000} s` : "aborted")
        : `connection failed: ${e instanceof Error ? e.message : String(e)}`;
      return { kind: "retry", why, retryAfterMs: null, connection: true };
    }
    let text = "";
    try {
      text = await res.text();
    } catch {
      // body cut: the status still counts.
    }
    const out = classifyResponse(
      res.status,
      text,
      res.headers.get("retry-after"),
      this.opts.format,
      res.headers.get("location"),
    );
    if (
      this.opts.format === "clickhouse" && this.dedupToken && out.kind === "config" &&
      clickHouseCode(text) === 115 && text.includes("insert_deduplication_token")
    ) {
      // Older ClickHouse: dedup relies on ReplacingMergeTree (docs/server.md); resend without.
      this.dedupToken = false;
      return this.post(b, signal);
    }
    return out;
  }
}

/** Stream chunk size: fetch copies a plain Uint8Array body whole; a stream goes piecewise. */
const CHUNK = 1 << 20;

/** The body as a stream of views (no copy of the whole batch per request). */
function chunked(body: Uint8Array): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= body.length) {
        c.close();
        return;
      }
      const end = Math.min(body.length, off + CHUNK);
      c.enqueue(body.slice(off, end));
      off = end;
    },
  });
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Result of delivering one batch, splitting on 413 as needed. */
export interface Delivery {
  /** ok: everything stored or dead-lettered; retry/config: `unsent` still needs sending. */
  outcome: Outcome;
  stored: number;
  storedBatches: number;
  duplicates: number;
  unsent: Batch[];
}

/**
 * Sends a batch; on 413 splits it and sends the halves (recursively). Batches the
 * server refuses as bad (and one-record batches still too large) go to `deadLetter`.
 */
export async function deliver(
  sub: Submitter,
  b: Batch,
  deadLetter: (b: Batch, why: string, conflict: boolean) => Promise<void>,
  signal?: AbortSignal,
): Promise<Delivery> {
  const d: Delivery = {
    outcome: { kind: "ok", duplicate: false },
    stored: 0,
    storedBatches: 0,
    duplicates: 0,
    unsent: [],
  };
  const todo: Batch[] = [b];
  while (todo.length > 0) {
    const cur = todo.shift()!;
    const r = await sub.post(cur, signal);
    if (r.kind === "ok") {
      d.stored += cur.records;
      d.storedBatches++;
      if (r.duplicate) d.duplicates++;
    } else if (r.kind === "split") {
      const halves = splitBatch(cur);
      if (halves === null) await deadLetter(cur, `too large even alone (${r.why})`, false);
      else todo.unshift(...halves);
    } else if (r.kind === "dead") {
      await deadLetter(cur, r.why, r.conflict === true);
    } else {
      d.outcome = r;
      d.unsent = [cur, ...todo];
      return d;
    }
  }
  return d;
}

/**
 * Delay before the next attempt: exponential from `baseMs` to `capMs` with jitter
 * (each delay drawn from [d/2, d]); Retry-After wins when the server sent one.
 */
export class Backoff {
  private n = 0;
  constructor(private readonly baseMs: number, private readonly capMs: number) {}
  reset(): void {
    this.n = 0;
  }
  next(retryAfterMs: number | null = null): number {
    if (retryAfterMs !== null) {
      this.n++;
      return retryAfterMs;
    }
    const d = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.n, 30));
    this.n++;
    return d / 2 + Math.random() * (d / 2);
  }
}
