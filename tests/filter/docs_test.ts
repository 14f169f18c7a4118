/** docs/filters.md names every layer and attribute of the filter schema. */
import assert from "node:assert/strict";
import { SCALARS, SCHEMA } from "../../src/filter/schema.ts";
import { ROOT } from "../helpers/run.ts";

Deno.test("docs/filters.md lists every layer, attribute and either-direction name", () => {
  const full = Deno.readTextFileSync(`${ROOT}docs/filters.md`);
  const doc = full.slice(full.indexOf("## Layers and attributes"));
  const missing: string[] = [];
  for (const [name, layer] of Object.entries(SCHEMA)) {
    const row = doc.split("\n").find((l) => l.startsWith(`| ${name} `));
    if (row === undefined) {
      missing.push(name);
      continue;
    }
    for (const a of [...Object.keys(layer.attrs), ...Object.keys(layer.either ?? {})]) {
      if (!new RegExp(`\\b${a}\\b`).test(row)) missing.push(`${name}.${a}`);
    }
  }
  for (const name of Object.keys(SCALARS)) if (!doc.includes(name)) missing.push(name);
  assert.deepEqual(missing, []);
});
