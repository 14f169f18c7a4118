/**
 * CIDR matching at every prefix length, on both sides of every boundary, against
 * Python's `ipaddress` (tests/filter/cidr_oracle.py decides which address is inside).
 * Prefixes not on a byte boundary (172.16.0.0/12) are where a matcher that reads too few
 * octets, or masks with the wrong bits, goes wrong.
 */
import assert from "node:assert/strict";
import { compileFilterValue } from "../../src/filter/compile.ts";
import { ipv4, ipv6 } from "../../src/decode/format.ts";
import type { PacketRecord } from "../../src/decode/record.ts";

interface Case {
  cidr: string | string[];
  addr: string;
  hex: string;
  inside: boolean;
}

function oracle(): Case[] {
  const out = new Deno.Command("python3", {
    args: [new URL("cidr_oracle.py", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`cidr_oracle.py failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
}

/** The address as netmon's decoders print it (what a record holds). */
function recordText(hex: string): string {
  const b = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  return b.length === 4 ? ipv4(b, 0) : ipv6(b, 0);
}

const CASES = oracle();

Deno.test("the oracle covers every prefix length of both families, inside and outside", () => {
  for (const [family, bits] of [["v4", 32], ["v6", 128]] as const) {
    const single = CASES.filter((c) =>
      typeof c.cidr === "string" && (c.hex.length === 8) === (family === "v4")
    );
    for (let p = 0; p <= bits; p++) {
      const at = single.filter((c) => (c.cidr as string).endsWith(`/${p}`));
      assert.ok(at.some((c) => c.inside), `${family} /${p}: an address inside`);
      if (p > 0) assert.ok(at.some((c) => !c.inside), `${family} /${p}: an address outside`);
    }
  }
});

for (const layer of ["IPv4", "IPv6"] as const) {
  Deno.test(`${layer} CIDR filters match exactly the addresses Python's ipaddress puts inside`, () => {
    const cases = CASES.filter((c) => (c.hex.length === 8) === (layer === "IPv4"));
    const compiled = new Map<
      string,
      [(r: PacketRecord) => boolean, (r: PacketRecord) => boolean]
    >();
    const wrong: string[] = [];
    for (const c of cases) {
      const key = JSON.stringify(c.cidr);
      let m = compiled.get(key);
      if (m === undefined) {
        // The same networks through an address attribute (kind ipv4/ipv6) and through
        // Flow's Address (kind ip, either direction).
        const [byLayer] = compileFilterValue({ [layer]: { Source_Address: c.cidr } });
        const [byFlow] = compileFilterValue({ Flow: { Address: c.cidr } });
        m = [byLayer.match, byFlow.match];
        compiled.set(key, m);
      }
      const text = recordText(c.hex);
      const pkt = { [layer]: { Source_Address: text, Destination_Address: text } };
      // The other end of the flow is of the other family: never inside these networks.
      const other = layer === "IPv4" ? "2001:db8::1" : "192.0.2.1";
      const flows = [
        { Flow: { Source_Address: text, Destination_Address: other } },
        { Flow: { Source_Address: other, Destination_Address: text } },
      ];
      if (m[0](pkt) !== c.inside) wrong.push(`${key} ${layer}.Source_Address ${text}`);
      for (const f of flows) {
        if (m[1](f) !== c.inside) wrong.push(`${key} Flow.Address ${JSON.stringify(f.Flow)}`);
      }
    }
    assert.ok(cases.length > 1000, `${cases.length} cases`);
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} of ${cases.length} wrong`);
  });
}
