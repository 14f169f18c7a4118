/**
 * `deno task mutate [MODULE...] [--concurrency N]`: mutation testing of the modules that
 * carry netmon's guarantees, with StrykerJS (`@stryker-mutator/core`, installed on
 * demand under tools/mutate/ with `npm ci`). Stryker's command runner runs `deno test`
 * on each module's focused test files once per mutant; a mutant that every test survives
 * is a hole in the tests (or an equivalent mutant, listed in docs/mutation.md).
 *
 * Prints one line per module: mutants, killed (incl. timeouts), survived, score; the
 * JSON reports go to reports/mutation/MODULE.json. With no MODULE every module runs.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;
const TOOL = `${ROOT}tools/mutate/`;

interface Module {
  /** Files mutated. */
  mutate: string[];
  /**
   * Focused test files: fast, in-process where they can be, and none that measures the
   * code itself (filter/alloc_test.ts: Stryker's instrumented copy allocates).
   */
  tests: string[];
}

/** The modules that carry guarantees, and the tests that guard each. */
export const MODULES: Record<string, Module> = {
  "filter-compile": {
    mutate: ["src/filter/compile.ts"],
    tests: [
      "tests/filter/match_test.ts",
      "tests/filter/errors_test.ts",
      "tests/filter/cidr_test.ts",
    ],
  },
  checksum: {
    mutate: ["src/decode/checksum.ts"],
    tests: ["tests/decode/checksum_test.ts", "tests/decode/l3/decoders_test.ts"],
  },
  "community-id": {
    mutate: ["src/flow/community_id.ts", "src/flow/sha1.ts"],
    tests: ["tests/flow/community_id_test.ts", "tests/flow/sha1_test.ts"],
  },
  "flow-tracker": {
    mutate: ["src/flow/tracker.ts"],
    tests: ["tests/flow/tracker_test.ts"],
  },
  "config-precedence": {
    mutate: ["src/config/load.ts"],
    tests: [
      "tests/config/load_test.ts",
      "tests/config/resolve_test.ts",
      "tests/config/defaults_test.ts",
      "tests/config/values_test.ts",
    ],
  },
  spool: {
    mutate: ["src/submit/spool.ts"],
    tests: ["tests/submit/spool_test.ts"],
  },
  shipper: {
    mutate: ["src/submit/shipper.ts"],
    tests: ["tests/submit/shipper_test.ts"],
  },
};

function fail(msg: string): never {
  console.error(`mutate: ${msg}`);
  Deno.exit(2);
}

async function sh(cmd: string, args: string[], cwd: string): Promise<number> {
  const r = await new Deno.Command(cmd, { args, cwd, stdout: "inherit", stderr: "inherit" })
    .output();
  return r.code;
}

interface Report {
  files: Record<string, { mutants: { status: string; mutatorName: string; location: unknown }[] }>;
}

function score(report: Report): { total: number; killed: number; survived: number; other: number } {
  let total = 0, killed = 0, survived = 0, other = 0;
  for (const f of Object.values(report.files)) {
    for (const m of f.mutants) {
      total++;
      if (m.status === "Killed" || m.status === "Timeout") killed++;
      else if (m.status === "Survived" || m.status === "NoCoverage") survived++;
      else other++; // CompileError, RuntimeError, Ignored
    }
  }
  return { total, killed, survived, other };
}

if (import.meta.main) {
  const args = [...Deno.args];
  let concurrency = 2;
  const ci = args.indexOf("--concurrency");
  if (ci >= 0) {
    concurrency = Number(args[ci + 1]);
    if (!Number.isInteger(concurrency) || concurrency < 1) fail("--concurrency needs a number");
    args.splice(ci, 2);
  }
  const names = args.length > 0 ? args : Object.keys(MODULES);
  for (const n of names) {
    if (!(n in MODULES)) fail(`unknown module '${n}' (known: ${Object.keys(MODULES).join(", ")})`);
  }
  const stryker = `${TOOL}node_modules/.bin/stryker`;
  try {
    await Deno.stat(stryker);
  } catch {
    console.error("mutate: installing StrykerJS under tools/mutate/ (npm ci)");
    if (await sh("npm", ["ci", "--no-audit", "--no-fund"], TOOL) !== 0) fail("npm ci failed");
  }
  await Deno.mkdir(`${ROOT}reports/mutation`, { recursive: true });
  const lines: string[] = [];
  for (const name of names) {
    const m = MODULES[name];
    const report = `${ROOT}reports/mutation/${name}.json`;
    const config = {
      testRunner: "command",
      commandRunner: {
        command: `deno test -A --no-check ${m.tests.join(" ")}`,
      },
      mutate: m.mutate,
      coverageAnalysis: "off",
      concurrency,
      reporters: ["clear-text", "progress", "json"],
      jsonReporter: { fileName: report },
      // The sandbox is a copy of the repository without these.
      ignorePatterns: ["dist", "reports", "bench/out", "tools", ".git"],
      tempDirName: ".stryker-tmp",
      cleanTempDir: true,
      timeoutMS: 30_000,
    };
    const file = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(file, JSON.stringify(config));
    const started = Date.now();
    const code = await sh(stryker, ["run", file], ROOT);
    await Deno.remove(file);
    if (code !== 0) fail(`stryker failed on ${name} (exit ${code})`);
    const s = score(JSON.parse(await Deno.readTextFile(report)));
    const pct = s.killed + s.survived === 0 ? 100 : (100 * s.killed) / (s.killed + s.survived);
    lines.push(
      `${name.padEnd(18)} ${String(s.total).padStart(5)} mutants  ${
        String(s.killed).padStart(5)
      } killed  ${String(s.survived).padStart(4)} survived  ${pct.toFixed(1).padStart(5)}%  (${
        Math.round((Date.now() - started) / 1000)
      } s)`,
    );
  }
  console.log("\nmutation score (killed / (killed + survived)):");
  for (const l of lines) console.log(`  ${l}`);
}
