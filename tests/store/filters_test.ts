/**
 * One filter language from capture to query: each rule of docs/filters.md, given as
 * `filter` (and `exclude`) to /api/packets or /api/flows, selects the same records as
 * `netmon capture --filter` (`--exclude`) selects from the same capture, over SQLite and
 * ClickHouse (where attributes without a column go through the stored record).
 */
import assert from "node:assert/strict";
import { generateBenchPcap } from "../../bench/gen_pcap.ts";
import { api, ship, withStores } from "./helpers.ts";
import { runNetmon } from "../helpers/run.ts";
import type { ListAnswer } from "../../src/query/api.ts";

/** [filter, exclude] pairs, one or more per rule of docs/filters.md. */
const CASES: [unknown, unknown?][] = [
  [{}],
  [{ IPv4: { Source_Address: "192.168.1.11" } }],
  [{ TCP: { Destination_Port: 53 } }],
  [{ Ethernet: { EtherType: "0x86dd" } }],
  [{ UDP: { Source_Port: "1024-65535" } }],
  [{ TCP: { Port: [80, 443, "8000-8999"] } }],
  [{ TCP: { Options: {} } }],
  [{ "802.1Q": {} }],
  [{ "802.1Q": { VLAN_ID: "1-100" } }],
  [{ Ethernet: { Length: {} } }],
  [{ IPv4: { Address: "10.0.0.0/8" } }],
  [{ IPv4: { Address: "10.1.2.3/8" } }],
  [{ IPv6: { Address: "fe80::/10" } }],
  [{ IPv6: { Source_Address: "FE80:0:0::E015:81FF:FEB4:B945" } }],
  [{ Ethernet: { Address: "00-11-22-33-44-55" } }],
  [{ Ethernet: { Source_Address: "0011.2233.4466" } }],
  [{ TCP: { Flags: { SYN: true, ACK: false } } }],
  [{ TCP: { Flags: [{ FIN: true }, { RST: true }] } }],
  [{ IPv4: { Checksum_Status: "good" } }],
  [{ TCP: { Options: { Kind: 2, Value: 1460 } } }],
  [{ IPv6: { Extension_Headers: { Header: "Fragment" } } }],
  [[{ TCP: { Port: 53 } }, { UDP: { Port: 53 } }]],
  [{ Decode_Errors: {} }],
  [{ Decode_Errors: { Layer: "TCP" } }],
  [{ Payload: { Unknown_Protocol: {} } }],
  [{ AF_Packet: { Timestamp: "1700000000.01-1700000000.05" } }],
  [{ IPv4: { TTL: 64 } }],
  [{ IPv6: { Hop_Limit: 255 } }],
  [{ UDP: { Port: 53 } }],
  [{ IPv4: { Protocol: 17 } }],
  [{ IPv4_2: {} }],
  [{ IPv6_2: {} }],
  [{ ARP: { Protocol_Address: "10.0.0.0/8" } }],
  [{ ICMPv6: { Type: 135 } }],
  [{ IPv4: {} }, { TCP: { Port: 53 } }],
  [{}, [{ UDP: {} }, { ARP: {} }]],
  [{ Flow: {} }],
  [{ Flow: { Port: 443, State: ["SF", "S1"] } }],
  [{ Flow: { Protocol: "UDP" } }],
  [{ Flow: { Address: "192.168.0.0/16" } }],
  [{ Flow: { Address: ["10.1.1.2", "fe80::/10"] } }],
  [{ Flow: { Duration: "0-0.001" } }],
  [{ Flow: { Interim: false, End_Reason: "shutdown" } }],
  [{ Flow: { Start: "1700000000-1700000000.02" } }],
  [{ Flow: { History: "ShADadFf" } }],
  [{ Flow: { Originator_Payload_Bytes: "1-100000" } }],
  [{ Flow: {} }, { Flow: { Protocol: "TCP" } }],
];

const FLOW_ID = /"Flow_ID":"[^"]*",/;

/** Records of one type `capture --filter` keeps, as sorted JSON texts. */
async function captured(pcap: string, filter: unknown, exclude: unknown): Promise<string[]> {
  const args = ["capture", "-r", pcap, "--json", "--flows", "--community-id"];
  if (filter !== undefined) args.push("--filter", JSON.stringify(filter));
  if (exclude !== undefined) args.push("--exclude", JSON.stringify(exclude));
  const r = await runNetmon(args);
  assert.equal(r.code, 0, r.stderr);
  const flow = JSON.stringify(filter).includes('"Flow"');
  return r.stdout.split("\n").filter((l) => l !== "" && l.startsWith('{"Flow"') === flow)
    .map((l) => l.replace(FLOW_ID, "")).sort();
}

async function listed(base: string, filter: unknown, exclude: unknown): Promise<string[]> {
  const table = JSON.stringify(filter).includes('"Flow"') ? "flows" : "packets";
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const p: Record<string, string> = {
      from: "1699999999",
      to: "1700003600",
      limit: "1000",
      filter: JSON.stringify(filter),
    };
    if (exclude !== undefined) p.exclude = JSON.stringify(exclude);
    if (cursor !== null) p.cursor = cursor;
    const r = await api<ListAnswer>(base, `api/${table}`, p);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const row of r.body.rows) out.push(JSON.stringify(row.record).replace(FLOW_ID, ""));
    cursor = r.body.next;
  } while (cursor !== null);
  return out.sort();
}

Deno.test("store: every filter rule selects the same records in the query API as capture --filter", async () => {
  const work = await Deno.makeTempDir({ prefix: "netmon-filters-" });
  try {
    const pcap = `${work}/mix.pcap`;
    generateBenchPcap(pcap, 2500, `${work}/slice.pcap`);
    const want: string[][] = [];
    for (let i = 0; i < CASES.length; i += 4) {
      want.push(...await Promise.all(CASES.slice(i, i + 4).map(([f, x]) => captured(pcap, f, x))));
    }
    // The cases are not vacuous: most select something, none selects everything.
    assert.ok(want.filter((w) => w.length > 0).length >= CASES.length - 6);
    await withStores(async (kind, srv, dir) => {
      await ship(pcap, srv.url, `${dir}/spool`);
      for (let i = 0; i < CASES.length; i++) {
        const [f, x] = CASES[i];
        const got = await listed(srv.url, f, x);
        assert.deepEqual(
          got,
          want[i],
          `${kind}: filter ${JSON.stringify(f)} exclude ${JSON.stringify(x)}: ${got.length} vs ${
            want[i].length
          }`,
        );
      }
    });
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test("store: a bad filter answers 400 with the message capture --filter prints", async () => {
  await withStores(async (_kind, srv) => {
    for (
      const [f, msg] of [
        [
          '{"IPv4": {"Source_Adress": "1.2.3.4"}}',
          "IPv4.Source_Adress: unknown attribute; did you mean Source_Address?",
        ],
        ['{"TCP": {"Port": 70000}}', "TCP.Port: 70000 is out of range (0-65535)"],
        ['{"TCP": {"Port": 1', "line 1 column 19: invalid JSON"],
      ]
    ) {
      const r = await api<{ error: string }>(srv.url, "api/packets", { filter: f });
      assert.equal(r.status, 400);
      assert.ok(r.body.error.startsWith(`filter: ${msg}`), r.body.error);
      const c = await runNetmon(["capture", "-r", "/dev/null", "--filter", f]);
      assert.equal(c.code, 2);
      assert.ok(c.stderr.includes(msg), c.stderr);
    }
    const bad = await api<{ error: string }>(srv.url, "api/top", { by: "Source_Adress" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /did you mean Source_Address/);
    const unknown = await api<{ error: string }>(srv.url, "api/top", { by: "Port", limt: 3 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error, /unknown parameter 'limt'; did you mean limit/);
  });
});
