/**
 * `deno task bundle` (scripts/bundle.ts): one JavaScript file with every dependency inlined
 * that `deno run -A` executes from any directory, with no deno.json and no npm access.
 * Its first run fetches esbuild from the npm registry; without it the test is ignored with
 * the reason printed.
 */
import assert from "node:assert/strict";
import { PCAPS, ROOT, run, runNetmon } from "../helpers/run.ts";
import { looksOffline, reason, taskWords } from "./helpers.ts";

const BUILD_TIMEOUT_MS = 150_000;

const dir = await Deno.makeTempDir({ prefix: "netmon-bundle-" });
const js = `${dir}/netmon.js`;

async function build(): Promise<{ skip: string | null; error: string | null }> {
  const words = taskWords("bundle");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.ok(words.includes("scripts/bundle.ts"));
  const r = await run([Deno.execPath(), ...words.slice(1), js], {
    cwd: ROOT,
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  if (r.code === 0) return { skip: null, error: null };
  if (looksOffline(r.stderr)) {
    return { skip: `deno bundle could not fetch esbuild: ${reason(r.stderr)}`, error: null };
  }
  return { skip: null, error: r.stderr };
}

const built = await build();
if (built.skip) console.log(`tests/packaging/bundle_test.ts: SKIPPED (offline): ${built.skip}`);

/** Runs the bundle from its own directory, away from the repository's deno.json. */
async function runBundle(args: string[]) {
  return await run([Deno.execPath(), "run", "-A", "--no-config", js, ...args], { cwd: dir });
}

Deno.test({
  name:
    "deno task bundle builds one JS file that deno run -A executes: --help, capture -r, interfaces",
  ignore: built.skip !== null,
  fn: async () => {
    try {
      assert.equal(built.error, null, `bundle failed:\n${built.error}`);
      const text = await Deno.readTextFile(js);
      assert.ok(text.startsWith("#!/usr/bin/env -S deno run -A\n"));
      assert.doesNotMatch(text, /from\s*["']npm:/, "npm packages are inlined");
      assert.doesNotMatch(text, /from\s*["']\.{1,2}\//, "no relative imports left");

      const help = await runBundle(["--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /Usage: netmon/);

      const pcap = `${PCAPS}dns_udp.pcap`;
      const got = await runBundle(["capture", "-r", pcap, "--json"]);
      const want = await runNetmon(["capture", "-r", pcap, "--json"]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.stdout.trim().split("\n").length, 2);

      // FFI (netlink) and npm code (cli-table3) work from the bundle too.
      const ifs = await runBundle(["interfaces", "--json"]);
      assert.equal(ifs.code, 0, ifs.stderr);
      assert.ok(JSON.parse(ifs.stdout).some((i: { Name: string }) => i.Name === "lo"));
      const tpl = await runBundle(["config", "generate"]);
      assert.match(tpl.stdout, /^\[capture\]$/m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (built.skip) await Deno.remove(dir, { recursive: true });
