/**
 * The two filters of issue 4, verbatim (trailing comma included), as keep and as drop
 * filters on a loopback capture with known matches (fixtures/filter/make_lo_capture.sh),
 * checked frame by frame against tshark's display filters.
 */
import assert from "node:assert/strict";
import { compileFilterSet } from "../../src/filter/mod.ts";
import { decodeFile } from "../helpers/decode_file.ts";
import { FIXTURES, PCAPS, runNetmon } from "../helpers/run.ts";
import { HAVE_TSHARK, tsharkFields } from "../helpers/tshark.ts";

const CAPTURE = `${FIXTURES}filter/lo_tcp5000.pcapng`;

const FILTER_1 = `{
  "IPv4":{ "Source_Address":"127.0.0.1", "Destination_Address":"127.0.0.1" },
  "TCP":{ "Destination_Port":5000, }
}`;
const FILTER_2 = `{ "AF_Packet":{"Interface_Name":"lo"}, "IPv4":{} }`;

/** What tshark says, or the counts taken when the fixture was made (65 frames). */
const DISPLAY_1 = "ip.src==127.0.0.1 && ip.dst==127.0.0.1 && tcp.dstport==5000";
const DISPLAY_2 = 'frame.interface_name=="lo" && ip';
const KNOWN = { frames: 65, f1: 14, f2: 53 };

function tsharkFrames(display: string): number[] {
  return tsharkFields(CAPTURE, ["frame.number"], ["-Y", display]).map((r) => Number(r[0]) - 1);
}

function indexes(
  recs: Record<string, unknown>[],
  pred: (r: Record<string, unknown>) => boolean,
): number[] {
  const out: number[] = [];
  recs.forEach((r, i) => {
    if (pred(r)) out.push(i);
  });
  return out;
}

Deno.test("the issue's filters, verbatim, keep and drop the frames tshark's display filters select", async () => {
  const recs = await decodeFile(CAPTURE);
  assert.equal(recs.length, KNOWN.frames);
  const want1 = HAVE_TSHARK ? tsharkFrames(DISPLAY_1) : null;
  const want2 = HAVE_TSHARK ? tsharkFrames(DISPLAY_2) : null;
  const all = recs.map((_, i) => i);

  for (
    const [filter, want, known] of [[FILTER_1, want1, KNOWN.f1], [
      FILTER_2,
      want2,
      KNOWN.f2,
    ]] as const
  ) {
    const keep = (await compileFilterSet([filter], [])).packets!;
    const drop = (await compileFilterSet([], [filter])).packets!;
    const kept = indexes(recs, keep);
    assert.equal(kept.length, known);
    if (want !== null) assert.deepEqual(kept, want);
    assert.deepEqual(indexes(recs, drop), all.filter((i) => !kept.includes(i)));
  }
  // Both as keep filters: either matches. Filter 2 as keep and 1 as drop: the difference.
  const either = (await compileFilterSet([FILTER_1, FILTER_2], [])).packets!;
  assert.equal(indexes(recs, either).length, KNOWN.f2, "filter 1's frames are all IPv4 on lo");
  const diff = (await compileFilterSet([FILTER_2], [FILTER_1])).packets!;
  assert.equal(indexes(recs, diff).length, KNOWN.f2 - KNOWN.f1);
});

Deno.test("netmon capture -r applies --filter and --exclude (files and inline) to --json and -w", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f1 = `${dir}/f1.json`;
    await Deno.writeTextFile(f1, FILTER_1);
    const count = (out: string) => out.split("\n").filter((l) => l.startsWith("{")).length;

    let r = await runNetmon(["capture", "-r", CAPTURE, "--json", "--filter", f1]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(count(r.stdout), KNOWN.f1);
    for (const line of r.stdout.trim().split("\n")) {
      const rec = JSON.parse(line);
      assert.equal(rec.TCP.Destination_Port, 5000);
      assert.equal(rec.IPv4.Destination_Address, "127.0.0.1");
    }
    assert.match(r.stderr, new RegExp(`\\b${KNOWN.frames - KNOWN.f1} filtered out`));

    r = await runNetmon([
      "capture",
      "-r",
      CAPTURE,
      "--json",
      "--exclude",
      f1,
      "--exclude",
      FILTER_2,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(count(r.stdout), KNOWN.frames - KNOWN.f2);

    // The same from the INI configuration: a file path and an inline filter, keys repeat.
    const ini = `${dir}/netmon.ini`;
    await Deno.writeTextFile(
      ini,
      `[filter]\nfilter = ${f1}\nfilter = ${FILTER_2}\nexclude = {"TCP": {"Port": 5000}}\n`,
    );
    r = await runNetmon(["capture", "-r", CAPTURE, "--json", "--config", ini]);
    assert.equal(r.code, 0, r.stderr);
    const viaIni = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(viaIni.length > 0 && viaIni.length < KNOWN.f2);
    for (const rec of viaIni) {
      assert.equal(rec.AF_Packet.Interface_Name, "lo");
      assert.ok(rec.IPv4 !== undefined);
      assert.ok(
        rec.TCP === undefined ||
          (rec.TCP.Source_Port !== 5000 && rec.TCP.Destination_Port !== 5000),
      );
    }

    const out = `${dir}/kept.pcap`;
    r = await runNetmon([
      "capture",
      "-r",
      CAPTURE,
      "-w",
      out,
      "--filter",
      FILTER_2,
      "--exclude",
      f1,
    ]);
    assert.equal(r.code, 0, r.stderr);
    if (HAVE_TSHARK) {
      assert.equal(tsharkFields(out, ["frame.number"]).length, KNOWN.f2 - KNOWN.f1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("filters on decoded fixtures: VLAN tags, QinQ, ARP either direction, 802.3 length", async () => {
  const count = async (file: string, filter: string) => {
    const p = (await compileFilterSet([filter], [])).packets!;
    return (await decodeFile(PCAPS + file)).filter((r) => p(r)).length;
  };
  assert.equal(
    await count("802.1ad_QinQ.pcap", '{"802.1ad": {"VLAN_ID": 200}, "802.1Q": {"VLAN_ID": 2001}}'),
    2,
  );
  assert.equal(await count("802.1ad_QinQ.pcap", '{"802.1Q": {"VLAN_ID": 200}}'), 0);
  assert.equal(await count("802.1ad_QinQ.pcap", '{"ARP": {"Protocol_Address": "0.0.0.0/0"}}'), 2);
  assert.equal(
    await count(
      "ipv4_tcp_http_xml.pcap",
      '{"802.1Q": {"VLAN_ID": "100-200"}, "TCP": {"Port": 80}}',
    ),
    1,
  );
  assert.equal(
    await count("802.1D_spanning_tree.pcap", '{"Ethernet": {"Length": {}}, "STP": {}}'),
    14,
  );
  assert.equal(await count("dns_tcp.pcap", '{"TCP": {"Flags": {"SYN": true, "ACK": false}}}'), 1);
  assert.equal(await count("dns_tcp.pcap", '{"TCP": {"Options": {"Kind": 2, "Value": 1460}}}'), 2);
  assert.equal(await count("stp-heapoverflow-1.pcap", '{"Decode_Errors": {}}') > 0, true);
});
