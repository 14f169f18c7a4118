/** `netmon config show` reports every documented default, from source default. */
import assert from "node:assert/strict";
import { runNetmon } from "../helpers/run.ts";
import { SETTINGS } from "../../src/config/settings.ts";
import { documentedDefaults, documentedValue } from "./documented.ts";
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
