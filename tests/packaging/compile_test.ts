/**
 * `deno task compile`: the single binary. `deno compile` downloads its runtime (denort)
 * the first time; without network it cannot build, and this test is then ignored with the
 * reason printed. When it builds, the binary must run with no Deno and no permission flags:
 * `--help` and a capture file replay agreeing with `deno run main.ts`.
 *
 * The task's own command line is used, with --output pointed at a temporary directory.
 */
import assert from "node:assert/strict";
import { MAIN, PCAPS, ROOT, run, runNetmon } from "../helpers/run.ts";
import { reason, runtimeDownloadFailed, taskWords } from "./helpers.ts";
import { gated } from "../helpers/skip.ts";

/** Bound on the build: a download on a slow link, never an endless wait. */
const BUILD_TIMEOUT_MS = 150_000;

const dir = await Deno.makeTempDir({ prefix: "netmon-compile-" });
const binary = `${dir}/netmon`;

/** Builds with the task's command; returns null on success or why it was skipped. */
async function build(): Promise<{ skip: string | null; error: string | null }> {
  const words = taskWords("compile");
  assert.equal(words[0], "deno");
  assert.equal(words[1], "compile");
  assert.ok(words.includes("-A") || words.includes("--allow-all"), "permissions baked in (-A)");
  const out = words.indexOf("--output");
  assert.ok(out > 0, "the task names its --output");
  const args = [...words.slice(1, out + 1), binary, ...words.slice(out + 2)];
  const r = await run([Deno.execPath(), ...args], { cwd: ROOT, timeoutMs: BUILD_TIMEOUT_MS });
  if (r.code === 0) return { skip: null, error: null };
  if (runtimeDownloadFailed(r.stderr)) {
    return {
      skip: `deno compile could not download its runtime: ${reason(r.stderr)}`,
      error: null,
    };
  }
  return { skip: null, error: r.stderr };
}

const built = await build();

Deno.test(gated({
  name: "deno task compile builds ./netmon that runs --help and capture -r without Deno",
  needs: built.skip === null
    ? null
    : `${built.skip} (offline: \`deno task bundle\` is the offline single-file build)`,
  fn: async () => {
    try {
      assert.equal(built.error, null, `deno compile failed:\n${built.error}`);
      const help = await run([binary, "--help"], { cwd: dir });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /Usage: netmon/);
      for (const c of ["capture", "interfaces", "gateways", "config"]) {
        assert.match(help.stdout, new RegExp(`\\b${c}\\b`));
      }
      const pcap = `${PCAPS}dns_udp.pcap`;
      const got = await run([binary, "capture", "-r", pcap, "--json"], { cwd: dir });
      const want = await runNetmon(["capture", "-r", pcap, "--json"]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.stdout, want.stdout);
      assert.equal(got.stdout.trim().split("\n").length, 2);
      assert.ok(MAIN.endsWith("main.ts"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));

if (built.skip) await Deno.remove(dir, { recursive: true });
