/**
 * `netmon interfaces --json` against `ip -j -d -s addr` (the oracle) in a fresh namespace:
 * names, indexes, MACs, MTUs, operstate, flags, kinds, peers, every address and the
 * counters (bounded by an `ip -s` snapshot taken before and one after netmon ran).
 */
import assert from "node:assert/strict";
import { have, sh, skipUnless } from "../helpers/run.ts";
import { buildTopology, ipJson, netmonIn, removeTopology } from "./ns.ts";
import type { NetInterface } from "../../src/net/interfaces.ts";
import { gated } from "../helpers/skip.ts";

const skip = skipUnless({ root: true, tools: ["ip"] });
if (skip) console.log(`tests/net/interfaces_test.ts: skipped: ${skip}`);

// deno-lint-ignore no-explicit-any
type Json = any;

/** ip's per-address booleans and the netmon flag each corresponds to. */
const ADDR_FLAGS: [string, string][] = [
  ["secondary", "Secondary"],
  ["temporary", "Temporary"],
  ["nodad", "No_DAD"],
  ["tentative", "Tentative"],
  ["deprecated", "Deprecated"],
  ["noprefixroute", "No_Prefix_Route"],
];

const COUNTERS: [string, string, keyof NonNullable<NetInterface["Counters"]>][] = [
  ["rx", "bytes", "RX_Bytes"],
  ["rx", "packets", "RX_Packets"],
  ["rx", "errors", "RX_Errors"],
  ["rx", "dropped", "RX_Dropped"],
  ["tx", "bytes", "TX_Bytes"],
  ["tx", "packets", "TX_Packets"],
  ["tx", "errors", "TX_Errors"],
  ["tx", "dropped", "TX_Dropped"],
];

function compareInterface(ours: NetInterface, ip: Json) {
  const n = ours.Name;
  assert.equal(ours.Index, ip.ifindex, `${n} index`);
  assert.equal(ours.MTU, ip.mtu, `${n} mtu`);
  assert.equal(ours.MAC, ip.address ?? null, `${n} MAC`);
  assert.equal(ours.Operstate, ip.operstate, `${n} operstate`);
  assert.equal(ours.Link_Type, ip.link_type, `${n} link type`);
  assert.equal(ours.Kind, ip.linkinfo?.info_kind ?? null, `${n} kind`);
  assert.equal(ours.Master, ip.master ?? null, `${n} master`);
  assert.equal(ours.Link, ip.link ?? ip.link_index ?? null, `${n} link`);
  // ip prints the set flags without RUNNING, plus the pseudo-flags NO-CARRIER and M-DOWN.
  const ipFlags = new Set<string>(ip.flags);
  for (const [f, on] of Object.entries(ours.Flags)) {
    if (f === "RUNNING") continue;
    assert.equal(on, ipFlags.has(f), `${n} flag ${f}`);
  }
  for (const f of ipFlags) if (f !== "NO-CARRIER" && f !== "M-DOWN") assert.ok(f in ours.Flags, f);
  assert.equal(ipFlags.has("NO-CARRIER"), ours.Flags.UP && !ours.Flags.RUNNING, `${n} carrier`);
  const ipAddrs: Json[] = ip.addr_info ?? [];
  assert.equal(ours.Addresses.length, ipAddrs.length, `${n} address count`);
  ipAddrs.forEach((want, k) => {
    const got = ours.Addresses[k];
    const at = `${n} address ${want.local}`;
    assert.equal(got.Family, want.family === "inet" ? "IPv4" : "IPv6", at);
    assert.equal(got.Address, want.local, at);
    assert.equal(got.Prefix_Length, want.prefixlen, at);
    assert.equal(got.Scope, want.scope, at);
    assert.equal(got.Broadcast, want.broadcast, at);
    assert.equal(got.Label, want.label, at);
    assert.equal(got.Peer, want.address, at);
    assert.equal(!got.Flags.Permanent, want.dynamic === true, `${at} dynamic`);
    for (const [ipName, ourName] of ADDR_FLAGS) {
      if (ourName in got.Flags) {
        assert.equal(got.Flags[ourName], want[ipName] === true, `${at} ${ipName}`);
      }
    }
  });
}

Deno.test(gated({
  name: "interfaces --json agrees with ip -j -d -s addr in a fresh namespace",
  needs: skip,
  fn: async () => {
    const t = buildTopology();
    try {
      if (have("ping")) {
        // Known traffic on va: 3 echo requests in, 3 replies out.
        sh(`ip netns exec ${t.nsB} ping -c 3 -i 0.2 -W 2 10.77.0.1 >/dev/null`);
      }
      const ip: Json[] = ipJson(t.nsA, "-d addr");
      const before: Json[] = ipJson(t.nsA, "-s link");
      const r = await netmonIn(t.nsA, ["interfaces", "--json"]);
      const after: Json[] = ipJson(t.nsA, "-s link");
      assert.equal(r.code, 0, r.stderr);
      const ours: NetInterface[] = JSON.parse(r.stdout);
      assert.deepEqual(ours.map((i) => i.Name), ip.map((i) => i.ifname));
      for (const want of ip) {
        compareInterface(ours.find((i) => i.Name === want.ifname)!, want);
      }
      // The topology is what we built (guards against a vacuous comparison).
      const va = ours.find((i) => i.Name === t.va)!;
      assert.deepEqual(va.Addresses.map((a) => `${a.Address}/${a.Prefix_Length}`).slice(0, 3), [
        "10.77.0.1/24",
        "10.77.0.5/24",
        "2001:db8:77::1/64",
      ]);
      assert.equal(va.Addresses[1].Flags.Secondary, true);
      assert.equal(va.Kind, "veth");
      assert.equal(typeof va.Link, "number", "peer in another namespace is shown by index");
      assert.equal(ours.find((i) => i.Name === t.vc)!.Link, t.vd);
      const dm = ours.find((i) => i.Name === t.dm)!;
      assert.equal(dm.Kind, t.dmKind);
      assert.equal(dm.MTU, 1400);
      assert.equal(ours.find((i) => i.Name === t.vd)!.Operstate, "DOWN");
      // Counters lie between the two ip snapshots (traffic may happen meanwhile: ND, MLD).
      for (const i of ours) {
        const lo = before.find((x) => x.ifname === i.Name).stats64;
        const hi = after.find((x) => x.ifname === i.Name).stats64;
        for (const [dir, field, key] of COUNTERS) {
          const v = Number(i.Counters![key]);
          assert.ok(lo[dir][field] <= v && v <= hi[dir][field], `${i.Name} ${key} ${v}`);
        }
      }
      if (have("ping")) {
        assert.ok(Number(va.Counters!.RX_Packets) >= 3 && Number(va.Counters!.TX_Packets) >= 3);
      }
    } finally {
      removeTopology(t);
    }
  },
}));

Deno.test(gated({
  name: "interfaces NAME shows one interface as a table; an unknown name exits 2",
  needs: skip,
  fn: async () => {
    const t = buildTopology();
    try {
      const r = await netmonIn(t.nsA, ["interfaces", t.va]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${t.va}@if\\d+`));
      assert.match(r.stdout, /10\.77\.0\.1\/24/);
      assert.doesNotMatch(r.stdout, new RegExp(t.vc));
      const bad = await netmonIn(t.nsA, ["interfaces", "nosuch0"]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr.trim().split("\n").length, 1);
      assert.match(bad.stderr, /no interface 'nosuch0' \(have: lo, /);
    } finally {
      removeTopology(t);
    }
  },
}));
