/**
 * `netmon capture -r FILE` end to end: JSON lines, -c, -w read back by tcpdump and
 * tshark, a cut-off file, an unsupported link type, and the human text lines.
 */
import assert from "node:assert/strict";
import { PCAPS, runNetmon, sh } from "../helpers/run.ts";
import { tsharkFields } from "../helpers/tshark.ts";
import { buildPcap, readFixture } from "./build.ts";
import { gated, NEEDS_TSHARK, needsTool } from "../helpers/skip.ts";

const ENV = { TZ: "UTC", NO_COLOR: "1" };

function tmpPath(suffix: string): string {
  return Deno.makeTempFileSync({ prefix: "netmon_cli_", suffix });
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

function stamp(rec: Record<string, unknown>): string {
  return (rec.AF_Packet as Record<string, unknown>).Timestamp as string;
}

Deno.test(gated({
  name: "capture -r --json prints one record per frame, in file order",
  needs: NEEDS_TSHARK,
  async fn() {
    for (const name of ["dns_tcp.pcap", "IGMP_V1.pcap", "icmpv6-length-zero.pcapng"]) {
      const r = await runNetmon(["capture", "-r", PCAPS + name, "--json"], { env: ENV });
      assert.equal(r.code, 0, r.stderr);
      const recs = jsonLines(r.stdout);
      const want = tsharkFields(PCAPS + name, ["frame.time_epoch", "frame.len"]);
      assert.deepEqual(
        recs.map((x) => [stamp(x), String((x.AF_Packet as Record<string, unknown>).Length)]),
        want,
        name,
      );
    }
  },
}));

Deno.test("capture -r -c N stops after N frames", async () => {
  const r = await runNetmon(["capture", "-r", PCAPS + "IGMP_V1.pcap", "--json", "-c", "4"], {
    env: ENV,
  });
  assert.equal(r.code, 0, r.stderr);
  const recs = jsonLines(r.stdout);
  assert.equal(recs.length, 4);
  const all = jsonLines(
    (await runNetmon(["capture", "-r", PCAPS + "IGMP_V1.pcap", "--json"], { env: ENV })).stdout,
  );
  assert.equal(all.length, 27);
  assert.deepEqual(recs, all.slice(0, 4));
  assert.match(r.stderr, /^4 packets captured$/m);
});

Deno.test(gated({
  name: "capture -r -w writes a pcap that tcpdump and tshark read back frame for frame",
  needs: NEEDS_TSHARK ?? needsTool("tcpdump"),
  async fn() {
    for (const [name, count] of [["LLDP_and_CDP.pcap", 0], ["mptcp-fclose.pcap", 5]] as const) {
      const orig = PCAPS + name;
      const out = tmpPath(".pcap");
      try {
        const args = ["capture", "-r", orig, "-w", out];
        if (count > 0) args.push("-c", String(count));
        const r = await runNetmon(args, { env: ENV });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "", "-w alone prints no lines");
        // tcpdump: same timestamps, lengths and bytes (hex dump), header line aside.
        const dump = (f: string) =>
          sh(`TZ=UTC tcpdump -nn -tt -xx -r '${f}' 2>/dev/null`).split("\n").filter((l) =>
            l !== ""
          );
        const wantDump = dump(orig);
        const gotDump = dump(out);
        const frameStarts = wantDump.filter((l) => /^\d+\.\d{6} /.test(l)).length;
        if (count === 0) assert.deepEqual(gotDump, wantDump);
        else {
          assert.ok(frameStarts > count);
          assert.equal(gotDump.filter((l) => /^\d+\.\d{6} /.test(l)).length, count);
          assert.deepEqual(gotDump, wantDump.slice(0, gotDump.length));
        }
        // tshark: same fields, byte for byte.
        const fields = ["frame.time_epoch", "frame.len", "frame.cap_len", "frame.protocols"];
        const tw = tsharkFields(orig, fields);
        const tg = tsharkFields(out, fields);
        assert.deepEqual(tg, count === 0 ? tw : tw.slice(0, count));
        const hex = (f: string) => sh(`tshark -r '${f}' -x 2>/dev/null`);
        if (count === 0) assert.equal(hex(out), hex(orig));
      } finally {
        Deno.removeSync(out);
      }
    }
  },
}));

Deno.test(gated({
  name: "a cut-off file prints the records before the cut, then one error line, exit 1",
  needs: needsTool("tcpdump"),
  async fn() {
    const whole = Deno.readFileSync(PCAPS + "dns_tcp.pcap");
    const path = tmpPath(".pcap");
    try {
      Deno.writeFileSync(path, whole.subarray(0, whole.length - 10));
      const r = await runNetmon(["capture", "-r", path, "--json"], { env: ENV });
      assert.equal(r.code, 1);
      const recs = jsonLines(r.stdout);
      const tcpdumpLines = sh(`tcpdump -nn -r '${path}' 2>/dev/null || true`)
        .split("\n").filter((l) => l !== "");
      assert.equal(recs.length, tcpdumpLines.length);
      assert.equal(recs.length, 10);
      const errLines = r.stderr.split("\n").filter((l) => /cut off/.test(l));
      assert.equal(errLines.length, 1, r.stderr);
      assert.match(errLines[0], /record 11/);
      assert.ok(!/^\s+at /m.test(r.stderr), "no stack trace");
    } finally {
      Deno.removeSync(path);
    }
  },
}));

Deno.test("an unsupported link type and a missing file are one-line usage errors (exit 2)", async () => {
  const path = tmpPath(".pcap");
  try {
    Deno.writeFileSync(
      path,
      buildPcap(readFixture("dns_udp.pcap").pkts, { linkType: 228, le: true, nsec: false }),
    );
    const r = await runNetmon(["capture", "-r", path, "--json"], { env: ENV });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /unsupported link type 228 \(IPv4\)/);
    const m = await runNetmon(["capture", "-r", "/nonexistent.pcap"], { env: ENV });
    assert.equal(m.code, 2);
    assert.equal(m.stderr.trim().split("\n").length, 1, m.stderr);
    assert.match(m.stderr, /nonexistent\.pcap.*no such file/);
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test(gated({
  name: "without --json: one human line per frame with tcpdump's time, addresses, length",
  needs: needsTool("tcpdump"),
  async fn() {
    for (const name of ["802.1ad_QinQ.pcap", "LLDP_and_CDP.pcap", "802.1D_spanning_tree.pcap"]) {
      const r = await runNetmon(["capture", "-r", PCAPS + name], { env: ENV });
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split("\n").filter((l) => l !== "");
      const td = sh(`TZ=UTC tcpdump -nn -e -r '${PCAPS + name}' 2>/dev/null`)
        .split("\n").filter((l) => /^\d\d:\d\d:\d\d\.\d{6} /.test(l));
      assert.equal(lines.length, td.length, name);
      lines.forEach((l, i) => {
        const [time, srcMac, , dstMac] = td[i].split(" ");
        assert.ok(l.startsWith(time + " Ethernet"), `${l} vs ${td[i]}`);
        assert.ok(l.includes(`${srcMac} > ${dstMac.replace(/,$/, "")}`), `${l} vs ${td[i]}`);
        assert.match(l, /, frame \d+/);
      });
    }
    const arp = await runNetmon(["capture", "-r", PCAPS + "802.1ad_QinQ.pcap"], { env: ENV });
    assert.match(arp.stdout, /vlan 200, p 0, vlan 2001, p 0, ARP Request who-has 172\.21\.79\.100/);
  },
}));
