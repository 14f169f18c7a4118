/**
 * Format clickhouse against a real ClickHouse (Debian's clickhouse-server, started by
 * the test on 127.0.0.1 with its own config and data directory). Skips with a clear
 * message where it is not installed; the format and error codes are also covered by
 * http_test.ts against a fake that answers like ClickHouse.
 */
import assert from "node:assert/strict";
import { runNetmon } from "../helpers/run.ts";
import { clickHouseDdl } from "../../src/submit/clickhouse.ts";
import { ClickHouse, clickHouseMissing } from "./clickhouse_server.ts";
import { summaryNumbers, writeUdpPcap } from "./helpers.ts";

const missing = clickHouseMissing();
if (missing) console.log(`clickhouse_test: skipped: ${missing}`);

Deno.test({
  name:
    "clickhouse: replay arrives exactly once; bad rows dead-lettered; unknown table is a config error",
  ignore: missing !== null,
  fn: async () => {
    const ch = await ClickHouse.start();
    const dir = await Deno.makeTempDir({ prefix: "netmon-ch-" });
    try {
      await ch.query("CREATE DATABASE IF NOT EXISTS netmon");
      await ch.query(clickHouseDdl("netmon.records"));
      const pcap = `${dir}/in.pcap`;
      await writeUdpPcap(pcap, 30_000);
      const agent = (spool: string, ...extra: string[]) =>
        runNetmon([
          "capture",
          "-r",
          pcap,
          "--server",
          ch.url,
          "--format",
          "clickhouse",
          "--spool",
          spool,
          "--retry-interval",
          "0.2",
          "--grace",
          "2",
          ...extra,
        ]);

      const r = await agent(`${dir}/s1`);
      assert.equal(r.code, 0, r.stderr);
      const n = summaryNumbers(r.stderr);
      assert.equal(n.accepted, 30_016);
      assert.equal(n.shipped, n.accepted);
      const [count, uniq, max] = (await ch.query(
        "SELECT count(), uniqExact(Run_ID, Sequence), max(Sequence) FROM netmon.records",
      )).trim().split("\t").map(Number);
      assert.deepEqual([count, uniq, max], [30_016, 30_016, 30_016]);

      // Unknown table: Code 60 -> configuration error, everything stays in the spool.
      const cfg = await agent(`${dir}/s2`, "--table", "netmon.nope", "-c", "1000", "--no-flows");
      assert.equal(cfg.code, 0, cfg.stderr);
      assert.match(cfg.stderr, /Code: 60.*configuration error/);
      assert.match(cfg.stderr, /1000 records waiting in spool/);

      // A table whose Record column cannot take the rows: Code 27 -> dead letter, no retry.
      await ch.query(
        "CREATE TABLE netmon.bad (Agent_ID String, Run_ID String, Sequence UInt64, Batch UInt64, " +
          "Record_Type String, Record UInt8) ENGINE = MergeTree ORDER BY Sequence",
      );
      const bad = await agent(`${dir}/s3`, "--table", "netmon.bad", "-c", "500", "--no-flows");
      assert.equal(bad.code, 0, bad.stderr);
      assert.match(bad.stderr, /500 records \(1 batches\) refused by the server as bad/);
      const dead = await Deno.readTextFile(`${dir}/s3/dead-letter.jsonl`);
      assert.equal(dead.trimEnd().split("\n").length, 500);
      assert.match(bad.stderr, /spool .* is empty/);
    } finally {
      await ch.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
