import assert from "node:assert/strict";
import { type Batch, Batcher } from "../../src/submit/batch.ts";
import {
  Backoff,
  classifyResponse,
  deliver,
  parseRetryAfter,
  Submitter,
  type SubmitterOptions,
} from "../../src/submit/http.ts";
import {
  classifyClickHouseCode,
  clickHouseCode,
  toClickHouseRows,
} from "../../src/submit/clickhouse.ts";
import { FakeServer } from "./fake_server.ts";

function batch(n: number, run = "r1"): Batch {
  const out: Batch[] = [];
  const b = new Batcher("ag", run, { records: n, bytes: 1 << 24, seconds: 60 }, (x) => out.push(x));
  for (let i = 0; i < n; i++) b.add({ IPv4: { Identification: i } });
  return out[0];
}

const opts = (url: string, o: Partial<SubmitterOptions> = {}): SubmitterOptions => ({
  url,
  format: "ndjson",
  token: "",
  table: "netmon.records",
  gzip: false,
  timeoutMs: 10_000,
  ...o,
});

Deno.test("classifyResponse() maps every status class the issue names", () => {
  const k = (s: number, body = "", ra: string | null = null) =>
    classifyResponse(s, body, ra, "ndjson").kind;
  assert.equal(k(200), "ok");
  assert.equal(k(204), "ok");
  for (const s of [408, 429, 500, 502, 503, 504]) assert.equal(k(s), "retry", String(s));
  assert.equal(k(413), "split");
  assert.equal(k(400), "dead");
  assert.equal(k(422), "dead");
  for (const s of [401, 403, 404, 405, 415]) assert.equal(k(s), "config", String(s));
  const r = classifyResponse(503, "", "7", "ndjson");
  assert.equal(r.kind === "retry" && r.retryAfterMs, 7000);
  const dup = classifyResponse(200, '{"duplicate":true}', null, "ndjson");
  assert.equal(dup.kind === "ok" && dup.duplicate, true);
});

Deno.test("ClickHouse: the Code in the error body decides, the status only as a fallback", () => {
  const k = (s: number, body: string) => classifyResponse(s, body, null, "clickhouse").kind;
  const err = (c: number, name: string) =>
    `Code: ${c}. DB::Exception: something. (${name}) (version 24.1)`;
  assert.equal(k(500, err(27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED")), "dead");
  assert.equal(k(400, err(117, "INCORRECT_DATA")), "dead");
  assert.equal(k(404, err(60, "UNKNOWN_TABLE")), "config");
  assert.equal(k(500, err(60, "UNKNOWN_TABLE")), "config");
  assert.equal(k(403, err(516, "AUTHENTICATION_FAILED")), "config");
  assert.equal(k(500, err(252, "TOO_MANY_PARTS")), "retry");
  assert.equal(k(500, err(241, "MEMORY_LIMIT_EXCEEDED")), "retry");
  assert.equal(k(500, err(131, "TOO_LARGE_STRING_SIZE")), "split");
  assert.equal(k(500, err(1, "UNSUPPORTED_METHOD")), "retry"); // unknown code: by status
  assert.equal(k(400, err(1, "UNSUPPORTED_METHOD")), "dead");
  assert.equal(
    clickHouseCode("Code: 60, e.displayText() = DB::Exception: Table x doesn't exist"),
    60,
  );
  assert.equal(clickHouseCode("no code here"), null);
  assert.equal(classifyClickHouseCode(123456), null);
});

Deno.test("parseRetryAfter() takes seconds and HTTP dates, and caps them", () => {
  assert.equal(parseRetryAfter("3"), 3000);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("soon"), null);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now), 10_000);
  assert.equal(parseRetryAfter("999999"), 600_000);
});

Deno.test("Backoff grows exponentially with jitter between base and cap", () => {
  const b = new Backoff(1000, 60_000);
  const ds = Array.from({ length: 10 }, () => b.next());
  assert.ok(ds[0] >= 500 && ds[0] <= 1000);
  assert.ok(ds[3] >= 4000 && ds[3] <= 8000);
  assert.ok(ds[9] >= 30_000 && ds[9] <= 60_000);
  assert.equal(b.next(2500), 2500);
  b.reset();
  assert.ok(b.next() <= 1000);
});

Deno.test("toClickHouseRows() makes flat rows with the record as a JSON string", () => {
  const rows = new TextDecoder().decode(toClickHouseRows(batch(2))).trimEnd().split("\n");
  const r = JSON.parse(rows[1]);
  assert.deepEqual(Object.keys(r), [
    "Agent_ID",
    "Run_ID",
    "Sequence",
    "Batch",
    "Record_Type",
    "Record",
  ]);
  assert.equal(r.Sequence, 2);
  assert.deepEqual(JSON.parse(r.Record), { IPv4: { Identification: 1 } });
  // The exact bytes, built here from the records that went in (not by the code under test).
  const expected = [0, 1].map((i) =>
    JSON.stringify({
      Agent_ID: "ag",
      Run_ID: "r1",
      Sequence: i + 1,
      Batch: 1,
      Record_Type: "packet",
      Record: JSON.stringify({ IPv4: { Identification: i } }),
    }) + "\n"
  ).join("");
  const b = batch(2);
  assert.equal(new TextDecoder().decode(toClickHouseRows(b)), expected);
  // Into a reused buffer still holding an earlier request's bytes: the same bytes, in place.
  const scratch = new Uint8Array(1 << 16).fill(0x7b);
  const again = toClickHouseRows(b, scratch);
  assert.equal(again.buffer, scratch.buffer);
  assert.equal(new TextDecoder().decode(again), expected);
});

Deno.test("Submitter sends Idempotency-Key, bearer token, ndjson type and gzip", async () => {
  const srv = new FakeServer();
  try {
    const b = batch(3);
    const sub = new Submitter(opts(srv.url, { token: "s3cret", gzip: true }));
    const r = await sub.post(b);
    assert.equal(r.kind, "ok");
    const h = srv.seen[0].headers;
    assert.equal(h.get("idempotency-key"), "ag.r1.1");
    assert.equal(h.get("authorization"), "Bearer s3cret");
    assert.equal(h.get("content-type"), "application/x-ndjson");
    assert.equal(h.get("content-encoding"), "gzip");
    assert.equal(srv.seen[0].records, 3);
    const again = await sub.post(b);
    assert.equal(again.kind === "ok" && again.duplicate, true);
    assert.equal(srv.stored.length, 3);
  } finally {
    await srv.close();
  }
});

Deno.test("Submitter: a refused connection is a retry, flagged as a connection error", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const r = await new Submitter(opts(`http://127.0.0.1:${port}/`)).post(batch(1));
  assert.equal(r.kind, "retry");
  assert.equal(r.kind === "retry" && r.connection, true);
});

Deno.test("deliver() splits on 413 until the parts fit, dead-letters a single record too large", async () => {
  // Accept at most 2 records per request; the record with Identification 5 is always too large.
  const srv = new FakeServer((_n, _req, body) => {
    const lines = new TextDecoder().decode(body).trimEnd().split("\n");
    if (lines.length > 2) return new Response("too big", { status: 413 });
    if (lines.some((l) => l.includes('"Identification":5}'))) {
      return new Response("too big", { status: 413 });
    }
    return null;
  });
  try {
    const dead: Batch[] = [];
    const d = await deliver(new Submitter(opts(srv.url)), batch(7), (b) => {
      dead.push(b);
      return Promise.resolve();
    });
    assert.equal(d.outcome.kind, "ok");
    assert.equal(d.stored + dead.reduce((a, b) => a + b.records, 0), 7);
    assert.equal(dead.length, 1);
    assert.deepEqual(
      srv.stored.map((e) => e.Sequence).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 7], // sequence 6 carries Identification 5
    );
    // Part keys name their sequence range, so a resend of the same part dedups.
    assert.ok(srv.seen.some((s) => /^ag\.r1\.1\.\d+-\d+$/.test(s.key)));
  } finally {
    await srv.close();
  }
});

Deno.test("Submitter (clickhouse): INSERT query, dedup token, and a retry without it on old servers", async () => {
  const srv = new FakeServer((_n, req) => {
    const u = new URL(req.url);
    if (u.searchParams.has("insert_deduplication_token")) {
      return new Response(
        "Code: 115, e.displayText() = DB::Exception: Unknown setting insert_deduplication_token",
        { status: 500 },
      );
    }
    return new Response("", { status: 200 });
  });
  try {
    const sub = new Submitter(opts(srv.url, { format: "clickhouse", table: "db1.recs" }));
    assert.equal((await sub.post(batch(2))).kind, "ok");
    assert.equal(srv.seen.length, 2);
    const q = new URL(srv.seen[1].url).searchParams.get("query");
    assert.equal(q, "INSERT INTO db1.recs FORMAT JSONEachRow");
    assert.equal((await sub.post(batch(2))).kind, "ok");
    assert.equal(srv.seen.length, 3);
  } finally {
    await srv.close();
  }
});

Deno.test("Submitter turns user:password in the URL into Basic auth", async () => {
  const srv = new FakeServer();
  try {
    const u = new URL(srv.url);
    u.username = "default";
    u.password = "pw";
    await new Submitter(opts(u.toString())).post(batch(1));
    assert.equal(srv.seen[0].headers.get("authorization"), "Basic " + btoa("default:pw"));
  } finally {
    await srv.close();
  }
});
