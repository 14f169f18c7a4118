/**
 * Live capture against tcpdump: two namespaces joined by a veth pair (plus a second pair
 * whose traffic must never show up, and a VLAN on the first), netmon and tcpdump on the
 * same end, a known mix of ARP, ping, ping -6 with neighbour discovery, UDP, a TCP
 * connection with data and tagged frames. netmon must record exactly the frames tcpdump
 * recorded, field by field as tshark reads tcpdump's file.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, run, skipUnless } from "../helpers/run.ts";
import { tsharkFields } from "../helpers/tshark.ts";
import { finish, Lab, signal, sleep, waitFor } from "./netns.ts";
import { gated } from "../helpers/skip.ts";

const SKIP = skipUnless({
  root: true,
  tools: ["ip", "ss", "tcpdump", "tshark", "ping", "bash", "trafgen"],
});
const DENO = Deno.execPath();
/** One TCP connection on 10.77.0.2:5556, read to the end, then closed (a bounded sink). */
const TCP_SINK = `const l = Deno.listen({ hostname: "10.77.0.2", port: 5556 });
const c = await l.accept();
l.close();
const buf = new Uint8Array(4096);
while ((await c.read(buf)) !== null);
c.close();`;

/** Fields compared frame by frame; tshark names, first occurrence. */
const FIELDS = [
  "frame.time_epoch",
  "frame.len",
  "frame.cap_len",
  "eth.src",
  "eth.dst",
  "eth.type",
  "vlan.id",
  "arp.opcode",
  "arp.src.proto_ipv4",
  "arp.dst.proto_ipv4",
  "ip.src",
  "ip.dst",
  "ip.proto",
  "ipv6.src",
  "ipv6.dst",
  "ipv6.nxt",
  "icmp.type",
  "icmpv6.type",
  "udp.srcport",
  "udp.dstport",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.seq_raw",
  "tcp.ack_raw",
] as const;

const col = (name: (typeof FIELDS)[number]) => FIELDS.indexOf(name);
const TRANSPORT = [
  "udp.srcport",
  "udp.dstport",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.seq_raw",
  "tcp.ack_raw",
]
  .map((f) => col(f as (typeof FIELDS)[number]));

/**
 * First occurrence of each field; for ICMP errors tshark's transport fields come from the
 * quoted datagram, which netmon keeps inside the ICMP layer: those are left out.
 */
function outerOnly(row: string[]): string[] {
  const r = row.map((c) => c.split(",")[0]);
  const icmpError = ["3", "5", "11", "12"].includes(r[col("icmp.type")]) ||
    ["1", "2", "3", "4"].includes(r[col("icmpv6.type")]);
  if (icmpError) { for (const i of TRANSPORT) r[i] = ""; }
  return r;
}

type Rec = Record<string, Record<string, unknown> | undefined>;

/** The same fields from a netmon JSON record, as tshark prints them. */
function recordRow(r: Rec): string[] {
  const s = (v: unknown) => (v === undefined || v === null ? "" : String(v));
  const hex4 = (
    v: unknown,
  ) => (typeof v === "number" ? "0x" + v.toString(16).padStart(4, "0") : "");
  const af = r.AF_Packet!;
  const eth = r.Ethernet ?? {};
  const tag = r["802.1Q"];
  const ip = r.IPv4 ?? {};
  const ip6 = r.IPv6 ?? {};
  const tcp = r.TCP ?? {};
  const tcpOn = r.TCP !== undefined;
  return [
    s(af.Timestamp),
    s(af.Length),
    s(af.Captured_Length),
    s(eth.Source_Address),
    s(eth.Destination_Address),
    hex4(eth.EtherType),
    s(tag?.VLAN_ID),
    s(r.ARP?.Operation),
    s(r.ARP?.Sender_Protocol_Address),
    s(r.ARP?.Target_Protocol_Address),
    s(ip.Source_Address),
    s(ip.Destination_Address),
    s(ip.Protocol),
    s(ip6.Source_Address),
    s(ip6.Destination_Address),
    s(ip6.Next_Header),
    s(r.ICMP?.Type),
    s(r.ICMPv6?.Type),
    s(r.UDP?.Source_Port),
    s(r.UDP?.Destination_Port),
    s(tcp.Source_Port),
    s(tcp.Destination_Port),
    tcpOn ? s(tcp.Sequence_Number) : "",
    tcpOn ? s(tcp.Acknowledgment_Number) : "",
  ];
}

/** Every Checksum_Status anywhere in a record. */
function checksumStatuses(r: Rec): string[] {
  const out: string[] = [];
  for (const layer of Object.values(r)) {
    if (layer && typeof layer === "object" && typeof layer.Checksum_Status === "string") {
      out.push(layer.Checksum_Status);
    }
  }
  return out;
}

async function compareWithTcpdump(mode: "ring" | "recvmmsg"): Promise<void> {
  const lab = new Lab();
  const tmp = Deno.makeTempDirSync({ prefix: "nm-live-" });
  const children: Deno.ChildProcess[] = [];
  try {
    lab.create();
    const main = lab.veth("v", "10.77.0", "fd00:77");
    lab.veth("w", "10.78.0");
    const ifindex = lab.ifindex(lab.nsB, main.b);
    // Interfaces just came up: let the kernel's own announcements pass before capturing.
    await sleep(1500);
    lab.sh(lab.nsA, `ip neigh flush all`);
    lab.sh(lab.nsB, `ip neigh flush all`);

    // Traffic on the other pair while netmon opens its socket and all along: never seen.
    const noise = lab.spawn(lab.nsA, ["ping", "-q", "-c", "60", "-i", "0.05", "10.78.0.2"]);
    children.push(noise);

    const ethFile = `${tmp}/eth.pcap`;
    const tcpdump = lab.spawn(lab.nsB, [
      "tcpdump",
      "-i",
      main.b,
      "-n",
      "-U",
      "-Z",
      "root",
      "--time-stamp-precision=nano",
      "-w",
      ethFile,
    ]);
    children.push(tcpdump);
    const env: Record<string, string> = mode === "recvmmsg" ? { NETMON_LIVE_RECVMMSG: "1" } : {};
    const netmon = lab.spawn(
      lab.nsB,
      [DENO, "run", "-A", MAIN, "capture", "-i", main.b, "--json"],
      env,
    );
    children.push(netmon);
    await waitFor(
      "two packet sockets on the capture end",
      () => lab.packetSockets(lab.nsB, ifindex) >= 2,
    );

    // The known mix, from namespace a to b.
    const server = lab.spawn(lab.nsB, ["timeout", "20", DENO, "eval", TCP_SINK]);
    children.push(server);
    await waitFor("the TCP listener", () => lab.sh(lab.nsB, "ss -Hltn").includes("10.77.0.2:5556"));
    const script = `${tmp}/mix.sh`;
    Deno.writeTextFileSync(
      script,
      [
        "set -e",
        "ping -q -c 2 -i 0.2 -W 2 10.77.0.2",
        "ping -6 -q -c 2 -i 0.2 -W 2 fd00:77::2",
        'for i in 1 2 3; do echo "udp $i" > /dev/udp/10.77.0.2/5555; sleep 0.05; done',
        "exec 3<>/dev/tcp/10.77.0.2/5556",
        "printf 'hello over tcp\\n' >&3",
        "exec 3>&-",
        // Two 802.1Q frames (VLAN 100): the receiving end strips the tag into the metadata.
        `trafgen -o ${main.a} -n 2 -P 1 -t 50ms -C '{ eth(da=${lab.mac(lab.nsB, main.b)}, ` +
        `sa=${
          lab.mac(lab.nsA, main.a)
        }), vlan(id=100, pcp=3), ipv4(saddr=10.79.0.1, daddr=10.79.0.2), ` +
        `udp(sp=4000, dp=4001), "tagged" }' > /dev/null`,
      ].join("\n") + "\n",
    );
    const mix = await run(["ip", "netns", "exec", lab.nsA, "timeout", "30", "bash", script]);
    assert.equal(mix.code, 0, `traffic script failed: ${mix.stderr}`);
    await finish(server);
    // Let the last ring block retire (20 ms) and tcpdump write, then stop all three.
    await sleep(1000);
    for (const c of [netmon, tcpdump]) signal(c, "SIGINT");
    const nm = await finish(netmon);
    await finish(tcpdump);
    await finish(noise);

    // SIGINT: exit 0 with tcpdump's summary words.
    assert.equal(nm.code, 0, nm.stderr);
    const records: Rec[] = nm.stdout.trim().split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l)
    );
    const want = tsharkFields(ethFile, [...FIELDS]).map(outerOnly);
    assert.ok(want.length >= 20, `tcpdump saw only ${want.length} frames`);
    assert.match(nm.stderr, new RegExp(`^${records.length} packets captured$`, "m"));
    const recv = Number(/^(\d+) packets received by filter$/m.exec(nm.stderr)?.[1]);
    assert.ok(recv >= records.length, nm.stderr);
    assert.match(nm.stderr, /^0 packets dropped by kernel$/m);

    // Exactly tcpdump's frames, in order, field by field.
    assert.equal(
      records.length,
      want.length,
      `netmon ${records.length} frames, tcpdump ${want.length}`,
    );
    // Timestamps: the kernel's skb time when the frame carries one (both sockets read the
    // same value); frames without one (e.g. TCP across namespaces, where the send-side
    // time is scrubbed) are stamped by each socket as it gets them, microseconds apart.
    let sameTime = 0;
    for (let i = 0; i < want.length; i++) {
      const got = recordRow(records[i]);
      assert.match(got[0], /^\d{10}\.\d{9}$/);
      const dt = Math.abs(Number(got[0]) - Number(want[i][0]));
      assert.ok(dt < 1, `frame ${i + 1}: timestamp ${got[0]} vs tcpdump ${want[i][0]}`);
      if (got[0] === want[i][0]) sameTime++;
      assert.deepEqual(got.slice(1), want[i].slice(1), `frame ${i + 1}`);
    }
    assert.ok(sameTime > 0, "no frame had tcpdump's exact timestamp");

    // Interface and packet type, from the addresses: this end sends "outgoing" frames.
    const own = lab.mac(lab.nsB, main.b);
    for (let i = 0; i < records.length; i++) {
      const af = records[i].AF_Packet!;
      assert.equal(af.Interface_Name, main.b);
      assert.equal(af.Interface_Index, ifindex);
      const [src, dst] = [want[i][3], want[i][4]];
      const type = src === own
        ? "outgoing"
        : dst === own
        ? "host"
        : dst === "ff:ff:ff:ff:ff:ff"
        ? "broadcast"
        : dst.startsWith("33:33:") || dst.startsWith("01:")
        ? "multicast"
        : "otherhost";
      assert.equal(af.Packet_Type, type, `frame ${i + 1} packet type`);
    }

    // The mix is all there; the other pair's traffic is not.
    const has = (k: string) => records.some((r) => r[k] !== undefined);
    for (const k of ["ARP", "ICMP", "ICMPv6", "UDP", "TCP", "IPv6", "802.1Q"]) {
      assert.ok(has(k), `no ${k}`);
    }
    assert.ok(!nm.stdout.includes("10.78.0."), "a frame of the other veth pair appeared");
    // Offloaded checksums (CHECKSUM_PARTIAL on veth) are "unverified", never "bad".
    const statuses = records.flatMap(checksumStatuses);
    assert.ok(!statuses.includes("bad"), "a checksum reported bad");
    assert.ok(statuses.includes("unverified"));
  } finally {
    for (const c of children) signal(c, "SIGKILL");
    for (const c of children) await c.status.catch(() => {});
    for (const c of children) {
      await c.stdout.cancel().catch(() => {});
      await c.stderr.cancel().catch(() => {});
    }
    lab.destroy();
    Deno.removeSync(tmp, { recursive: true });
  }
}

Deno.test(gated({
  name: "live capture (TPACKET_V3 ring) records exactly the frames tcpdump records",
  needs: SKIP,
  fn: () => compareWithTcpdump("ring"),
}));

Deno.test(gated({
  name: "live capture (recvmmsg fallback) records exactly the frames tcpdump records",
  needs: SKIP,
  fn: () => compareWithTcpdump("recvmmsg"),
}));

Deno.test("an unknown interface exits 2 with one line listing the interfaces", async () => {
  const r = await run([DENO, "run", "-A", MAIN, "capture", "-i", "nosuch0"], { cwd: ROOT });
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^netmon: unknown interface 'nosuch0' \(available: lo\b.*\)$/);
});

Deno.test(gated({
  name: "without CAP_NET_RAW live capture exits 2 with one line saying what is needed",
  needs: skipUnless({ root: true, tools: ["setpriv"] }),
  fn: async () => {
    // Root minus CAP_NET_RAW in the bounding set: the process keeps its files, loses the capability.
    const r = await run([
      "setpriv",
      "--bounding-set",
      "-net_raw",
      DENO,
      "run",
      "-A",
      MAIN,
      "capture",
      "-i",
      "lo",
    ]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /needs root or CAP_NET_RAW/);
    assert.match(lines[0], /setcap cap_net_raw,cap_net_admin\+ep/);
  },
}));
