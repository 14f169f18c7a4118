/** Config file parsing, checking and precedence (in-process, no subprocess). */
import assert from "node:assert/strict";
import {
  envSettings,
  parseConfigText,
  parseSettingValue,
  resolveSettings,
} from "../../src/config/load.ts";
import { parseIniLines } from "../../src/config/ini.ts";
import { configTemplate } from "../../src/config/template.ts";
import { defaultSettings, SETTINGS } from "../../src/config/settings.ts";
import { UsageError } from "../../src/errors.ts";
import { problem } from "./problem.ts";

Deno.test("parseIniLines() keeps line numbers, unquotes values and strips inline comments", () => {
  const doc = parseIniLines(
    '; top\n\n[capture] ; live\nsnaplen = 128 ; short\nuser = "a;b"\n[filter]\nfilter[] = x\nflag\n',
  );
  assert.deepEqual(doc.sections, [{ name: "capture", line: 3 }, { name: "filter", line: 6 }]);
  assert.deepEqual(
    doc.entries.map((e) => [e.line, e.section, e.key, e.list, e.value]),
    [
      [4, "capture", "snaplen", false, "128"],
      [5, "capture", "user", false, "a;b"],
      [7, "filter", "filter", true, "x"],
      [8, "filter", "flag", false, true],
    ],
  );
});

Deno.test("quoted values: '...' is literal, \"...\" is a JSON string, # and ; inside survive", () => {
  const doc = parseIniLines(
    `[filter]\nexclude[] = '{"DNS": {"Query": "a#b;c"}}'\nfilter[] = "x;y # z"\nfilter[] = a\\;b\n`,
  );
  assert.deepEqual(doc.entries.map((e) => e.value), [
    '{"DNS": {"Query": "a#b;c"}}',
    "x;y # z",
    "a;b",
  ]);
});

Deno.test("parseConfigText() converts every type and collects list items in order", () => {
  const cfg = parseConfigText(
    [
      "[capture]",
      "interface = eth0",
      "snaplen = 128",
      "promiscuous = no",
      "status_interval = 0.5",
      "[filter]",
      'filter[] = {"TCP": {"Port": 443}}',
      "filter[] = keep.jsonc",
      "exclude = a.json",
      "exclude = b.json",
      "capture_self",
      "[server]",
      "format = clickhouse",
      "[log]",
      "level = debug",
    ].join("\n"),
    "t.ini",
  );
  assert.deepEqual(cfg.values, {
    interface: "eth0",
    snaplen: 128,
    promisc: false,
    statusInterval: 0.5,
    filter: ['{"TCP": {"Port": 443}}', "keep.jsonc"],
    exclude: ["a.json", "b.json"],
    captureSelf: true,
    serverFormat: "clickhouse",
    logLevel: "debug",
  });
  assert.equal(cfg.lines.snaplen, 3);
  assert.equal(cfg.lines.filter, 7);
});

Deno.test("an unknown section names file, line and the closest section", () => {
  assert.equal(
    problem("[capture]\nsnaplen = 100\n\n[captur]\nx = 1\n"),
    "t.ini:4: [captur]: unknown section (did you mean 'capture'?)",
  );
  assert.match(
    problem("[nonsense]\n"),
    /^t\.ini:1: \[nonsense\]: unknown section \(known: capture, /,
  );
});

Deno.test("an unknown key names file, line, section, key and a hint", () => {
  assert.equal(
    problem("[capture]\nsnaplenn = 100\n"),
    "t.ini:2: [capture] snaplenn: unknown key (did you mean 'snaplen'?)",
  );
  assert.equal(
    problem("[capture]\nurl = http://x\n"),
    "t.ini:2: [capture] url: unknown key (it belongs in [server])",
  );
  assert.match(problem("snaplen = 1\n"), /^t\.ini:1: snaplen: key outside any \[section\]/);
});

Deno.test("bad values: int, number, bool, enum, bounds, list syntax, duplicates", () => {
  assert.equal(
    problem("[capture]\nsnaplen = lots\n"),
    "t.ini:2: [capture] snaplen: expected an integer between 64 and 262144, got 'lots'",
  );
  assert.equal(
    problem("[capture]\nsnaplen = 12\n"),
    "t.ini:2: [capture] snaplen: expected an integer between 64 and 262144, got 12",
  );
  assert.equal(
    problem("[capture]\nsnaplen = 1.5\n"),
    "t.ini:2: [capture] snaplen: expected an integer between 64 and 262144, got '1.5'",
  );
  assert.match(problem("[server]\nbatch_seconds = soon\n"), /batch_seconds: expected a number/);
  assert.equal(
    problem("[capture]\npromiscuous = maybe\n"),
    "t.ini:2: [capture] promiscuous: expected true or false, got 'maybe'",
  );
  assert.equal(
    problem("[server]\nformat = xml\n"),
    "t.ini:2: [server] format: expected one of ndjson, clickhouse, got 'xml'",
  );
  assert.equal(problem("[capture]\nsnaplen\n"), "t.ini:2: [capture] snaplen: missing '= value'");
  assert.match(
    problem("[capture]\nsnaplen[] = 100\n"),
    /t\.ini:2: \[capture\] snaplen: not a list/,
  );
  assert.equal(
    problem("[capture]\nsnaplen = 100\n[capture]\nsnaplen = 200\n"),
    "t.ini:4: [capture] snaplen: set twice (first on line 2)",
  );
  assert.match(
    problem("[capture]\n= 5\n"),
    /^t\.ini:2: '= 5': expected '\[section\]' or 'key = value'/,
  );
});

Deno.test("several problems: the first by line is reported with a count of the rest", () => {
  assert.equal(
    problem("[capture]\nsnaplen = x\nbogus = 1\n[log]\nlevel = loud\n"),
    "t.ini:2: [capture] snaplen: expected an integer between 64 and 262144, got 'x' (and 2 more)",
  );
});

Deno.test("the generated template sets nothing; uncommented, it holds exactly the defaults", () => {
  const tpl = configTemplate("test");
  assert.deepEqual(parseConfigText(tpl, "tpl.ini").values, {});
  for (const s of SETTINGS) assert.match(tpl, new RegExp(`^; ${s.key}(\\[\\])? =`, "m"), s.key);
  const uncommented = tpl.replace(/^; (\w+) =/gm, "$1 =");
  const cfg = parseConfigText(uncommented, "tpl.ini");
  const d = defaultSettings() as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(cfg.values)) assert.deepEqual(v, d[k], k);
  // all but the lists (their examples stay commented)
  assert.equal(Object.keys(cfg.values).length, SETTINGS.filter((s) => s.type !== "list").length);
});

Deno.test("parseSettingValue() accepts yes/no/on/off/1/0 for booleans", () => {
  const spec = SETTINGS.find((s) => s.name === "gzip")!;
  for (const t of ["true", "YES", "on", "1"]) assert.equal(parseSettingValue(spec, t), true);
  for (const f of ["false", "No", "off", "0"]) assert.equal(parseSettingValue(spec, f), false);
});

Deno.test("envSettings() reads only settings with an env var; a bad value names the variable", () => {
  const env: Record<string, string> = { NETMON_LOG_LEVEL: "debug", NETMON_SERVER: "", OTHER: "x" };
  assert.deepEqual(envSettings((n) => env[n]).values, { logLevel: "debug" });
  env.NETMON_LOG_LEVEL = "loud";
  assert.throws(
    () => envSettings((n) => env[n]),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === "NETMON_LOG_LEVEL: expected one of debug, info, warn, error, got 'loud'",
  );
});

Deno.test("resolveSettings(): flag > env > file > default, with sources and origins", async () => {
  const dir = await Deno.makeTempDir();
  const saved = Deno.env.get("NETMON_LOG_LEVEL");
  try {
    const file = `${dir}/n.ini`;
    await Deno.writeTextFile(
      file,
      "[capture]\nsnaplen = 1000\nbuffer_mb = 8\n[log]\nlevel = warn\n[filter]\nexclude[] = a\n",
    );
    Deno.env.set("NETMON_LOG_LEVEL", "error");
    const r = await resolveSettings({ snaplen: 200, exclude: ["b"], interface: undefined }, file);
    assert.equal(r.settings.snaplen, 200);
    assert.equal(r.sources.snaplen, "flag");
    assert.equal(r.settings.bufferMb, 8);
    assert.equal(r.sources.bufferMb, "file");
    assert.equal(r.origins.bufferMb, `${file}:3`);
    assert.equal(r.settings.logLevel, "error");
    assert.equal(r.sources.logLevel, "env");
    assert.equal(r.origins.logLevel, "NETMON_LOG_LEVEL");
    assert.deepEqual(r.settings.exclude, ["b"], "a list from a flag replaces the file's");
    assert.equal(r.sources.interface, "default");
    assert.equal(r.settings.gzip, false);
  } finally {
    if (saved === undefined) Deno.env.delete("NETMON_LOG_LEVEL");
    else Deno.env.set("NETMON_LOG_LEVEL", saved);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveSettings() turns an unreadable file into one UsageError line", async () => {
  await assert.rejects(
    resolveSettings({}, "/nonexistent/netmon.ini"),
    (e: unknown) =>
      e instanceof UsageError && e.exitCode === 2 &&
      e.message === "/nonexistent/netmon.ini: cannot read config file: no such file",
  );
  await assert.rejects(
    resolveSettings({}, "/"),
    (e: unknown) => e instanceof UsageError && /^\/: cannot read config file: /.test(e.message),
  );
});
