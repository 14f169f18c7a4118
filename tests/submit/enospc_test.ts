/**
 * ENOSPC in the middle of a spool write (issue 11, item 4): a spool on a 1 MiB tmpfs
 * takes ~20 MB of records. Every failed write is cut back to the last complete batch, the
 * count of dropped records is exact, the run exits 1 naming the loss, and what the spool
 * holds is delivered whole: every batch complete or absent, nothing dead-lettered.
 */
import assert from "node:assert/strict";
import { runNetmon, sh, skipUnless } from "../helpers/run.ts";
import { summaryNumbers, writeUdpPcap } from "./helpers.ts";
import { FakeServer } from "./fake_server.ts";
import { balance } from "./rig.ts";

const skip = skipUnless({ root: true, tools: ["mount", "umount"] });

async function withTmpfs(size: string, fn: (mnt: string) => Promise<void>): Promise<void> {
  const mnt = await Deno.makeTempDir({ prefix: "netmon-enospc-" });
  sh(`mount -t tmpfs -o size=${size},mode=0700 tmpfs ${mnt}`);
  try {
    await fn(mnt);
  } finally {
    sh(`umount ${mnt}`);
    await Deno.remove(mnt, { recursive: true });
  }
}

Deno.test({
  name:
    "ENOSPC mid-write: cut back to the last batch, exact counts, exit 1; the spool delivers whole batches",
  ignore: skip !== null,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "netmon-enospc-in-" });
    const srv = new FakeServer();
    try {
      const pcap = `${work}/in.pcap`;
      await writeUdpPcap(pcap, 40_000);
      await withTmpfs("1m", async (mnt) => {
        const spool = `${mnt}/spool`;
        const r = await runNetmon([
          "capture",
          "-r",
          pcap,
          "--spool",
          spool,
          "--no-flows",
          "--batch-records",
          "100",
        ]);
        assert.equal(r.code, 1, r.stderr);
        const b = balance(r.stderr);
        assert.equal(b.accepted, 40_000);
        assert.ok(b.waiting > 0 && b.dropped > 0, r.stderr);
        assert.equal(b.dead, 0);
        assert.match(
          r.stderr,
          new RegExp(`records dropped: ${b.dropped} no space left for the spool`),
        );
        const last = r.stderr.trimEnd().split("\n").at(-1)!;
        assert.match(
          last,
          new RegExp(`^netmon: ${b.dropped} accepted records were lost: .*no space`),
        );
        // Said once at error level, not once per batch.
        assert.equal(
          r.stderr.split("\n").filter((l) =>
            /ERROR.*No space left|no space left on device/i.test(l)
          ).length,
          1,
          r.stderr,
        );
        assert.equal(summaryNumbers(r.stderr).waiting, b.waiting);
        const st = await runNetmon(["spool", "status", "--spool", spool, "--json"]);
        assert.equal(st.code, 0, st.stderr);
        const status = JSON.parse(st.stdout);
        assert.equal(status.records, b.waiting, "spool status agrees with the summary");
        assert.equal(status.torn_segments, 0);
        // Everything in the spool is whole batches with envelopes: delivered, none dead-lettered.
        const d = await runNetmon(["spool", "drain", "--server", srv.url, "--spool", spool]);
        assert.equal(d.code, 0, d.stderr);
        assert.doesNotMatch(d.stderr, /dead letter/);
        assert.equal(srv.stored.length, b.waiting);
        const perBatch = new Map<number, Set<number>>();
        for (const e of srv.stored) {
          const s = perBatch.get(e.Batch ?? -1) ?? new Set<number>();
          s.add(e.Sequence);
          perBatch.set(e.Batch ?? -1, s);
        }
        for (const [batch, seqs] of perBatch) {
          assert.equal(seqs.size, 100, `batch ${batch} arrived with ${seqs.size} of 100 records`);
        }
      });
    } finally {
      await srv.close();
      await Deno.remove(work, { recursive: true });
    }
  },
});
