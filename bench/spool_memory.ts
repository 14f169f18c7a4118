/**
 * Agent memory against the size of its spool (issue 11, item 11): peak RSS of
 * `spool status`, an agent start (`capture -r` with a spool) and `spool drain` on a
 * 4 MiB spool (the peer) and on a 1 GiB spool, and their ratio. Streaming keeps the
 * ratio near 1; reading segments whole made it ~7x.
 *
 * Usage: deno run -A bench/spool_memory.ts [MiB]   (default 1024)
 */
import { discardServer, makeSpool, peakRss, spoolCommands } from "../tests/submit/spool_gen.ts";

const mb = Number(Deno.args[0] ?? 1024);
const dir = await Deno.makeTempDir({ prefix: "netmon-bench-spool-" });
const srv = discardServer();
try {
  const big = `${dir}/big`;
  const small = `${dir}/small`;
  const records = await makeSpool(big, mb);
  await makeSpool(small, 4);
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.log(`spool of ${mb} MiB (${records} records) against one of 4 MiB; load ${load}`);
  console.log("");
  console.log("| command | peak RSS, 4 MiB spool (MiB) | peak RSS, big spool (MiB) | ratio |");
  console.log("|---|---|---|---|");
  const cases = spoolCommands(srv.url);
  for (const [what, args] of cases) {
    const a = await peakRss(args(small));
    const b = await peakRss(args(big));
    if (a.code !== 0 || b.code !== 0) throw new Error(`${what} failed:\n${a.stderr}\n${b.stderr}`);
    console.log(
      `| ${what} | ${a.mb.toFixed(0)} | ${b.mb.toFixed(0)} | ${(b.mb / a.mb).toFixed(2)} |`,
    );
  }
} finally {
  await srv.close();
  await Deno.remove(dir, { recursive: true });
}
