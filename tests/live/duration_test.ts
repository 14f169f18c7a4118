import assert from "node:assert/strict";
import { runNetmon, skipUnless } from "../helpers/run.ts";
import { gated } from "../helpers/skip.ts";

const why = skipUnless({ root: true });

Deno.test(gated({
  name: "capture -i lo --duration stops by itself, prints the summary and exits 0",
  needs: why,
  fn: async () => {
    // runNetmon kills the process after 30 s: a capture that ignored --duration fails here.
    const r = await runNetmon(["capture", "-i", "lo", "--duration", "1", "--json"], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^\d+ packets? captured$/m);
    assert.match(r.stderr, /^\d+ packets? dropped by kernel$/m);
  },
}));

Deno.test("capture --duration rejects a non-number with one line and exit 2", async () => {
  const r = await runNetmon(["capture", "-i", "lo", "--duration", "soon"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
