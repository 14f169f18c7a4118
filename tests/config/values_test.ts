/**
 * Every kind of setting value, accepted and refused, with the exact one-line problem
 * (parseSettingValue), and the file-level rules around it (readConfigFile,
 * parseConfigText): what netmon promises a config file's author.
 */
import assert from "node:assert/strict";
import { parseSettingValue, readConfigFile, resolveSettings } from "../../src/config/load.ts";
import { SETTINGS, type SettingSpec } from "../../src/config/settings.ts";
import { UsageError } from "../../src/errors.ts";
import { problem } from "./problem.ts";

const spec = (s: Partial<SettingSpec>): SettingSpec =>
  ({
    name: "snaplen",
    section: "capture",
    key: "k",
    help: "",
    type: "string",
    ...s,
  }) as SettingSpec;

const INT = spec({ type: "int", min: 64, max: 1000 });
const NUM = spec({ type: "number", min: 0.5, max: 10 });

Deno.test("parseSettingValue(): integers, numbers and their ranges", () => {
  const ok: [SettingSpec, string, number][] = [
    [INT, "128", 128],
    [INT, "  128\t", 128],
    [INT, "+128", 128],
    [INT, "64", 64],
    [INT, "1000", 1000],
    [NUM, "0.5", 0.5],
    [NUM, ".75", 0.75],
    [NUM, "5.", 5],
    [NUM, "1e0", 1],
    [NUM, "1E+0", 1],
    [NUM, "25e-1", 2.5],
    [NUM, "10", 10],
  ];
  for (const [s, raw, want] of ok) assert.equal(parseSettingValue(s, raw), want, raw);
  const bad: [SettingSpec, string, string][] = [
    [INT, "12a", "expected an integer between 64 and 1000, got '12a'"],
    [INT, "a12", "expected an integer between 64 and 1000, got 'a12'"],
    [INT, "-+100", "expected an integer between 64 and 1000, got '-+100'"],
    [INT, "100.0", "expected an integer between 64 and 1000, got '100.0'"],
    [INT, "1e2", "expected an integer between 64 and 1000, got '1e2'"],
    [INT, "", "expected an integer between 64 and 1000, got ''"],
    [INT, "63", "expected an integer between 64 and 1000, got 63"],
    [INT, "1001", "expected an integer between 64 and 1000, got 1001"],
    [spec({ type: "int" }), "9007199254740993", "expected an integer, got '9007199254740993'"],
    [NUM, "0.49", "expected a number between 0.5 and 10, got 0.49"],
    [NUM, "10.01", "expected a number between 0.5 and 10, got 10.01"],
    [NUM, "1e", "expected a number between 0.5 and 10, got '1e'"],
    [NUM, "e1", "expected a number between 0.5 and 10, got 'e1'"],
    [NUM, "1.2.3", "expected a number between 0.5 and 10, got '1.2.3'"],
    [NUM, ".", "expected a number between 0.5 and 10, got '.'"],
    [NUM, "1e+", "expected a number between 0.5 and 10, got '1e+'"],
    [NUM, "x1", "expected a number between 0.5 and 10, got 'x1'"],
    [NUM, "1x", "expected a number between 0.5 and 10, got '1x'"],
    [NUM, "1ex", "expected a number between 0.5 and 10, got '1ex'"],
    [NUM, ".x", "expected a number between 0.5 and 10, got '.x'"],
    [NUM, "Infinity", "expected a number between 0.5 and 10, got 'Infinity'"],
    [spec({ type: "number" }), "1e999", "expected a number, got '1e999'"],
    [spec({ type: "int", min: 1 }), "0", "expected an integer of at least 1, got 0"],
    [spec({ type: "int", max: 9 }), "10", "expected an integer of at most 9, got 10"],
  ];
  for (const [s, raw, want] of bad) {
    assert.deepEqual(parseSettingValue(s, raw), { problem: want }, raw);
  }
  assert.equal(parseSettingValue(spec({ type: "int", min: 1 }), "5"), 5);
  assert.equal(parseSettingValue(spec({ type: "int", max: 9 }), "-5"), -5);
  assert.equal(parseSettingValue(spec({ type: "number", max: 9 }), "-0.5"), -0.5);
  assert.equal(parseSettingValue(NUM, "1e1"), 10);
  assert.equal(parseSettingValue(NUM, "2e0"), 2);
  assert.equal(parseSettingValue(NUM, "1.5e0"), 1.5);
  assert.equal(parseSettingValue(spec({ type: "number" }), "1e10"), 1e10, "exponent of 2 digits");
});

Deno.test("parseSettingValue(): booleans, enums, strings, lists and bare keys", () => {
  const BOOL = spec({ type: "bool" });
  for (const t of ["true", "YES", "On", "1"]) {
    assert.equal(parseSettingValue(BOOL, ` ${t} `), true, t);
  }
  for (const f of ["false", "no", "OFF", "0"]) assert.equal(parseSettingValue(BOOL, f), false, f);
  assert.deepEqual(parseSettingValue(BOOL, "maybe"), {
    problem: "expected true or false, got 'maybe'",
  });
  assert.equal(parseSettingValue(BOOL, true), true, "a bare key is true");
  assert.deepEqual(parseSettingValue(INT, true), { problem: "missing '= value'" });
  const ENUM = spec({ type: "enum", values: ["ndjson", "clickhouse"] });
  assert.equal(parseSettingValue(ENUM, " clickhouse "), "clickhouse");
  assert.deepEqual(parseSettingValue(ENUM, "xml"), {
    problem: "expected one of ndjson, clickhouse, got 'xml'",
  });
  assert.deepEqual(parseSettingValue(spec({ type: "enum" }), "x"), {
    problem: "expected one of , got 'x'",
  });
  assert.equal(parseSettingValue(spec({ type: "string" }), "  eth0 "), "eth0");
  const LIST = spec({ type: "list" });
  assert.deepEqual(parseSettingValue(LIST, "  "), []);
  assert.deepEqual(parseSettingValue(LIST, " a.json "), ["a.json"]);
});

const SERVER_KEYS = SETTINGS.filter((s) => s.section === "server").map((s) => s.key).join(", ");
const SECTIONS = [...new Set(SETTINGS.map((s) => s.section))].join(", ");

Deno.test("parseConfigText(): the first problem by line, hints and where keys belong", () => {
  assert.equal(
    problem("[capture]\nsnaplen = 1\n[server]\nurll = x\n[capture]\nbuffer_mb = 0\n"),
    "t.ini:2: [capture] snaplen: expected an integer between 64 and 262144, got 1 (and 2 more)",
  );
  assert.equal(
    problem("[server]\nurll = x\n"),
    "t.ini:2: [server] urll: unknown key (did you mean 'url'?)",
  );
  // At the limit of a hint (2 edits for a short word), the last letter counting too.
  assert.equal(
    problem("[server]\ngxxp = x\n"),
    "t.ini:2: [server] gxxp: unknown key (did you mean 'gzip'?)",
  );
  // Sections are checked before keys: the problems still come out by line.
  assert.match(problem("[capture]\nsnaplen = 1\n[captur]\nx = 1\n"), /^t\.ini:2: /);
  assert.equal(
    problem("[server]\nzzzzzz = x\n"),
    `t.ini:2: [server] zzzzzz: unknown key (known: ${SERVER_KEYS})`,
  );
  assert.equal(
    problem("[server]\nsnaplenn = x\n"),
    `t.ini:2: [server] snaplenn: unknown key (known: ${SERVER_KEYS})`,
  );
  assert.equal(
    problem("[capture]\nurl = x\n"),
    "t.ini:2: [capture] url: unknown key (it belongs in [server])",
  );
  assert.match(
    problem("snaplen = 100\n"),
    new RegExp(`^t\\.ini:1: snaplen: key outside any \\[section\\] \\(sections: ${SECTIONS}\\)$`),
  );
  assert.equal(
    problem("[capture]\nsnaplen[] = 100\n"),
    "t.ini:2: [capture] snaplen: not a list; write 'snaplen = value'",
  );
});

Deno.test("readConfigFile(): an unreadable file is one line naming the reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [path, why] of [[`${dir}/none.ini`, "no such file"], [dir, "is a directory"]]) {
      await assert.rejects(
        () => readConfigFile(path),
        (e: unknown) =>
          e instanceof UsageError && e.message === `${path}: cannot read config file: ${why}`,
      );
    }
    await Deno.writeTextFile(`${dir}/ok.ini`, "[capture]\nsnaplen = 100\n");
    assert.equal((await readConfigFile(`${dir}/ok.ini`)).values.snaplen, 100);
    // An empty --config is no file: defaults.
    const r = await resolveSettings({}, "");
    assert.equal(r.sources.snaplen, "default");
    assert.equal(r.origins.snaplen, "default");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
