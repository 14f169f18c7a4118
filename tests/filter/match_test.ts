/** Every matching rule of docs/filters.md, on hand-made records. */
import assert from "node:assert/strict";
import { compileFilterSet, type RecordPredicate } from "../../src/filter/mod.ts";
import type { PacketRecord } from "../../src/decode/record.ts";
import { tcp } from "./records.ts";

async function pkt(...filters: string[]): Promise<RecordPredicate> {
  const fs = await compileFilterSet(filters, []);
  assert.ok(fs.packets !== null);
  return fs.packets;
}

const R = tcp("10.1.2.3", "192.168.0.9", 40000, 443);
const R6 = tcp("2001:db8::1", "fd12:3456::9", 40000, 53);

Deno.test("{} means the layer is present; all layers of a filter must match", async () => {
  assert.equal((await pkt('{"TCP": {}}'))(R), true);
  assert.equal((await pkt('{"UDP": {}}'))(R), false);
  assert.equal((await pkt('{"IPv4": {}, "TCP": {}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {}, "UDP": {}}'))(R), false);
  assert.equal((await pkt("{}"))(R), true, "an empty filter matches every packet record");
});

Deno.test("all attributes of a layer must match; strings and numbers match exactly", async () => {
  assert.equal((await pkt('{"TCP": {"Destination_Port": 443, "Source_Port": 40000}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Destination_Port": 443, "Source_Port": 40001}}'))(R), false);
  assert.equal((await pkt('{"AF_Packet": {"Interface_Name": "eth0"}}'))(R), true);
  assert.equal((await pkt('{"AF_Packet": {"Interface_Name": "eth"}}'))(R), false);
  assert.equal((await pkt('{"AF_Packet": {"Packet_Type": "host"}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {"Checksum_Status": "bad"}}'))(R), false);
  assert.equal(
    (await pkt('{"TCP": {"Window": 0}}'))(R),
    false,
    "an attribute the record lacks never matches",
  );
  assert.equal((await pkt('{"TCP": {"Window": {}}}'))(R), false, "{} on an attribute: present");
  assert.equal((await pkt('{"TCP": {"Options": {}}}'))(R), true);
});

Deno.test("numbers: hex text, ranges and lists", async () => {
  assert.equal((await pkt('{"Ethernet": {"EtherType": "0x0800"}}'))(R), true);
  assert.equal((await pkt('{"Ethernet": {"EtherType": 2048}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Source_Port": "1024-65535"}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Destination_Port": "1024-65535"}}'))(R), false);
  assert.equal((await pkt('{"TCP": {"Destination_Port": "443"}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Destination_Port": [80, 443, "8000-8100"]}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Destination_Port": [80, "8000-8100"]}}'))(R), false);
  assert.equal((await pkt('{"TCP": {"Destination_Port": ["400-450"]}}'))(R), true);
  // Timestamps are decimal strings in records; ranges compare them as numbers.
  assert.equal((await pkt('{"AF_Packet": {"Timestamp": "1700000000-1700000001"}}'))(R), true);
  assert.equal((await pkt('{"AF_Packet": {"Timestamp": "1700000000.6-1700000001"}}'))(R), false);
  // A number beyond 2^53 travels as a decimal string.
  assert.equal(
    (await pkt('{"TCP": {"Payload_Length": "9007199254740993"}}'))(
      tcp("1.1.1.1", "2.2.2.2", 1, 2, { Payload_Length: "9007199254740993" }),
    ),
    true,
  );
});

Deno.test("addresses: exact, CIDR, lists, IPv6 canonical form", async () => {
  assert.equal((await pkt('{"IPv4": {"Source_Address": "10.1.2.3"}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {"Source_Address": "10.0.0.0/8"}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {"Source_Address": "10.1.2.0/24"}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {"Source_Address": "10.1.3.0/24"}}'))(R), false);
  assert.equal((await pkt('{"IPv4": {"Source_Address": "10.1.2.3/32"}}'))(R), true);
  assert.equal((await pkt('{"IPv4": {"Source_Address": "0.0.0.0/0"}}'))(R), true);
  assert.equal(
    (await pkt('{"IPv4": {"Source_Address": "10.1.2.99/24"}}'))(R),
    true,
    "host bits are ignored",
  );
  assert.equal(
    (await pkt('{"IPv4": {"Destination_Address": ["172.16.0.0/12", "192.168.0.0/16"]}}'))(R),
    true,
  );
  assert.equal(
    (await pkt('{"IPv4": {"Destination_Address": ["172.16.0.0/12", "192.169.0.0/16"]}}'))(R),
    false,
  );
  assert.equal((await pkt('{"IPv4": {"Destination_Address": "255.255.255.255/1"}}'))(R), true);
  assert.equal((await pkt('{"IPv6": {"Destination_Address": "fd00::/8"}}'))(R6), true);
  assert.equal((await pkt('{"IPv6": {"Destination_Address": "fd12:3456::/32"}}'))(R6), true);
  assert.equal((await pkt('{"IPv6": {"Destination_Address": "fd12:3457::/32"}}'))(R6), false);
  assert.equal((await pkt('{"IPv6": {"Destination_Address": "fd12:3456::/31"}}'))(R6), true);
  assert.equal(
    (await pkt('{"IPv6": {"Source_Address": "2001:0DB8:0000:0000:0000:0000:0000:0001"}}'))(R6),
    true,
  );
  assert.equal((await pkt('{"IPv6": {"Source_Address": "2001:db8::0:1"}}'))(R6), true);
  assert.equal((await pkt('{"IPv6": {"Source_Address": "2001:db8::2"}}'))(R6), false);
  assert.equal((await pkt('{"IPv6": {"Source_Address": "::/0"}}'))(R6), true);
  const mapped = tcp("::ffff:10.0.0.1", "::1", 1, 2);
  assert.equal((await pkt('{"IPv6": {"Source_Address": "::ffff:a00:1"}}'))(mapped), true);
  assert.equal((await pkt('{"IPv6": {"Source_Address": "::ffff:0:0/96"}}'))(mapped), true);
  // ARP protocol addresses (and flow addresses) take IPv4 or IPv6 in one list.
  const arp: PacketRecord = {
    ARP: { Sender_Protocol_Address: "10.0.0.1", Target_Protocol_Address: "10.0.0.254" },
  };
  assert.equal(
    (await pkt('{"ARP": {"Target_Protocol_Address": ["fe80::/10", "10.0.0.0/24"]}}'))(arp),
    true,
  );
});

Deno.test("MAC addresses match in any case and separator", async () => {
  for (
    const m of [
      "00:1b:21:3c:9d:f8",
      "00:1B:21:3C:9D:F8",
      "00-1b-21-3c-9d-f8",
      "001b.213c.9df8",
      "001B213C9DF8",
    ]
  ) {
    assert.equal((await pkt(`{"Ethernet": {"Source_Address": "${m}"}}`))(R), true, m);
  }
  assert.equal((await pkt('{"Ethernet": {"Source_Address": "00:1b:21:3c:9d:f9"}}'))(R), false);
  assert.equal(
    (await pkt('{"Ethernet": {"Destination_Address": ["FF:FF:FF:FF:FF:FF"]}}'))(R),
    true,
  );
});

Deno.test("nested flags: every named flag must have the given value", async () => {
  assert.equal((await pkt('{"TCP": {"Flags": {"SYN": true}}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Flags": {"SYN": true, "ACK": false}}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Flags": {"SYN": true, "ACK": true}}}'))(R), false);
  assert.equal(
    (await pkt('{"TCP": {"Flags": [{"RST": true}, {"SYN": true}]}}'))(R),
    true,
    "list of flag sets: any",
  );
  assert.equal((await pkt('{"IPv4": {"Flags": {"DF": true, "MF": false}}}'))(R), true);
});

Deno.test("either direction: Address, Port, and ARP's Hardware/Protocol_Address", async () => {
  const p = await pkt('{"IPv4": {"Address": "192.168.0.0/16"}, "TCP": {"Port": 443}}');
  assert.equal(p(R), true);
  assert.equal(p(tcp("192.168.0.9", "10.1.2.3", 443, 40000)), true, "reverse direction");
  assert.equal(p(tcp("10.1.2.3", "10.9.9.9", 40000, 443)), false);
  assert.equal((await pkt('{"TCP": {"Port": "40000-40010"}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Port": 22}}'))(R), false);
  assert.equal((await pkt('{"IPv6": {"Address": "fd00::/8"}}'))(R6), true);
  assert.equal((await pkt('{"Ethernet": {"Address": "ff-ff-ff-ff-ff-ff"}}'))(R), true);
  const arp: PacketRecord = {
    ARP: {
      Sender_Hardware_Address: "00:00:5e:00:53:01",
      Target_Hardware_Address: "00:00:00:00:00:00",
      Sender_Protocol_Address: "10.0.0.1",
      Target_Protocol_Address: "10.0.0.2",
    },
  };
  assert.equal((await pkt('{"ARP": {"Hardware_Address": "00005E005301"}}'))(arp), true);
  assert.equal((await pkt('{"ARP": {"Protocol_Address": "10.0.0.2"}}'))(arp), true);
  assert.equal((await pkt('{"ARP": {"Protocol_Address": "10.0.0.3"}}'))(arp), false);
});

Deno.test("structural match on lists and objects (options, TLVs)", async () => {
  assert.equal((await pkt('{"TCP": {"Options": {"Name": "MSS"}}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Options": {"Name": "MSS", "Value": 1460}}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Options": {"Name": "MSS", "Value": 536}}}'))(R), false);
  assert.equal((await pkt('{"TCP": {"Options": [{"Name": "Timestamps"}, {"Kind": 4}]}}'))(R), true);
  assert.equal((await pkt('{"TCP": {"Options": {"Name": "Timestamps"}}}'))(R), false);
});

Deno.test("a list of filters matches when any member matches; repeated keys name later layers", async () => {
  const p = await pkt('[{"UDP": {}}, {"TCP": {"Destination_Port": 443}}]');
  assert.equal(p(R), true);
  assert.equal(p(tcp("1.1.1.1", "2.2.2.2", 1, 2)), false);
  const tunnel: PacketRecord = {
    IPv4: { Source_Address: "1.1.1.1" },
    IPv4_2: { Source_Address: "10.0.0.1" },
  };
  assert.equal((await pkt('{"IPv4_2": {"Source_Address": "10.0.0.0/8"}}'))(tunnel), true);
  assert.equal(
    (await pkt('{"IPv4": {"Source_Address": "10.0.0.0/8"}}'))(tunnel),
    false,
    "plain key = first occurrence",
  );
});

Deno.test("Payload, Decode_Errors and Community_ID can be matched", async () => {
  const rec: PacketRecord = {
    Ethernet: {},
    Payload: { Length: 10, Captured_Length: 10, Unknown_Protocol: "EtherType 0x88b5" },
    Decode_Errors: [{ Layer: "IPv4", Problem: "truncated", Offset: 14 }, {
      Layer: "TCP",
      Problem: "bad",
      Offset: 40,
    }],
    Community_ID: "1:abc=",
  };
  assert.equal((await pkt('{"Payload": {"Unknown_Protocol": "EtherType 0x88b5"}}'))(rec), true);
  assert.equal((await pkt('{"Decode_Errors": {}}'))(rec), true);
  assert.equal((await pkt('{"Decode_Errors": {}}'))(R), false);
  assert.equal(
    (await pkt('{"Decode_Errors": {"Layer": "TCP"}}'))(rec),
    true,
    "any element of the list",
  );
  assert.equal(
    (await pkt('{"Decode_Errors": {"Layer": "TCP", "Problem": "truncated"}}'))(rec),
    false,
  );
  assert.equal((await pkt('{"Community_ID": ["1:x=", "1:abc="]}'))(rec), true);
});

Deno.test("keep filters: any matches; exclude filters: any match drops; packet and flow filters apart", async () => {
  const fs = await compileFilterSet(['{"TCP": {"Port": 443}}', '{"UDP": {}}'], [
    '{"IPv4": {"Source_Address": "10.9.0.0/16"}}',
  ]);
  assert.equal(fs.packets!(R), true);
  assert.equal(fs.packets!(tcp("10.9.0.1", "1.1.1.1", 5, 443)), false, "excluded");
  assert.equal(fs.packets!(tcp("10.1.0.1", "1.1.1.1", 5, 80)), false, "matches no keep filter");
  assert.equal(fs.flows, null, "packet filters leave flow records alone");

  const only = await compileFilterSet([], ['{"TCP": {"Port": 22}}']);
  assert.equal(only.packets!(R), true);
  assert.equal(only.packets!(tcp("1.1.1.1", "2.2.2.2", 22, 5)), false);

  const flow = {
    Flow: {
      Protocol: "TCP",
      Source_Address: "10.0.0.1",
      Destination_Address: "fd00::1",
      Source_Port: 5,
      Destination_Port: 443,
      State: "SF",
      Interim: false,
    },
  };
  const ff = await compileFilterSet([
    '[{"Flow": {"Port": 443, "State": ["SF", "S0"]}}, {"TCP": {}}]',
  ], ['{"Flow": {"Address": "fd00::/8", "Interim": true}}']);
  assert.ok(ff.flows !== null && ff.packets !== null);
  assert.equal(ff.flows(flow), true);
  assert.equal(ff.flows({ Flow: { ...flow.Flow, Interim: true } }), false);
  assert.equal(ff.flows({ Flow: { ...flow.Flow, Destination_Port: 80 } }), false);
  assert.equal(ff.packets(R), true);
  assert.deepEqual(await compileFilterSet([], []), { packets: null, flows: null });
});

Deno.test("filters from files: JSONC with comments and trailing commas, one object or a list", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/keep.jsonc`;
    await Deno.writeTextFile(
      f,
      `// web traffic
[
  { "TCP": { "Port": [80, 443], }, }, /* plain and TLS */
  { "UDP": { "Port": 443 } },
]`,
    );
    const p = await pkt(f);
    assert.equal(p(R), true);
    assert.equal(p(tcp("1.1.1.1", "2.2.2.2", 1, 2)), false);
    assert.equal((await pkt(`  ${'{"TCP": {}}'}`))(R), true, "leading space: still inline JSON");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
