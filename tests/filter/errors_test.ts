/** Every filter error: one line naming the filter, the path inside it and the closest valid name. */
import assert from "node:assert/strict";
import { compileFilterSet } from "../../src/filter/mod.ts";
import { UsageError } from "../../src/errors.ts";
import { runNetmon } from "../helpers/run.ts";

async function message(keep: string[], drop: string[] = []): Promise<string> {
  try {
    await compileFilterSet(keep, drop);
  } catch (e) {
    assert.ok(e instanceof UsageError, `not a UsageError: ${e}`);
    assert.equal(e.exitCode, 2);
    assert.ok(!e.message.includes("\n"), "one line");
    return e.message;
  }
  throw new Error(`no error for ${JSON.stringify(keep)} / ${JSON.stringify(drop)}`);
}

const CASES: [string, string][] = [
  [
    '{"IPv4": {"Source_Adress": "1.2.3.4"}}',
    "filter 1 (inline): IPv4.Source_Adress: unknown attribute; did you mean Source_Address?",
  ],
  ['{"Ipv4": {}}', "filter 1 (inline): Ipv4: unknown layer; did you mean IPv4?"],
  ['{"TPC": {"Port": 80}}', "filter 1 (inline): TPC: unknown layer; did you mean TCP?"],
  [
    '{"TCP": {"Destination_Prot": 80}}',
    "filter 1 (inline): TCP.Destination_Prot: unknown attribute; did you mean Destination_Port?",
  ],
  [
    '{"TCP": {"Flags": {"SNY": true}}}',
    "filter 1 (inline): TCP.Flags.SNY: unknown flag; did you mean SYN?",
  ],
  [
    '{"TCP": {"Flags": {"SYN": "yes"}}}',
    'filter 1 (inline): TCP.Flags.SYN: expected true or false, got string "yes"',
  ],
  [
    '{"TCP": {"Flags": true}}',
    'filter 1 (inline): TCP.Flags: expected an object of flags such as {"CWR": true}, got boolean true',
  ],
  [
    '{"TCP": {"Checksum_Status": "god"}}',
    'filter 1 (inline): TCP.Checksum_Status: unknown value "god"; did you mean good?',
  ],
  [
    '{"TCP": {"Checksum_Status": 1}}',
    "filter 1 (inline): TCP.Checksum_Status: expected one of good, bad, unverified, absent, got number 1",
  ],
  [
    '{"TCP": {"Port": "http"}}',
    'filter 1 (inline): TCP.Port: bad number or range "http" (want e.g. 80, "0x0800" or "1024-65535")',
  ],
  [
    '{"TCP": {"Port": true}}',
    'filter 1 (inline): TCP.Port: expected a number, a range "A-B" or a list of them, got boolean true',
  ],
  [
    '{"TCP": {"Port": "2000-1000"}}',
    'filter 1 (inline): TCP.Port: bad range "2000-1000": low end above high end',
  ],
  ['{"TCP": {"Port": 70000}}', "filter 1 (inline): TCP.Port: 70000 is out of range (0-65535)"],
  [
    '{"TCP": {"Port": [80, "1-99999"]}}',
    "filter 1 (inline): TCP.Port[1]: 99999 is out of range (0-65535)",
  ],
  ['{"TCP": {"Port": []}}', "filter 1 (inline): TCP.Port: empty list (it would match nothing)"],
  [
    '{"TCP": {"Port": [[80]]}}',
    "filter 1 (inline): TCP.Port[0]: nested list (a list means any of its values)",
  ],
  [
    '{"TCP": {"Port": null}}',
    'filter 1 (inline): TCP.Port: expected a number, a range "A-B" or a list of them, got null',
  ],
  [
    '{"IPv4": {"Address": "10.0.0.0/33"}}',
    'filter 1 (inline): IPv4.Address: bad CIDR "10.0.0.0/33": prefix length must be 0-32',
  ],
  [
    '{"IPv4": {"Address": "10.0.0/8"}}',
    'filter 1 (inline): IPv4.Address: bad IPv4 address "10.0.0"',
  ],
  [
    '{"IPv4": {"Address": "010.0.0.1"}}',
    'filter 1 (inline): IPv4.Address: bad IPv4 address "010.0.0.1"',
  ],
  [
    '{"IPv4": {"Address": "fd00::/8"}}',
    'filter 1 (inline): IPv4.Address: expected an IPv4 address or CIDR, got "fd00::/8"',
  ],
  [
    '{"IPv6": {"Address": "10.0.0.1"}}',
    'filter 1 (inline): IPv6.Address: expected an IPv6 address or CIDR, got "10.0.0.1"',
  ],
  [
    '{"IPv6": {"Address": "fd00::/129"}}',
    'filter 1 (inline): IPv6.Address: bad CIDR "fd00::/129": prefix length must be 0-128',
  ],
  [
    '{"IPv6": {"Address": "fd00:::1"}}',
    'filter 1 (inline): IPv6.Address: bad IPv6 address "fd00:::1"',
  ],
  [
    '{"IPv6": {"Address": "1:2:3:4:5:6:7:8:9"}}',
    'filter 1 (inline): IPv6.Address: bad IPv6 address "1:2:3:4:5:6:7:8:9"',
  ],
  [
    '{"IPv4": {"Address": 167772161}}',
    "filter 1 (inline): IPv4.Address: expected an IPv4 address or CIDR, got number 167772161",
  ],
  [
    '{"Ethernet": {"Address": "00:1b:21:3c:9d"}}',
    'filter 1 (inline): Ethernet.Address: bad MAC address "00:1b:21:3c:9d" (want 6 hex bytes, e.g. 00:1b:21:3c:9d:f8)',
  ],
  [
    '{"Ethernet": {"Address": "00:1b-21:3c:9d:f8"}}',
    'filter 1 (inline): Ethernet.Address: bad MAC address "00:1b-21:3c:9d:f8" (want 6 hex bytes, e.g. 00:1b:21:3c:9d:f8)',
  ],
  [
    '{"AF_Packet": {"Interface_Name": 3}}',
    "filter 1 (inline): AF_Packet.Interface_Name: expected a string, got number 3",
  ],
  [
    '{"802.1Q": {"VLAN_ID": 5000}}',
    "filter 1 (inline): 802.1Q.VLAN_ID: 5000 is out of range (0-4095)",
  ],
  [
    '{"802.1Q": {"Restored": "yes"}}',
    'filter 1 (inline): 802.1Q.Restored: expected true or false, got string "yes"',
  ],
  [
    '{"TCP": {"Options": {"Name": null}}}',
    "filter 1 (inline): TCP.Options.Name: null is not a filter value (use {} for present)",
  ],
  [
    '{"TCP": 80}',
    "filter 1 (inline): TCP: expected an object of attributes ({} = layer present), got number 80",
  ],
  [
    '{"Flow": {"Port": 80}, "TCP": {}}',
    'filter 1 (inline): TCP: a flow filter holds only "Flow" (flow records have no packet layers); use two filters',
  ],
  [
    '{"Flow": {"Stat": "SF"}}',
    "filter 1 (inline): Flow.Stat: unknown attribute; did you mean State?",
  ],
  [
    '[{"TCP": {}}, {"UDP": {"Prot": 53}}]',
    "filter 1 (inline): [1].UDP.Prot: unknown attribute; did you mean Port?",
  ],
  ["[]", "filter 1 (inline): empty list of filters (it would match nothing)"],
  ["[1]", 'filter 1 (inline): [0]: expected a filter object ({"Layer": {...}}), got number 1'],
  ['{"TCP": {}', "filter 1 (inline): line 1 column 11: invalid JSON (close brace expected)"],
  [
    '{"TCP": {"Port": 80 "x": 1}}',
    "filter 1 (inline): line 1 column 21: invalid JSON (comma expected)",
  ],
  ["{", "filter 1 (inline): line 1 column 2: invalid JSON (close brace expected)"],
];

Deno.test("every filter error message", async () => {
  for (const [filter, want] of CASES) assert.equal(await message([filter]), want, filter);
});

Deno.test("errors name the filter's position, kind and file", async () => {
  assert.equal(
    await message(['{"TCP": {}}', '{"IPv4": {"Source_Adress": "1.2.3.4"}}']),
    "filter 2 (inline): IPv4.Source_Adress: unknown attribute; did you mean Source_Address?",
  );
  assert.equal(
    await message([], ['{"UDP": {}}', '{"UDP": {}}', '{"UDP": {"Port": "x"}}']),
    'exclude 3 (inline): UDP.Port: bad number or range "x" (want e.g. 80, "0x0800" or "1024-65535")',
  );
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/f.json`;
    await Deno.writeTextFile(f, '{\n  // comment\n  "IPv4": { "Source_Adress": "1.2.3.4", },\n}\n');
    assert.equal(
      await message([f]),
      `filter 1 (${f}): IPv4.Source_Adress: unknown attribute; did you mean Source_Address?`,
    );
    await Deno.writeTextFile(f, '{\n  "IPv4": {\n    "Source_Address": "1.2.3.4"\n  \n');
    assert.equal(
      await message([f]),
      `filter 1 (${f}): line 5 column 1: invalid JSON (close brace expected)`,
    );
    await Deno.writeTextFile(f, "");
    assert.equal(
      await message([f]),
      `filter 1 (${f}): line 1 column 1: invalid JSON (value expected)`,
    );
    assert.equal(
      await message([`${dir}/missing.json`]),
      `filter 1 (${dir}/missing.json): cannot read: no such file (inline JSON must start with { or [)`,
    );
    assert.match(await message([dir]), new RegExp(`^filter 1 \\(${dir}\\): cannot read: `));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("netmon capture exits 2 with the one-line message before reading anything", async () => {
  const r = await runNetmon([
    "capture",
    "-r",
    "/nonexistent.pcap",
    "--filter",
    '{"IPv4":{"Source_Adress":"1.2.3.4"}}',
  ]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /filter 1 \(inline\): IPv4\.Source_Adress: unknown attribute; did you mean Source_Address\?$/,
  );
});
