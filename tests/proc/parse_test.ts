/**
 * Parser tests on files copied from a real /proc/<pid>/net (kernel 6.18, x86_64), taken while
 * tests/proc/holder.py held its sockets in a fresh namespace (see fixtures/proc/README.md).
 */
import assert from "node:assert/strict";
import { FIXTURES } from "../helpers/run.ts";
import { maskLength, networkOrderIPv6, procAddress, wordsToBytes } from "../../src/proc/addr.ts";
import { parseSocketTable, type SocketRow } from "../../src/proc/sockets.ts";
import { parseArp } from "../../src/proc/arp.ts";
import { parseDev } from "../../src/proc/dev.ts";
import { parseIPv6Route, parseRoute } from "../../src/proc/route.ts";
import { counter, parsePairedCounters, parseSnmp6 } from "../../src/proc/counters.ts";
import { parseStat } from "../../src/proc/stat.ts";

const fx = (name: string) => Deno.readTextFileSync(`${FIXTURES}proc/${name}`);
const ep = (r: SocketRow) =>
  `${r.Local_Address}:${r.Local_Port} ${r.Remote_Address}:${r.Remote_Port} ${r.State}`;

Deno.test("procAddress() decodes little-endian IPv4 words and byte-swapped IPv6 words", () => {
  assert.equal(procAddress("0100007F", true), "127.0.0.1");
  assert.equal(procAddress("7F000001", false), "127.0.0.1");
  assert.equal(procAddress("0001C80A", true), "10.200.1.0");
  assert.equal(procAddress("00000000000000000000000001000000", true), "::1");
  assert.equal(procAddress("0000000000000000FFFF00000100007F", true), "::ffff:127.0.0.1");
  // 2001:db8::1 as the kernel prints it on x86: each 32-bit word reversed.
  assert.equal(procAddress("B80D0120000000000000000001000000", true), "2001:db8::1");
  assert.equal(procAddress("20010DB8000000000000000000000001", false), "2001:db8::1");
  // RFC 5952: lowercase, longest zero run compressed, first one on ties, no :: for one group.
  assert.equal(procAddress("B80D0120000000000000010001000000", true), "2001:db8::1:0:0:1");
  assert.equal(procAddress("B80D01200100000001000100", true), null);
  assert.equal(procAddress("B80D0120010000000100010001000100", true), "2001:db8:0:1:1:1:1:1");
  assert.equal(procAddress("B80D012000000100010001000100", true), null);
  assert.equal(procAddress("zz00007F", true), null);
});

Deno.test("networkOrderIPv6() and maskLength() (ipv6_route order, route masks)", () => {
  assert.equal(networkOrderIPv6("20010db8000100000000000000000000"), "2001:db8:1::");
  assert.equal(networkOrderIPv6("00000000000000000000000000000001"), "::1");
  assert.equal(maskLength(wordsToBytes("00FFFFFF", true)!), 24);
  assert.equal(maskLength(wordsToBytes("00000000", true)!), 0);
  assert.equal(maskLength(new Uint8Array([255, 0, 255, 0])), null);
});

Deno.test("parseSocketTable() reads tcp: IPv4 listener, established pairs and a short TIME_WAIT row", () => {
  const rows = parseSocketTable(fx("tcp"), "tcp", true);
  assert.deepEqual(rows.map(ep), [
    "127.0.0.1:38149 0.0.0.0:0 LISTEN",
    "127.0.0.1:48542 127.0.0.1:34253 ESTABLISHED",
    "127.0.0.1:55160 127.0.0.1:40949 TIME_WAIT",
    "127.0.0.1:38149 127.0.0.1:59126 ESTABLISHED",
    "127.0.0.1:59126 127.0.0.1:38149 ESTABLISHED",
  ]);
  const [listen, est, tw] = rows;
  assert.equal(listen.Inode, 12752);
  assert.equal(listen.Timer, "off");
  assert.equal(listen.RTO_Ticks, 100);
  assert.equal(listen.Cwnd, 10);
  assert.equal(est.Ssthresh, -1);
  assert.equal(est.UID, 0);
  // TIME_WAIT: no socket inode, timer by name, remaining time 0x16B1 ticks, no trailer.
  assert.equal(tw.Inode, 0);
  assert.equal(tw.Timer, "timewait");
  assert.equal(tw.Timer_Seconds, 0x16b1 / 100);
  assert.equal(tw.Ref_Count, 3);
  assert.equal(tw.RTO_Ticks, undefined);
  assert.equal(tw.Extra, undefined);
  assert.ok(rows.every((r) => r.Own === false && r.Protocol === "tcp"));
});

Deno.test("parseSocketTable() reads tcp6: wildcard listener, ::1 pair and IPv4-mapped peer", () => {
  const rows = parseSocketTable(fx("tcp6"), "tcp6", true);
  assert.deepEqual(rows.map(ep), [
    ":::34253 :::0 LISTEN",
    "::ffff:127.0.0.1:34253 ::ffff:127.0.0.1:48542 ESTABLISHED",
    "::1:59168 ::1:34253 ESTABLISHED",
    "::1:34253 ::1:59168 ESTABLISHED",
  ]);
  assert.deepEqual(rows.map((r) => r.Inode), [12755, 12759, 12756, 12757]);
});

Deno.test("parseSocketTable() finds columns by header name when a kernel adds one", () => {
  const plain = parseSocketTable(fx("tcp"), "tcp", true);
  const extra = parseSocketTable(fx("tcp-extra-column"), "tcp", true);
  assert.equal(extra.length, plain.length);
  for (let i = 0; i < plain.length; i++) {
    const { Extra, ...rest } = extra[i];
    assert.deepEqual(Extra, { xtra: "42" });
    assert.deepEqual(rest, plain[i]);
  }
  // Reordered named columns and the rem_address/remote_address alias.
  const text = "sl inode remote_address local_address st\n 0: 777 0100007F:0050 0100007F:1F90 01\n";
  const [r] = parseSocketTable(text, "tcp", true);
  assert.equal(ep(r), "127.0.0.1:8080 127.0.0.1:80 ESTABLISHED");
  assert.equal(r.Inode, 777);
});

Deno.test("parseSocketTable() reads udp and udp6 with queues and drops; datagram CLOSE is UNCONN", () => {
  const udp = parseSocketTable(fx("udp"), "udp", true);
  assert.deepEqual(udp.map(ep), [
    "127.0.0.1:49050 127.0.0.1:38461 ESTABLISHED",
    "127.0.0.1:38461 0.0.0.0:0 UNCONN",
  ]);
  assert.equal(udp[1].Rx_Queue, 0x340); // ss showed Recv-Q 832
  assert.equal(udp[1].Drops, 0);
  assert.equal(udp[1].Slot, 6526);
  const udp6 = parseSocketTable(fx("udp6"), "udp6", true);
  assert.deepEqual(udp6.map(ep), [
    "::1:50088 :::0 UNCONN",
    "::ffff:127.0.0.1:45024 ::ffff:127.0.0.1:38461 ESTABLISHED",
  ]);
  assert.deepEqual(udp6.map((r) => r.Inode), [12765, 12766]);
});

Deno.test("parseSocketTable() reads raw/raw6 (port = protocol) and icmp/icmp6 ping sockets", () => {
  assert.deepEqual(parseSocketTable(fx("raw"), "raw", true).map(ep), [
    "0.0.0.0:1 0.0.0.0:0 UNCONN",
  ]);
  assert.deepEqual(parseSocketTable(fx("raw6"), "raw6", true).map(ep), [":::58 :::0 UNCONN"]);
  assert.deepEqual(parseSocketTable(fx("icmp"), "icmp", true).map(ep), [
    "127.0.0.1:47924 0.0.0.0:0 UNCONN",
  ]);
  assert.deepEqual(parseSocketTable(fx("icmp6"), "icmp6", true).map(ep), ["::1:47925 :::0 UNCONN"]);
});

Deno.test("parseArp() reads columns whose header names contain spaces", () => {
  assert.deepEqual(parseArp(fx("arp")), [{
    IP_Address: "10.200.1.2",
    HW_Type: 1,
    Flags: 6,
    Flag_Names: ["complete", "permanent"],
    HW_Address: "02:00:00:00:00:02",
    Mask: "*",
    Device: "va",
  }]);
});

Deno.test("parseDev() names counters by group and column, including glued 'iface:value'", () => {
  const rows = parseDev(fx("dev"));
  assert.deepEqual(rows.map((r) => r.Interface), ["lo", "vb", "va"]);
  const va = rows[2].Counters;
  assert.equal(va.Receive_Bytes, 426);
  assert.equal(va.Transmit_Bytes, 486);
  assert.equal(va.Transmit_Colls, 0);
  assert.equal(Object.keys(va).length, 16);
  const glued = "Inter-| Receive |Transmit\n face |packets bytes|bytes\n eth0:12345678901 7 9\n";
  assert.deepEqual(parseDev(glued)[0], {
    Interface: "eth0",
    Counters: { Receive_Packets: 12345678901, Receive_Bytes: 7, Transmit_Bytes: 9 },
  });
});

Deno.test("parseRoute() and parseIPv6Route() read the routes ip route shows", () => {
  const v4 = parseRoute(fx("route"), true);
  assert.deepEqual(
    v4.map((r) => `${r.Destination} ${r.Gateway ?? "-"} ${r.Interface} ${r.Metric} ${r.Flag_Text}`),
    [
      "10.200.1.0/24 - va 0 U",
      "198.51.100.0/24 10.200.1.2 va 7 UG",
    ],
  );
  const v6 = parseIPv6Route(fx("ipv6_route"));
  const text = v6.map((r) =>
    `${r.Destination} ${r.Gateway ?? "-"} ${r.Interface} ${r.Metric} ${r.Flag_Text}`
  );
  assert.equal(text[0], "2001:db8:1::/48 fd00:200::2 va 9 UG");
  assert.ok(text.includes("fd00:200::/64 - va 256 U"));
  assert.ok(text.includes("::/0 - lo 4294967295 !"));
  assert.ok(text.includes("ff00::/8 - va 256 U"));
  assert.equal(v6.length, 12);
  assert.ok(v6.every((r) => r.MTU === null && r.Source === "::/0"));
});

Deno.test("parsePairedCounters() and parseSnmp6() key counters by group and name", () => {
  const c = parsePairedCounters(fx("snmp"));
  parsePairedCounters(fx("netstat"), c);
  parseSnmp6(fx("snmp6"), c);
  assert.equal(counter(c, "Tcp", "RtoAlgorithm"), 1);
  assert.equal(counter(c, "Tcp", "RtoMin"), 200);
  assert.equal(counter(c, "Tcp", "MaxConn"), -1);
  assert.ok((counter(c, "Tcp", "ActiveOpens") ?? 0) >= 4);
  assert.equal(typeof counter(c, "TcpExt", "TW"), "number");
  assert.equal(typeof counter(c, "IpExt", "InOctets"), "number");
  assert.equal(typeof counter(c, "MPTcpExt", "MPCapableSYNRX"), "number");
  assert.equal(typeof counter(c, "Ip6", "InReceives"), "number");
  assert.equal(typeof counter(c, "Icmp6", "InMsgs"), "number");
  assert.equal(typeof counter(c, "UdpLite6", "InDatagrams"), "number");
  for (const g of ["Ip", "Icmp", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt"]) {
    assert.ok(c.has(g), `group ${g}`);
  }
  // Same counters in another order (a newer kernel) give the same values.
  const snmp = fx("snmp").split("\n");
  const i = snmp.findIndex((l) => l.startsWith("Tcp:"));
  const rev = (l: string) => "Tcp: " + l.slice(5).trim().split(/\s+/).reverse().join(" ");
  snmp[i] = rev(snmp[i]);
  snmp[i + 1] = rev(snmp[i + 1]);
  const c2 = parsePairedCounters(snmp.join("\n"));
  assert.deepEqual(c2.get("Tcp"), parsePairedCounters(fx("snmp")).get("Tcp"));
});

Deno.test("parseStat() reads state and start time, counting from the last ')'", () => {
  assert.deepEqual(parseStat(fx("stat")), {
    pid: 7785,
    comm: "python3",
    state: "S",
    startTime: 57515,
  });
  const odd = "42 (a) b (c) Z 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 999 0 0\n";
  assert.deepEqual(parseStat(odd), { pid: 42, comm: "a) b (c", state: "Z", startTime: 999 });
  assert.equal(parseStat("garbage"), null);
});
