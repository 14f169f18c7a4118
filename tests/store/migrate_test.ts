/**
 * Schema versions: a database written by netmon 0.1 (fixtures/store/v1.sqlite) is
 * migrated by a real `netmon serve` without loss; adding a column is one schema line
 * with `since` and the migration fills it from the stored records.
 */
import assert from "node:assert/strict";
import { api, ServeProcess } from "./helpers.ts";
import { FIXTURES, run } from "../helpers/run.ts";
import { stripEnvelope } from "../../src/store/ingest.ts";
import { type Column, SCHEMA, type StoreSchema } from "../../src/store/schema.ts";
import { openSqlite } from "../../src/store/sqlite.ts";
import { top } from "../../src/query/engine.ts";
import { DEFAULT_LIMITS, parseAggregate } from "../../src/query/request.ts";

async function sqlite(db: string, sql: string): Promise<string[][]> {
  const r = await run(["sqlite3", "-separator", "\t", db, sql]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
}

Deno.test("store: a netmon 0.1 database is migrated without loss", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-migrate-" });
  let srv: ServeProcess | null = null;
  try {
    const db = `${dir}/db.sqlite`;
    await Deno.copyFile(`${FIXTURES}store/v1.sqlite`, db);
    // The oracle: the old table, read with the sqlite3 CLI before netmon touches it.
    const old = await sqlite(
      db,
      "SELECT agent_id, run_id, seq, record_type, body FROM records ORDER BY id",
    );
    assert.equal(old.length, 22);
    const keys = await sqlite(db, "SELECT idem_key FROM batches WHERE idem_key IS NOT NULL");
    srv = await ServeProcess.start(db);
    const st = await api<Record<string, number>>(srv.url, "api/stats");
    assert.equal(st.body.schema_version, 2);
    assert.equal(st.body.records, 22);
    assert.equal(st.body.batches, 3);
    let keyed = 0;
    const unkeyed: string[] = [];
    for (const [agent, runId, seq, type, body] of old) {
      const want = JSON.parse(stripEnvelope(body));
      if (agent === "") {
        unkeyed.push(JSON.stringify(want));
        continue;
      }
      const table = type === "flow" ? "flows" : "packets";
      const s: ServeProcess = srv;
      const r: { status: number; body: { record: unknown } } = await api(
        s.url,
        `api/${table}/${agent}.${runId}.${seq}`,
      );
      assert.equal(r.status, 200, `${agent}.${runId}.${seq}`);
      assert.deepEqual(r.body.record, want);
      keyed++;
    }
    assert.equal(keyed, 20);
    // Lines without an envelope are kept too (legacy paging shows them).
    const page = await api<{ records: { record: Record<string, unknown> }[] }>(
      srv.url,
      "api/records",
      { limit: 100 },
    );
    const got = page.body.records.map((x) => {
      const { Netmon: _, ...rest } = x.record;
      return JSON.stringify(rest);
    });
    for (const u of unkeyed) assert.ok(got.includes(u), u);
    assert.equal(page.body.records.length, 22);
    // The batch keys survive: a resend is a duplicate.
    const again = await fetch(srv.url, {
      method: "POST",
      body: '{"x":1}\n',
      headers: { "Idempotency-Key": keys[0][0] },
    });
    assert.equal((await again.json()).duplicate, true);
    // Queries work on migrated rows.
    const t = await api<{ rows: { key: string; value: number }[] }>(srv.url, "api/top", {
      table: "packets",
      by: "Source_Address",
      metric: "packets",
      from: 1591780000,
      to: 1591790000,
      filter: '{"TCP":{}}',
    });
    assert.deepEqual(t.body.rows.map((r) => r.key).sort(), ["192.168.1.11", "209.87.249.18"]);
    await srv.stop();
    srv = null;
    const tables =
      (await sqlite(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
        .flat();
    assert.ok(!tables.includes("records"), "the old table is gone");
    assert.deepEqual((await sqlite(db, "PRAGMA integrity_check")).flat(), ["ok"]);
    assert.deepEqual((await sqlite(db, "PRAGMA auto_vacuum")).flat(), ["2"]);
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

const WIDE = { ...DEFAULT_LIMITS, maxRangeSeconds: 2e9 };

Deno.test("store: a new column is one schema line; the migration fills it from the records", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-column-" });
  try {
    const db = `${dir}/db.sqlite`;
    await Deno.copyFile(`${FIXTURES}store/v1.sqlite`, db);
    (await openSqlite({ path: db })).close();
    // Version 3 adds one column: the TCP window of packets (a dimension).
    const extra: Column = {
      name: "Window",
      type: "UInt16",
      nullable: true,
      read: (r) => (r.TCP as Record<string, unknown> | undefined)?.Window,
      from: [["TCP", "Window"]],
      dimension: true,
      since: 3,
      doc: "TCP window (test column)",
    };
    const v3: StoreSchema = {
      ...SCHEMA,
      version: 3,
      packets: { ...SCHEMA.packets, columns: [...SCHEMA.packets.columns, extra] },
    };
    const s = openSqlite({ path: db, schema: v3 });
    try {
      const versions = await sqlite(db, "SELECT version FROM schema_version ORDER BY version");
      assert.deepEqual(versions.flat(), ["1", "2", "3"]);
      const rows = await sqlite(
        db,
        "SELECT p.Window, r.Record FROM packets p JOIN packet_records r ON r.id = p.id",
      );
      let tcp = 0;
      for (const [w, rec] of rows) {
        const want = JSON.parse(rec).TCP?.Window;
        assert.equal(w, want === undefined ? "" : String(want));
        if (want !== undefined) tcp++;
      }
      assert.equal(tcp, 11);
      // The new column is a dimension and filters on it run in SQL.
      const req = parseAggregate(
        new URL(
          "http://x/api/top?table=packets&by=Window&metric=packets&from=0&to=2000000000&filter=%7B%22TCP%22%3A%7B%22Window%22%3A%2264000-65535%22%7D%7D",
        ),
        "top",
        v3,
        WIDE,
      );
      const a = await top(s, req, WIDE);
      const want = new Map<number, number>();
      for (const [, rec] of rows) {
        const w = JSON.parse(rec).TCP?.Window;
        if (w !== undefined && w >= 64000) want.set(w, (want.get(w) ?? 0) + 1);
      }
      assert.deepEqual(new Map(a.rows.map((r) => [r.key, r.value])), want);
    } finally {
      await s.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
