import assert from "node:assert/strict";
import { FIXTURES, PCAPS, runNetmon } from "../helpers/run.ts";
import { HAVE_TSHARK } from "../helpers/tshark.ts";
import { tsharkCommunityIds } from "./community_ids.ts";

/** tshark 4.0.17's `communityid` of every frame of dns_tcp.pcap (one TCP connection). */
const DNS_TCP_ID = "1:Y9CU9ov/Nil5pVQ5T76exw3p0Oc=";

Deno.test("capture -r --flows-only --json prints flow records only, one per conversation", async () => {
  const r = await runNetmon(["capture", "-r", PCAPS + "dns_tcp.pcap", "--flows-only", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(recs.length, 1);
  const f = recs[0].Flow;
  assert.equal(f.State, "SF");
  assert.equal(f.Originator_Packets + f.Responder_Packets, 11);
  assert.equal(f.Community_ID, DNS_TCP_ID);
  if (HAVE_TSHARK) {
    const live = tsharkCommunityIds(PCAPS + "dns_tcp.pcap");
    assert.ok(live.every((t) => t.id === DNS_TCP_ID), "tshark's own communityid");
  }
  assert.match(r.stderr, /1 flow records/);
});

Deno.test("capture -r --community-id adds the flow's Community_ID to every TCP packet record", async () => {
  const r = await runNetmon(["capture", "-r", PCAPS + "dns_tcp.pcap", "--community-id", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  const packets = recs.filter((x) => x.TCP);
  const flows = recs.filter((x) => x.Flow);
  assert.equal(packets.length, 11);
  assert.equal(flows.length, 1);
  assert.ok(packets.every((p) => p.Community_ID === flows[0].Flow.Community_ID));
});

Deno.test("capture -r --json without flow options prints packet records only", async () => {
  const r = await runNetmon(["capture", "-r", PCAPS + "dns_tcp.pcap", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(recs.length, 11);
  assert.ok(recs.every((x) => x.Flow === undefined));
});

Deno.test("capture -r --community-id gives each crafted frame tshark's Community ID", async () => {
  // One-way ICMP both ways between two hosts (two flows, two ids), two-way ICMP types,
  // equal addresses, SCTP ports: fixtures/flow/community_id_tshark.json (tshark 4.0).
  const want: { frame: number; tshark_seed0: string }[] = JSON.parse(
    await Deno.readTextFile(FIXTURES + "flow/community_id_tshark.json"),
  );
  const r = await runNetmon([
    "capture",
    "-r",
    FIXTURES + "flow/community_id.pcap",
    "--community-id",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const packets = r.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((x) => !x.Flow);
  assert.equal(packets.length, want.length);
  const wrong = want.filter((w, i) => w.frame !== 16 && packets[i].Community_ID !== w.tshark_seed0)
    .map((w) => `frame ${w.frame}: ${packets[w.frame - 1].Community_ID}, tshark ${w.tshark_seed0}`);
  assert.deepEqual(wrong, []);
});
