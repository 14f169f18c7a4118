/**
 * The committed tunnel and fragment captures are what their generator writes: a rerun of
 * fixtures/conformance/make_encap.py (scapy) gives the same bytes, so the fixtures can be
 * rebuilt and extended. Skipped when python3 has no scapy (scripts/setup.sh installs it).
 */
import assert from "node:assert/strict";
import { FIXTURES } from "../helpers/run.ts";
import { gated } from "../helpers/skip.ts";

const HAVE_SCAPY = (() => {
  try {
    return new Deno.Command("python3", {
      args: ["-c", "import scapy"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test(gated({
  name: "make_encap.py rewrites encap.pcap and fragments.pcap byte for byte",
  needs: HAVE_SCAPY ? null : "needs scapy (scripts/setup.sh installs it with pip)",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "netmon-encap-" });
    try {
      const out = await new Deno.Command("python3", {
        args: [`${FIXTURES}conformance/make_encap.py`],
        env: { NETMON_FIXTURE_OUT: dir },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      for (const name of ["encap.pcap", "fragments.pcap"]) {
        const want = await Deno.readFile(`${FIXTURES}conformance/${name}`);
        const got = await Deno.readFile(`${dir}/${name}`);
        assert.ok(
          want.length === got.length && want.every((v, i) => v === got[i]),
          `${name} differs`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
