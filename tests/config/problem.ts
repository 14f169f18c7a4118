import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/load.ts";
import { UsageError } from "../../src/errors.ts";

/** The one-line message parseConfigText throws for `text`. */
export function problem(text: string): string {
  try {
    parseConfigText(text, "t.ini");
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes("\n"));
    return e.message;
  }
  assert.fail(`no error for:\n${text}`);
}
