import assert from "node:assert/strict";
import { communityIdV1, parseIp } from "../../src/flow/community_id.ts";

const ROOT = new URL("../../fixtures/flow/", import.meta.url);

interface Vector {
  proto: number;
  saddr: string;
  daddr: string;
  sport: number | null;
  dport: number | null;
  communityid: string;
}

// baseline_deflt.json / baseline_seed1.json are the test vectors published with the
// Community ID specification (corelight/community-id-spec, baseline/). For ICMP the
// vectors list the ports already mapped (type, counterpart), which the mapping keeps.
for (
  const [file, seed] of [["community_id_baseline_deflt.json", 0], [
    "community_id_baseline_seed1.json",
    1,
  ]] as const
) {
  Deno.test(`communityIdV1() matches every published vector in ${file}`, () => {
    const vectors: Vector[] = JSON.parse(Deno.readTextFileSync(new URL(file, ROOT)));
    assert.ok(vectors.length >= 20);
    for (const v of vectors) {
      const got = communityIdV1(
        parseIp(v.saddr),
        parseIp(v.daddr),
        v.proto,
        v.sport ?? 0,
        v.dport ?? 0,
        seed,
      );
      assert.equal(got, v.communityid, `${v.proto} ${v.saddr}:${v.sport} -> ${v.daddr}:${v.dport}`);
    }
  });
}

Deno.test("communityIdV1() gives both directions of a TCP flow the same id", () => {
  const a = parseIp("10.0.0.1"), b = parseIp("10.0.0.2");
  assert.equal(communityIdV1(a, b, 6, 40000, 80), communityIdV1(b, a, 6, 80, 40000));
});

Deno.test("parseIp() reads IPv6 with :: and embedded IPv4", () => {
  assert.deepEqual([...parseIp("::ffff:1.2.3.4").slice(10)], [0xff, 0xff, 1, 2, 3, 4]);
  assert.throws(() => parseIp("1.2.3"));
});
