/** The submitter's request timeout is a setting (issue 11, item 19): `--request-timeout S`. */
import assert from "node:assert/strict";
import { PCAPS, runNetmon } from "../helpers/run.ts";

/** A server that accepts connections and reads requests but never answers. */
function silentServer(): { url: string; close: () => void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    try {
      for await (const c of l) {
        conns.push(c);
        (async () => {
          const buf = new Uint8Array(65536);
          try {
            while ((await c.read(buf)) !== null) { /* never answer */ }
          } catch { /* closed */ }
        })();
      }
    } catch { /* listener closed */ }
  })();
  return {
    url: `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}/`,
    close: () => {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("--request-timeout: a server that never answers counts as down after S seconds; records stay spooled", async () => {
  const srv = silentServer();
  const dir = await Deno.makeTempDir({ prefix: "netmon-timeout-" });
  try {
    const args = ["capture", "-r", `${PCAPS}DTP.pcap`, "--server", srv.url, "--spool", dir];
    const r = await runNetmon([...args, "--no-flows", "--request-timeout", "0.5", "--grace", "3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /not taking records \(no answer within 0\.5 s\)/);
    const n = Number(/(\d+) records accepted/.exec(r.stderr)?.[1]);
    assert.ok(n > 0);
    assert.match(r.stderr, new RegExp(`${n} records waiting in spool`));
    // The same for spool drain.
    const d = await runNetmon([
      "spool",
      "drain",
      "--server",
      srv.url,
      "--spool",
      dir,
      "--request-timeout",
      "0.5",
      "--wait",
      "0",
    ]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /no answer within 0\.5 s/);
  } finally {
    srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
