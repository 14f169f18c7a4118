import assert from "node:assert/strict";
import { runNetmon } from "./helpers/run.ts";

Deno.test("netmon --help lists every subcommand", async () => {
  const r = await runNetmon(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["capture", "proc", "interfaces", "gateways", "config", "serve", "spool"]) {
    assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  }
});

Deno.test("an unknown option exits 2 with one line and no stack trace", async () => {
  const r = await runNetmon(["capture", "--bogus"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

Deno.test("a bad number exits 2 naming the option", async () => {
  const r = await runNetmon(["capture", "-r", "x.pcap", "--count", "abc"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /count/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
