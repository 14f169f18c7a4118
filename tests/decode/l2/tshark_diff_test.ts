/**
 * Differential tests of the layer-2 decoders against tshark: every capture in
 * fixtures/pcaps is decoded by netmon and by tshark, and the layer-2 fields of every
 * frame must agree (see compare.ts for the list).
 */
import assert from "node:assert/strict";
import { PCAPS } from "../../helpers/run.ts";

import { decodeFile } from "../../helpers/decode_file.ts";
import { compareWithTshark } from "./compare.ts";
import { gated, NEEDS_TSHARK } from "../../helpers/skip.ts";

const files = [...Deno.readDirSync(PCAPS)]
  .filter((e) => /\.(pcap|pcapng)$/.test(e.name))
  .map((e) => e.name)
  .sort();

Deno.test(gated({
  name: "layer-2 fields of every fixture capture agree with tshark",
  needs: NEEDS_TSHARK,
  fn: async (t) => {
    assert.ok(files.length > 0, "no fixtures found");
    for (const name of files) {
      await t.step(name, async () => {
        const recs = await decodeFile(PCAPS + name);
        const problems = compareWithTshark(PCAPS + name, recs);
        assert.deepEqual(problems.slice(0, 20), [], `${name}: ${problems.length} mismatches`);
      });
    }
  },
}));
