/**
 * Memory does not grow with the spool (issue 11, item 11): `spool status`, the agent's
 * start and `spool drain` stream segments instead of reading each whole. Peak RSS (the
 * kernel's ru_maxrss of the child, through python3's getrusage) with a 256 MiB spool
 * stays within 48 MiB of the same command on a one-segment spool.
 */
import assert from "node:assert/strict";
import { skipUnless } from "../helpers/run.ts";
import { discardServer, makeSpool, peakRss, spoolCommands } from "./spool_gen.ts";

const skip = skipUnless({ tools: ["python3"] });
const SLACK_MB = 48;

Deno.test({
  name: "spool status, agent start and spool drain: memory does not grow with a 256 MiB spool",
  ignore: skip !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "netmon-mem-" });
    const srv = discardServer();
    try {
      const big = `${dir}/big`;
      const small = `${dir}/small`;
      const bigRecords = await makeSpool(big, 256);
      const smallRecords = await makeSpool(small, 1);
      const cases = spoolCommands(srv.url);
      for (const [what, args] of cases) {
        const a = await peakRss(args(small));
        const b = await peakRss(args(big));
        assert.equal(a.code, 0, a.stderr);
        assert.equal(b.code, 0, b.stderr);
        console.log(
          `${what}: ${a.mb.toFixed(0)} MiB (4 MiB spool), ${b.mb.toFixed(0)} MiB (256 MiB)`,
        );
        assert.ok(
          b.mb - a.mb < SLACK_MB,
          `${what}: ${b.mb.toFixed(0)} MiB with a 256 MiB spool, ${a.mb.toFixed(0)} MiB with 4 MiB`,
        );
      }
      // The drains delivered everything (and the agent runs' few records).
      assert.ok(srv.lines() >= bigRecords + smallRecords, `${srv.lines()} lines`);
    } finally {
      await srv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
