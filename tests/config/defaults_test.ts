/**
 * Every default docs/config.md documents is the default netmon runs with: in-process
 * (defaultSettings and the resolution with nothing set) and as `netmon config show`
 * reports it. Changing a default without the documentation fails here.
 */
import assert from "node:assert/strict";
import { defaultSettings, SETTINGS } from "../../src/config/settings.ts";
import { documentedDefaults, documentedValue } from "./documented.ts";
import { resolveSettings } from "../../src/config/load.ts";

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
