/**
 * `netmon gateways --json` against `ip -j [-6] route show table all` (the oracle) in a
 * fresh namespace: every route with a gateway, or to "default", in every table, one entry
 * per next hop, with table, metric and interface.
 */
import assert from "node:assert/strict";
import { skipUnless } from "../helpers/run.ts";
import { buildTopology, ipJson, netmonIn, removeTopology } from "./ns.ts";
import type { Gateway } from "../../src/net/routes.ts";
import { gated } from "../helpers/skip.ts";

const skip = skipUnless({ root: true, tools: ["ip"] });
if (skip) console.log(`tests/net/gateways_test.ts: skipped: ${skip}`);

// deno-lint-ignore no-explicit-any
type Json = any;

/** One comparable line per next hop: family|destination|table|dev|gateway|metric|weight. */
function fromIp(family: "IPv4" | "IPv6", routes: Json[]): string[] {
  const out: string[] = [];
  const full = family === "IPv4" ? 32 : 128;
  for (const r of routes) {
    if (r.type !== undefined && r.type !== "unicast") continue;
    const dst = r.dst === "default" || r.dst.includes("/") ? r.dst : `${r.dst}/${full}`;
    const table = r.table ?? "main";
    const hops: Json[] = r.nexthops ?? [r];
    for (const h of hops) {
      const gw = h.gateway ?? h.via?.host ?? null;
      if (gw === null && dst !== "default") continue;
      const weight = r.nexthops ? h.weight ?? 1 : null;
      out.push([family, dst, table, h.dev ?? null, gw, r.metric ?? 0, weight].join("|"));
    }
  }
  return out.sort();
}

function fromNetmon(list: Gateway[]): string[] {
  return list.map((g) =>
    [g.Family, g.Destination, g.Table_Name, g.Interface, g.Gateway, g.Metric, g.Weight].join("|")
  ).sort();
}

Deno.test(gated({
  name: "gateways --json agrees with ip -j route show table all (IPv4 and IPv6)",
  needs: skip,
  fn: async () => {
    const t = buildTopology();
    try {
      const want = [
        ...fromIp("IPv4", ipJson(t.nsA, "-4 route show table all")),
        ...fromIp("IPv6", ipJson(t.nsA, "-6 route show table all")),
      ].sort();
      const r = await netmonIn(t.nsA, ["gateways", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const ours: Gateway[] = JSON.parse(r.stdout);
      assert.deepEqual(fromNetmon(ours), want);
      // The topology is what we built (guards against a vacuous comparison).
      const line = (g: Gateway) => `${g.Family} ${g.Destination} ${g.Gateway} ${g.Table}`;
      const got = ours.map(line);
      for (
        const expected of [
          "IPv4 default 10.77.0.2 254",
          "IPv6 default 2001:db8:77::2 254",
          "IPv4 10.200.0.0/16 10.77.0.2 100",
          "IPv4 default 10.78.0.2 100",
          "IPv6 2001:db8:200::/48 fd00:78::2 100",
          "IPv4 10.201.0.0/16 10.77.0.2 254",
          "IPv4 10.201.0.0/16 10.78.0.2 254",
        ]
      ) assert.ok(got.includes(expected), `missing ${expected} in ${got.join(", ")}`);
      const mp = ours.filter((g) => g.Destination === "10.201.0.0/16");
      assert.deepEqual(mp.map((g) => [g.Interface, g.Weight, g.Multipath]).sort(), [
        [t.va, 3, true],
        [t.vc, 1, true],
      ]);
      assert.equal(ours.find((g) => g.Default && g.Table === 100)?.Onlink, true);
      assert.equal(ours.filter((g) => g.Default).length, 3);
    } finally {
      removeTopology(t);
    }
  },
}));

Deno.test(gated({
  name: "gateways prints a table with default routes marked; --default keeps only those",
  needs: skip,
  fn: async () => {
    const t = buildTopology();
    try {
      const r = await netmonIn(t.nsA, ["gateways"]);
      assert.equal(r.code, 0, r.stderr);
      const defaults = r.stdout.split("\n").filter((l) => /│\s*\*\s*│/.test(l));
      assert.equal(defaults.length, 3, r.stdout);
      assert.ok(defaults.every((l) => l.includes("default")));
      assert.match(r.stdout, /main \(254\)/);
      const d = await netmonIn(t.nsA, ["gateways", "--default", "--json"]);
      const only: Gateway[] = JSON.parse(d.stdout);
      assert.equal(only.length, 3);
      assert.ok(only.every((g) => g.Default));
    } finally {
      removeTopology(t);
    }
  },
}));
