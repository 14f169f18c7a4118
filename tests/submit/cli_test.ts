import assert from "node:assert/strict";
import { PCAPS, runNetmon } from "../helpers/run.ts";

Deno.test("capture rejects a bad --server URL and a bad ClickHouse --table with one line, exit 2", async () => {
  const a = await runNetmon(["capture", "-r", `${PCAPS}DTP.pcap`, "--server", "ftp://x/"]);
  assert.equal(a.code, 2);
  assert.equal(a.stderr.trim().split("\n").length, 1);
  const b = await runNetmon([
    "capture",
    "-r",
    `${PCAPS}DTP.pcap`,
    "--server",
    "http://127.0.0.1:1/",
    "--format",
    "clickhouse",
    "--table",
    "t; DROP TABLE x",
  ]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--table: want \[database\.\]table/);
});

Deno.test("spool status shows what is waiting; spool drain needs --server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-spoolcli-" });
  try {
    const r = await runNetmon(["capture", "-r", `${PCAPS}DTP.pcap`, "--spool", dir, "--no-flows"]);
    assert.equal(r.code, 0, r.stderr);
    const n = Number(/(\d+) records waiting in spool/.exec(r.stderr)?.[1]);
    assert.ok(n > 0);
    const s = await runNetmon(["spool", "status", "--spool", dir]);
    assert.equal(s.code, 0);
    assert.match(s.stdout, new RegExp(`${n} records waiting in 1 segments`));
    const d = await runNetmon(["spool", "drain", "--spool", dir]);
    assert.equal(d.code, 2);
    assert.match(d.stderr, /give --server URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
