/**
 * Every default docs/config.md documents is the default netmon runs with: in-process
 * (defaultSettings and the resolution with nothing set) and as `netmon config show`
 * reports it. Changing a default without the documentation fails here.
 */
import assert from "node:assert/strict";
import { ROOT, runNetmon } from "../helpers/run.ts";
import { defaultSettings, SETTINGS, type SettingSpec } from "../../src/config/settings.ts";
import { resolveSettings } from "../../src/config/load.ts";

/** The default column of docs/config.md's settings table: "section.key" -> cell text. */
async function documentedDefaults(): Promise<Map<string, string>> {
  const doc = await Deno.readTextFile(`${ROOT}docs/config.md`);
  const out = new Map<string, string>();
  for (const line of doc.split("\n")) {
    // | section | key | type | default | env | meaning |   (a \| inside a cell is text)
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length !== 8 || !/^\w+$/.test(cells[1]) || cells[1] === "section") continue;
    out.set(`${cells[1]}.${cells[2]}`, cells[4]);
  }
  return out;
}

/** The value a documented default cell stands for (`spool` is the default spool dir). */
function documentedValue(spec: SettingSpec, cell: string, spool: string): unknown {
  if (cell === "(empty)") return "";
  if (cell === "(none)") return [];
  const m = /^`([^`]*)`( ¹)?$/.exec(cell);
  assert.ok(m, `[${spec.section}] ${spec.key}: default cell ${JSON.stringify(cell)}`);
  const text = m[1];
  if (text === "~/.local/state/netmon/spool") return spool;
  switch (spec.type) {
    case "int":
    case "number":
      return Number(text);
    case "bool":
      assert.ok(text === "true" || text === "false", cell);
      return text === "true";
    default:
      return text;
  }
}

const HOME = Deno.env.get("HOME") ?? "/root";

Deno.test("every documented default is the built-in default (defaultSettings, resolveSettings)", async () => {
  const docs = await documentedDefaults();
  // Nothing set: no NETMON_* variables (restored after), no file, no flags.
  const names = ["XDG_STATE_HOME", ...SETTINGS.flatMap((s) => s.env ? [s.env] : [])];
  const saved = names.map((n) => [n, Deno.env.get(n)] as const);
  for (const n of names) Deno.env.delete(n);
  try {
    const defaults = defaultSettings() as unknown as Record<string, unknown>;
    const resolved = await resolveSettings({});
    const spool = `${HOME}/.local/state/netmon/spool`;
    assert.equal(docs.size, SETTINGS.length, "one documented row per setting");
    for (const spec of SETTINGS) {
      const cell = docs.get(`${spec.section}.${spec.key}`);
      assert.ok(cell !== undefined, `[${spec.section}] ${spec.key} undocumented`);
      const want = documentedValue(spec, cell, spool);
      assert.deepEqual(defaults[spec.name], want, `[${spec.section}] ${spec.key}`);
      assert.deepEqual(
        (resolved.settings as unknown as Record<string, unknown>)[spec.name],
        want,
        `[${spec.section}] ${spec.key} resolved with nothing set`,
      );
      assert.equal(resolved.sources[spec.name], "default");
    }
  } finally {
    for (const [n, v] of saved) if (v !== undefined) Deno.env.set(n, v);
  }
});

Deno.test("`netmon config show` reports the documented defaults, from source default", async () => {
  const docs = await documentedDefaults();
  const state = await Deno.makeTempDir();
  try {
    // Every environment variable empty (= unset); the spool default under XDG_STATE_HOME.
    const env: Record<string, string> = { XDG_STATE_HOME: state };
    for (const s of SETTINGS) if (s.env) env[s.env] = "";
    const r = await runNetmon(["config", "show", "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout);
    for (const spec of SETTINGS) {
      const want = documentedValue(
        spec,
        docs.get(`${spec.section}.${spec.key}`)!,
        `${state}/netmon/spool`,
      );
      const got = shown[spec.section][spec.key];
      assert.equal(got.Source, "default", `[${spec.section}] ${spec.key}`);
      if (spec.name === "serverToken") continue; // shown hidden; its default is ""
      assert.deepEqual(got.Value, want, `[${spec.section}] ${spec.key}`);
    }
  } finally {
    await Deno.remove(state, { recursive: true });
  }
});
