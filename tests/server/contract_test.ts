/**
 * Issue 11, the server's side of the contract: Idempotency-Key with a body hash (item 3),
 * also for a database of the previous layout, strict query parameters, HEAD, multi-member gzip and
 * the bearer scheme (item 10), private database files (item 14). `netmon serve` runs as a
 * subprocess; oracles: curl and fetch, `stat` modes from the kernel, and a database
 * written with the previous release's DDL.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { run } from "../helpers/run.ts";
import {
  concat,
  gzip,
  post,
  RawClient,
  recordLine as line,
  ServeProcess,
  sleep,
  statuses,
  withServe,
} from "./helpers.ts";

const body = (from: number, n: number, run = "r1") =>
  Array.from({ length: n }, (_, i) => line(from + i, run)).join("\n") + "\n";

Deno.test("issue 11 item 3: a reused Idempotency-Key with another body answers 422; the same body is a duplicate", async () => {
  await withServe([], async (srv) => {
    const a = body(1, 3);
    assert.equal((await post(srv.url, a, { "Idempotency-Key": "ag.r1.1" })).status, 200);
    const again = await post(srv.url, a, { "Idempotency-Key": "ag.r1.1" });
    assert.deepEqual([again.status, again.json], [200, { duplicate: true, stored: 0 }]);
    // Same decoded bytes, sent gzipped: still the same body.
    const gz = await post(srv.url, gzip(a), {
      "Idempotency-Key": "ag.r1.1",
      "Content-Encoding": "gzip",
    });
    assert.equal(gz.json.duplicate, true);
    const other = await post(srv.url, body(4, 2), { "Idempotency-Key": "ag.r1.1" });
    assert.equal(other.status, 422);
    assert.match(
      other.json.error,
      /Idempotency-Key "ag\.r1\.1" was already used for a different body/,
    );
    const stats = await srv.stats();
    assert.equal(stats.records, 3);
    assert.equal(stats.duplicate_batches, 2);
    assert.equal(stats.mismatched_keys, 1);
    // Two different bodies racing with one new key: one stored, the other 422.
    const race = await Promise.all([
      post(srv.url, body(10, 500, "race"), { "Idempotency-Key": "race" }),
      post(srv.url, body(20, 500, "race"), { "Idempotency-Key": "race" }),
    ]);
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 422]);
    assert.equal((await srv.stats()).records, 503);
  });
});

/** The 0.1 layout of the database, as `netmon serve` created it before this change. */
const OLD_LAYOUT = `
CREATE TABLE batches (id INTEGER PRIMARY KEY, idem_key TEXT UNIQUE, records INTEGER NOT NULL,
  bytes INTEGER NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE records (id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, agent_id TEXT,
  run_id TEXT, seq INTEGER, record_type TEXT, body TEXT NOT NULL);
CREATE INDEX records_by_seq ON records(agent_id, run_id, seq);
INSERT INTO batches VALUES (1, 'old.1', 2, 100, '2026-01-01T00:00:00.000Z');
INSERT INTO records VALUES (1, 1, 'ag', 'old', 1, 'packet', '{"A":1,"Netmon":{"Run_ID":"old","Sequence":1}}');
INSERT INTO records VALUES (2, 1, 'ag', 'old', 2, 'packet', '{"A":2,"Netmon":{"Run_ID":"old","Sequence":2}}');
`;

Deno.test("issue 11 item 3: a database of the previous layout keeps its data and its keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-serve-" });
  const db = `${dir}/old.sqlite`;
  const old = new DatabaseSync(db);
  old.exec("PRAGMA journal_mode=WAL");
  old.exec(OLD_LAYOUT);
  old.close();
  let srv: ServeProcess | null = null;
  try {
    for (let start = 0; start < 2; start++) {
      srv = await ServeProcess.start(db);
      const stats = await srv.stats();
      assert.equal(stats.records, start === 0 ? 2 : 3);
      const page = await (await fetch(`${srv.url}api/records`)).json();
      assert.equal(page.records[0].record.A, 1);
      assert.equal(page.records[0].record.Netmon.Sequence, 1);
      // A key stored before hashes existed: a resend is a duplicate (no hash to compare).
      const dup = await post(srv.url, body(1, 2, "old"), { "Idempotency-Key": "old.1" });
      assert.equal(dup.json.duplicate, true, dup.text);
      if (start === 0) {
        const r = await post(srv.url, body(1, 1, "new"), { "Idempotency-Key": "new.1" });
        assert.equal(r.status, 200, r.text);
      }
      // A key stored with its hash: another body is refused, also after a restart.
      const other = await post(srv.url, body(5, 1, "new"), { "Idempotency-Key": "new.1" });
      assert.equal(other.status, 422, other.text);
      await srv.stop();
      srv = null;
    }
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 11 item 10: bad query parameters answer 400 naming the parameter", async () => {
  await withServe([], async (srv) => {
    await post(srv.url, body(1, 3));
    const cases: [string, RegExp][] = [
      ["limit=-1", /^limit: expected an integer 1\.\.10000, got -1$/],
      ["limit=0", /^limit: /],
      ["limit=10001", /^limit: /],
      ["limit=abc", /^limit: expected an integer 1\.\.10000, got 'abc'$/],
      ["limit=", /^limit: /],
      ["limit=1.5", /^limit: /],
      ["after=abc", /^after: expected an integer >= 0, got 'abc'$/],
      ["after=Infinity", /^after: /],
      ["after=-5", /^after: /],
      ["after=1e3", /^after: /],
      ["after=99999999999999999999", /^after: /],
      ["limit=1&limit=2", /^parameter 'limit' given twice$/],
      ["limt=5", /^unknown parameter 'limt'; did you mean limit\? \(allowed: limit, after\)$/],
    ];
    for (const [q, want] of cases) {
      const r = await fetch(`${srv.url}api/records?${q}`);
      const text = await r.text();
      assert.equal(r.status, 400, `${q}: ${text}`);
      assert.match(JSON.parse(text).error, want, q);
    }
    const all = await (await fetch(`${srv.url}api/records`)).json();
    assert.equal(all.records.length, 3);
    const ok = await (await fetch(`${srv.url}api/records?limit=2&after=${all.records[0].id}`))
      .json();
    assert.deepEqual(
      ok.records.map((x: { id: number }) => x.id),
      all.records.slice(1).map((x: { id: number }) => x.id),
    );
    assert.equal(ok.next, all.records[2].id);
  });
});

Deno.test("issue 11 item 10: HEAD is answered wherever GET is, without a body", async () => {
  await withServe([], async (srv) => {
    for (const path of ["api/stats", "api/health", "api/records?limit=1"]) {
      const get = await (await fetch(`${srv.url}${path}`)).text();
      const c = await RawClient.connect(srv.port);
      await c.write(`HEAD /${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      await c.closedWithin(5000);
      const raw = c.text();
      c.close();
      assert.deepEqual(statuses(raw), [200], raw);
      const [head, rest] = raw.split("\r\n\r\n");
      assert.equal(rest, "", `HEAD /${path} sent a body`);
      // /api/stats changes between the two requests (connection counters): length only.
      const length = path === "api/stats" ? "\\d+" : String(new TextEncoder().encode(get).length);
      assert.match(head, new RegExp(`^content-length: ${length}$`, "m"));
      const curl = await run(["curl", "-sS", "-I", `${srv.url}${path}`]);
      assert.match(curl.stdout, /^HTTP\/1\.1 200 OK/);
    }
    const post405 = await fetch(`${srv.url}api/stats`, { method: "POST", body: "x" });
    assert.equal(post405.status, 405);
    assert.equal(post405.headers.get("allow"), "GET, HEAD");
    await post405.body?.cancel();
  });
});

Deno.test("issue 11 item 10: a gzip body of several members (RFC 1952) is decoded whole", async () => {
  await withServe([], async (srv) => {
    const members = concat(gzip(body(1, 2)), gzip(body(3, 1)), gzip(body(4, 3)));
    const r = await post(srv.url, members, { "Content-Encoding": "gzip", "Idempotency-Key": "m" });
    assert.deepEqual([r.status, r.json], [200, { stored: 6 }]);
    const bad = await post(srv.url, concat(gzip(body(1, 1)), new Uint8Array([1, 2, 3])), {
      "Content-Encoding": "gzip",
    });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /^body is not valid gzip/);
    const br = await post(srv.url, "x", { "Content-Encoding": "br" });
    assert.equal(br.status, 415);
  });
});

Deno.test("issue 11 item 10: the bearer scheme is case-insensitive; anything but the token is refused", async () => {
  await withServe(["--token", "s3cret-token"], async (srv) => {
    const status = async (auth: string | null) => {
      const headers: Record<string, string> = auth === null ? {} : { authorization: auth };
      const r = await fetch(`${srv.url}api/health`, { headers });
      await r.body?.cancel();
      return r.status;
    };
    for (const ok of ["Bearer s3cret-token", "bearer s3cret-token", "BEARER  s3cret-token"]) {
      assert.equal(await status(ok), 200, ok);
    }
    for (
      const bad of [
        null,
        "Bearer s3cret-toke",
        "Bearer s3cret-token2",
        "Bearer S3CRET-TOKEN",
        "Basic s3cret-token",
        "Bearers3cret-token",
        "Bearer s3cret-token extra",
        "s3cret-token",
      ]
    ) {
      assert.equal(await status(bad), 401, String(bad));
    }
  });
});

Deno.test("issue 11 item 14: the database, its -wal and -shm are 0600 and new directories 0700, whatever the umask", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-serve-" });
  const db = `${dir}/new/sub/db.sqlite`;
  let srv: ServeProcess | null = null;
  try {
    await Deno.chmod(dir, 0o755);
    srv = await ServeProcess.start(db, 0, [], {
      prefix: ["sh", "-c", 'umask 000; exec "$@"', "sh"],
    });
    assert.equal((await post(srv.url, body(1, 2))).status, 200);
    const mode = async (p: string) => ((await Deno.stat(p)).mode ?? 0) & 0o777;
    assert.equal(await mode(`${dir}/new`), 0o700);
    assert.equal(await mode(`${dir}/new/sub`), 0o700);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) assert.equal(await mode(f), 0o600, f);
    assert.equal(await mode(dir), 0o755, "an existing directory keeps its mode");
    await srv.stop();
    // A database left readable by others is reported at start.
    await Deno.chmod(db, 0o644);
    srv = await ServeProcess.start(db);
    await sleep(100);
    assert.match(srv.log.join(""), /is readable by other users \(mode 0644\); chmod 600/);
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
