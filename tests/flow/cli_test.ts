import assert from "node:assert/strict";
import { PCAPS, runNetmon } from "../helpers/run.ts";
import { communityIdV1, parseIp } from "../../src/flow/community_id.ts";

Deno.test("capture -r --flows-only --json prints flow records only, one per conversation", async () => {
  const r = await runNetmon(["capture", "-r", PCAPS + "dns_tcp.pcap", "--flows-only", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(recs.length, 1);
  const f = recs[0].Flow;
  assert.equal(f.State, "SF");
  assert.equal(f.Originator_Packets + f.Responder_Packets, 11);
  assert.equal(
    f.Community_ID,
    communityIdV1(
      parseIp(f.Source_Address),
      parseIp(f.Destination_Address),
      6,
      f.Source_Port,
      f.Destination_Port,
    ),
  );
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
