/**
 * `deno task bundle` (scripts/bundle.ts): one JavaScript file with every dependency inlined
 * that `deno run -A` executes from any directory, with no deno.json and no npm access.
 * `deno bundle` needs esbuild from the npm registry, which scripts/setup.sh fetches into
 * Deno's cache: the test runs offline and is never skipped; a failed build fails it.
 */
import assert from "node:assert/strict";
import { PCAPS, ROOT, run, runNetmon } from "../helpers/run.ts";
import { taskWords } from "./helpers.ts";

const BUILD_TIMEOUT_MS = 150_000;

const dir = await Deno.makeTempDir({ prefix: "netmon-bundle-" });
const js = `${dir}/netmon.js`;

/** Builds with the task's command; returns the build's error output, or null. */
async function build(): Promise<string | null> {
  const words = taskWords("bundle");
  assert.deepEqual(words.slice(0, 2), ["deno", "run"]);
  assert.ok(words.includes("scripts/bundle.ts"));
  const r = await run([Deno.execPath(), ...words.slice(1), js], {
    cwd: ROOT,
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  return r.code === 0 ? null : r.stderr;
}

const built = await build();

/** Runs the bundle from its own directory, away from the repository's deno.json. */
async function runBundle(args: string[]) {
  return await run([Deno.execPath(), "run", "-A", "--no-config", js, ...args], { cwd: dir });
}

Deno.test({
  name:
    "deno task bundle builds one JS file that deno run -A executes: --help, capture -r, interfaces",
  fn: async () => {
    try {
      assert.equal(built, null, `bundle failed (scripts/setup.sh fetches esbuild):\n${built}`);
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
