/**
 * `netmon config generate | validate | show` and `--config` on `netmon capture`, end to end:
 * the round trip generate -> validate -> capture with it -> show, and every error path
 * (exit 2, one line, FILE:LINE).
 */
import assert from "node:assert/strict";
import { PCAPS, runNetmon } from "../helpers/run.ts";

const PCAP = `${PCAPS}dns_udp.pcap`;
const DROP_DNS = '{"UDP": {"Port": 53}}';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netmon-config-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts a usage error: exit 2, one line on stderr, no stack trace, matching `re`. */
function assertUsage(r: { code: number; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
  assert.match(r.stderr, re);
}

function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((l) => l.startsWith(needle)) + 1;
}

Deno.test("config round trip: generate -> validate -> capture --config -> show", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/netmon.ini`;
    const gen = await runNetmon(["config", "generate", file]);
    assert.equal(gen.code, 0, gen.stderr);
    const text = await Deno.readTextFile(file);
    const stdout = await runNetmon(["config", "generate"]);
    assert.equal(stdout.stdout, text, "FILE and stdout get the same template");
    assert.match(text, /^\[capture\]$/m);
    assert.match(text, /^; snaplen = 262144$/m);
    assert.match(text, /^; filter\[\] = /m);

    const again = await runNetmon(["config", "generate", file]);
    assertUsage(again, /exists \(use --force/);
    assert.equal(await Deno.readTextFile(file), text, "refused overwrite leaves the file alone");
    assert.equal((await runNetmon(["config", "generate", file, "--force"])).code, 0);

    const val = await runNetmon(["config", "validate", file]);
    assert.equal(val.code, 0, val.stderr);
    assert.match(val.stdout, /: ok \(0 settings set\)/);
    // Uncommented, the defaults are valid values too.
    await Deno.writeTextFile(file, text.replace(/^; (\w+) =/gm, "$1 ="));
    const all = await runNetmon(["config", "validate", file]);
    assert.equal(all.code, 0, all.stderr);
    await Deno.writeTextFile(file, text.replace(/^; snaplen =/m, "snaplen ="));

    const plain = await runNetmon(["capture", "-r", PCAP, "--json"]);
    const withCfg = await runNetmon(["capture", "-r", PCAP, "--config", file, "--json"]);
    assert.equal(withCfg.code, 0, withCfg.stderr);
    assert.equal(plain.stdout.trim().split("\n").length, 2);
    assert.equal(withCfg.stdout, plain.stdout, "the template holds the defaults");

    // The file takes effect: a repeated [filter] section adds an exclude that drops DNS.
    await Deno.writeTextFile(file, `\n[filter]\nexclude[] = ${DROP_DNS}\n[log]\n`, {
      append: true,
    });
    const excludeLine = lineOf(await Deno.readTextFile(file), "exclude[]");
    const dropped = await runNetmon(["capture", "-r", PCAP, "--config", file, "--json"]);
    assert.equal(dropped.code, 0, dropped.stderr);
    assert.equal(dropped.stdout.trim(), "");
    // A flag beats the file: --exclude replaces the file's list.
    const flag = await runNetmon([
      "capture",
      "-r",
      PCAP,
      "--config",
      file,
      "--exclude",
      '{"UDP": {"Port": 9}}',
      "--json",
    ]);
    assert.equal(flag.stdout, plain.stdout);

    const show = await runNetmon(["config", "show", "--config", file, "--json"], {
      env: { NETMON_LOG_LEVEL: "error" },
    });
    assert.equal(show.code, 0, show.stderr);
    const s = JSON.parse(show.stdout);
    assert.deepEqual(s.filter.exclude, {
      Value: [DROP_DNS],
      Source: "file",
      Origin: `${file}:${excludeLine}`,
    });
    assert.deepEqual(s.log.level, { Value: "error", Source: "env", Origin: "NETMON_LOG_LEVEL" });
    assert.equal(s.capture.snaplen.Source, "file");
    assert.equal(s.spool.dir.Source, "default");
    const table = await runNetmon(["config", "show", "--config", file]);
    assert.match(
      table.stdout,
      /│ filter\s+│ exclude\s+│ \{"UDP": \{"Port": 53\}\}\s+│ file \(.*:\d+\)/,
    );
  });
});

Deno.test("config show hides the server token", async () => {
  const r = await runNetmon(["config", "show", "--json"], {
    env: { NETMON_SERVER_TOKEN: "s3cret" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /s3cret/);
  assert.equal(JSON.parse(r.stdout).server.token.Source, "env");
});

Deno.test("config errors: unknown section/key, bad int/enum exit 2 with FILE:LINE on validate and capture", async () => {
  await withDir(async (dir) => {
    const cases: [string, RegExp][] = [
      [
        "[capture]\nsnaplen = 100\n[captuer]\n",
        /:3: \[captuer\]: unknown section \(did you mean 'capture'\?\)/,
      ],
      [
        "[server]\n# c\nurll = http://x\n",
        /:3: \[server\] urll: unknown key \(did you mean 'url'\?\)/,
      ],
      ["[flow]\nmax_flows = many\n", /:2: \[flow\] max_flows: expected an integer between 16 and/],
      [
        "[capture]\nbuffer_mb = 99999\n",
        /:2: \[capture\] buffer_mb: expected an integer between 1 and 4096, got 99999/,
      ],
      [
        "[log]\nlevel = loud\n",
        /:2: \[log\] level: expected one of debug, info, warn, error, got 'loud'/,
      ],
    ];
    for (const [i, [text, re]] of cases.entries()) {
      const file = `${dir}/bad${i}.ini`;
      await Deno.writeTextFile(file, text);
      const full = new RegExp(`^netmon: ${file.replaceAll("/", "\\/")}${re.source}`);
      assertUsage(await runNetmon(["config", "validate", file]), full);
      assertUsage(await runNetmon(["capture", "-r", PCAP, "--config", file, "--json"]), full);
      assertUsage(await runNetmon(["config", "show", "--config", file]), full);
    }
  });
});

Deno.test("config errors: an unreadable file is one line, exit 2", async () => {
  await withDir(async (dir) => {
    const missing = `${dir}/missing.ini`;
    assertUsage(
      await runNetmon(["capture", "-r", PCAP, "--config", missing]),
      /^netmon: .*missing\.ini: cannot read config file: no such file$/m,
    );
    assertUsage(
      await runNetmon(["config", "validate", dir]),
      /cannot read config file: is a directory/,
    );
  });
});

Deno.test("environment variables override the file; a bad one exits 2 naming it", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/n.ini`;
    await Deno.writeTextFile(
      file,
      "[server]\nurl = http://file.invalid:1/\n[log]\nlevel = debug\n",
    );
    const r = await runNetmon(["config", "show", "--config", file, "--json"], {
      env: { NETMON_SERVER: "http://env.invalid:2/" },
    });
    const s = JSON.parse(r.stdout);
    assert.equal(s.server.url.Value, "http://env.invalid:2/");
    assert.equal(s.server.url.Source, "env");
    assert.equal(s.log.level.Source, "file");
    assertUsage(
      await runNetmon(["capture", "-r", PCAP, "--config", file], {
        env: { NETMON_LOG_LEVEL: "loud" },
      }),
      /^netmon: NETMON_LOG_LEVEL: expected one of debug, info, warn, error, got 'loud'$/m,
    );
  });
});

Deno.test("a list given as a flag replaces the file's list (flag > env > file: precedence_test.ts)", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/n.ini`;
    await Deno.writeTextFile(file, `[filter]\nexclude[] = ${DROP_DNS}\n`);
    const r = await runNetmon(
      [
        "capture",
        "-r",
        PCAP,
        "--config",
        file,
        "--exclude",
        '{"TCP": {"Port": 1}}',
        "--json",
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 2);
  });
});
