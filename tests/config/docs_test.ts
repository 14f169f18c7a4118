/** docs/config.md documents every setting of the SETTINGS table and every env variable. */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/run.ts";
import { SETTINGS } from "../../src/config/settings.ts";

Deno.test("docs/config.md has a row for every setting (section, key, env)", async () => {
  const doc = await Deno.readTextFile(`${ROOT}docs/config.md`);
  for (const s of SETTINGS) {
    const row = new RegExp(
      `^\\| ${s.section} \\| ${s.key} \\|.*${s.env ? `\`${s.env}\`` : ""}`,
      "m",
    );
    assert.match(doc, row, `[${s.section}] ${s.key} is missing from docs/config.md`);
  }
});
