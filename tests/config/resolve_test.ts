/**
 * Precedence in-process: resolveSettings() takes each setting from the first source
 * that has it (flag > env > file > default) and says which; the same seen from outside
 * in precedence_test.ts.
 */
import assert from "node:assert/strict";
import { resolveSettings } from "../../src/config/load.ts";
Deno.test("resolveSettings(): flag > env > file > default, setting by setting, with its source", async () => {
  const dir = await Deno.makeTempDir();
  const names = ["NETMON_SERVER", "NETMON_LOG_LEVEL", "NETMON_INTERFACE"];
  const saved = names.map((n) => [n, Deno.env.get(n)] as const);
  try {
    const ini = `${dir}/n.ini`;
    await Deno.writeTextFile(
      ini,
      "[server]\nurl = http://file/\n[capture]\nsnaplen = 128\ninterface = f0\n[log]\nlevel = debug\n",
    );
    Deno.env.set("NETMON_SERVER", "http://env/");
    Deno.env.set("NETMON_LOG_LEVEL", "warn");
    Deno.env.set("NETMON_INTERFACE", "");
    const r = await resolveSettings({ serverUrl: "http://flag/", snaplen: undefined }, ini);
    assert.equal(r.settings.serverUrl, "http://flag/");
    assert.deepEqual([r.sources.serverUrl, r.origins.serverUrl], ["flag", "flag"]);
    assert.equal(r.settings.logLevel, "warn");
    assert.deepEqual([r.sources.logLevel, r.origins.logLevel], ["env", "NETMON_LOG_LEVEL"]);
    assert.equal(r.settings.snaplen, 128, "a flag left undefined is not given");
    assert.deepEqual([r.sources.snaplen, r.origins.snaplen], ["file", `${ini}:4`]);
    assert.equal(r.settings.interface, "f0", "an empty variable is unset");
    assert.equal(r.sources.interface, "file");
    assert.equal(r.settings.batchRecords, 10000);
    assert.equal(r.sources.batchRecords, "default");
    const noFlag = await resolveSettings({}, ini);
    assert.deepEqual([noFlag.settings.serverUrl, noFlag.sources.serverUrl], ["http://env/", "env"]);
    Deno.env.delete("NETMON_SERVER");
    const noEnv = await resolveSettings({}, ini);
    assert.deepEqual([noEnv.settings.serverUrl, noEnv.sources.serverUrl], ["http://file/", "file"]);
    const nothing = await resolveSettings({});
    assert.deepEqual([nothing.settings.serverUrl, nothing.sources.serverUrl], ["", "default"]);
  } finally {
    for (const [n, v] of saved) v === undefined ? Deno.env.delete(n) : Deno.env.set(n, v);
    await Deno.remove(dir, { recursive: true });
  }
});
