/**
 * Self-traffic exclusion: the classic BPF program (run in tests/filter/bpf_vm.ts, an
 * interpreter with the kernel's semantics, against tshark's reading of the fixtures)
 * and the user-space guard.
 */
import assert from "node:assert/strict";
import {
  buildSelfBpf,
  MAX_ADDRESSES_PER_FAMILY,
  resolveServer,
  SELF_STUB_CAPLEN,
  selfExclusionFor,
} from "../../src/filter/self.ts";
import { decodeProgram } from "../../src/filter/bpf.ts";
import { parseIpv4 } from "../../src/filter/addr.ts";
import { UsageError } from "../../src/errors.ts";
import { runBpf } from "./bpf_vm.ts";
import { buildFrame, type FrameSpec, readPcapFrames } from "./frames.ts";
import { cases, endpoint, SERVER } from "./self_cases.ts";
import { PCAPS } from "../helpers/run.ts";
import { tsharkFields } from "../helpers/tshark.ts";
import { gated, NEEDS_TSHARK } from "../helpers/skip.ts";

const BPF = buildSelfBpf(SERVER);
const dropped = (frame: Uint8Array, prog = BPF) => runBpf(prog, frame).ret === SELF_STUB_CAPLEN;

Deno.test("self BPF drops TCP to and from server:port, IPv4 and IPv6, with or without one tag", () => {
  for (const c of cases()) {
    assert.equal(dropped(buildFrame(c.spec)), c.bpf, c.name);
  }
});

Deno.test("self BPF accepts every prefix of a server frame too short to read, drops the rest", () => {
  // A classic BPF load past the end drops the frame: the program must check lengths first.
  for (
    const [spec, need] of [
      [{ src: "198.51.100.7", dst: "192.0.2.10", sport: 40000, dport: 8080 }, 14 + 20 + 4],
      [{
        tags: [0x8100],
        src: "198.51.100.7",
        dst: "192.0.2.10",
        sport: 40000,
        dport: 8080,
        ipOptions: 4,
      }, 18 + 24 + 4],
      [{ src: "2001:db8::7", dst: "2001:db8::10", sport: 40000, dport: 8080 }, 14 + 40 + 4],
      [
        { tags: [0x88a8], src: "2001:db8::10", dst: "2001:db8::7", sport: 8080, dport: 40000 },
        18 + 40 + 4,
      ],
    ] as [FrameSpec, number][]
  ) {
    const frame = buildFrame(spec);
    for (let n = 0; n <= frame.length; n++) {
      assert.equal(dropped(frame.subarray(0, n)), n >= need, `${JSON.stringify(spec)} cut at ${n}`);
    }
  }
});

Deno.test("self BPF accepts IPv4 non-first fragments, ICMP, ARP and other EtherTypes", () => {
  assert.equal(
    dropped(
      buildFrame({
        src: "198.51.100.7",
        dst: "192.0.2.10",
        sport: 40000,
        dport: 8080,
        fragOffset: 185,
      }),
    ),
    false,
  );
  assert.equal(dropped(buildFrame({ src: "198.51.100.7", dst: "192.0.2.10", proto: 1 })), false);
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  assert.equal(dropped(arp), false);
  const lldp = new Uint8Array(60);
  lldp[12] = 0x88;
  lldp[13] = 0xcc;
  assert.equal(dropped(lldp), false);
});

Deno.test("self BPF with only IPv4 or only IPv6 addresses, and with the most addresses allowed", () => {
  const only4 = buildSelfBpf(endpoint(["192.0.2.10"], 443));
  const only6 = buildSelfBpf(endpoint(["2001:db8::10"], 443));
  const f4 = buildFrame({ src: "198.51.100.7", dst: "192.0.2.10", sport: 40000, dport: 443 });
  const f6 = buildFrame({ src: "2001:db8::7", dst: "2001:db8::10", sport: 40000, dport: 443 });
  assert.equal(dropped(f4, only4), true);
  assert.equal(dropped(f6, only4), false);
  assert.equal(dropped(f4, only6), false);
  assert.equal(dropped(f6, only6), true);
  const many: string[] = [];
  for (let i = 1; i <= MAX_ADDRESSES_PER_FAMILY; i++) many.push(`192.0.2.${i}`, `2001:db8::${i}`);
  const big = buildSelfBpf(endpoint(many, 443));
  assert.ok(decodeProgram(big).length <= 4096);
  for (let i = 1; i <= MAX_ADDRESSES_PER_FAMILY; i++) {
    for (const tags of [[], [0x8100]]) {
      assert.equal(
        dropped(
          buildFrame({ tags, src: `192.0.2.${i}`, dst: "10.0.0.1", sport: 443, dport: 5 }),
          big,
        ),
        true,
      );
      assert.equal(
        dropped(
          buildFrame({ tags, src: "2001:db8::ff", dst: `2001:db8::${i}`, sport: 5, dport: 443 }),
          big,
        ),
        true,
      );
    }
  }
  assert.equal(
    dropped(buildFrame({ src: "192.0.2.99", dst: "10.0.0.1", sport: 443, dport: 5 }), big),
    false,
  );
});

/**
 * The fixtures, against tshark: for each frame tshark's first VLAN/IP/TCP fields say whether
 * the kernel filter should drop it (TCP directly in the first IP header after at most one tag).
 */
const FIXTURE_SERVERS: [string, number][] = [
  ["209.87.249.18", 53], // dns_tcp.pcap
  ["66.228.43.12", 80], // accecn_handshake.pcap
  ["10.2.1.2", 2002], // mptcp-fclose.pcap
  ["10.21.11.94", 80], // ipv4_tcp_http_xml.pcap (802.1Q)
  ["2200::240:2:0:0:4", 0], // ipv6-routing-header.pcap (no TCP: nothing dropped)
];

Deno.test(gated({
  name: "self BPF verdicts on every fixture frame agree with tshark",
  needs: NEEDS_TSHARK,
  fn() {
    const progs = FIXTURE_SERVERS.map(([a, p]) => buildSelfBpf(endpoint([a], p)));
    let checked = 0, drops = 0;
    for (const e of Deno.readDirSync(PCAPS)) {
      if (!e.name.endsWith(".pcap")) continue;
      const path = PCAPS + e.name;
      const { linkType, frames } = readPcapFrames(path);
      if (linkType !== 1) continue;
      const rows = tsharkFields(path, [
        "vlan.id",
        "eth.type",
        "ip.proto",
        "ip.frag_offset",
        "ip.src",
        "ip.dst",
        "ipv6.nxt",
        "ipv6.src",
        "ipv6.dst",
        "tcp.srcport",
        "tcp.dstport",
      ]);
      assert.equal(rows.length, frames.length, e.name);
      frames.forEach((frame, i) => {
        const [vlan, , proto, frag, src4, dst4, nxt, src6, dst6, sport, dport] = rows[i].map((c) =>
          c.split(",")
        );
        const tags = vlan[0] === "" ? 0 : vlan.length;
        FIXTURE_SERVERS.forEach(([addr, port], s) => {
          // Only one IP header (no tunnels in these files), carrying TCP itself.
          const v4 = src4[0] !== "" && src6[0] === "";
          const v6 = src6[0] !== "" && src4[0] === "";
          const tcpDirect = v4
            ? proto[0] === "6" && (frag[0] === "0" || frag[0] === "")
            : v6 && nxt[0] === "6";
          const src = v4 ? src4[0] : src6[0];
          const dst = v4 ? dst4[0] : dst6[0];
          const want = tags <= 1 && tcpDirect && sport[0] !== "" &&
            ((dst === addr && Number(dport[0]) === port) ||
              (src === addr && Number(sport[0]) === port));
          const got = runBpf(progs[s], frame).ret === SELF_STUB_CAPLEN;
          assert.equal(got, want, `${e.name} frame ${i + 1}, server ${addr}:${port}`);
          checked++;
          if (got) drops++;
        });
      });
    }
    assert.ok(checked > 1000, `checked ${checked}`);
    assert.ok(drops >= 11 + 6 + 9 + 1, `dropped ${drops}`);
  },
}));

Deno.test("the user-space guard flags the same frames, and what the BPF cannot see", async () => {
  // Needs netmon's IPv4/IPv6/TCP decoders (they fill Frame.sum).
  const { decodeFrame, newDecoder } = await import("../../src/decode/mod.ts");
  const { newFrameMeta } = await import("../../src/decode/meta.ts");
  const ex = selfExclusionFor(SERVER);
  const dec = newDecoder();
  const meta = newFrameMeta();
  for (const c of cases()) {
    const frame = buildFrame(c.spec);
    meta.capLen = meta.wireLen = frame.length;
    decodeFrame(dec, new DataView(frame.buffer), frame, 0, meta);
    assert.equal(ex.matches(dec), c.guard, c.name);
  }
});

Deno.test("resolveServer: literals, default ports, localhost, and errors", async () => {
  let ep = await resolveServer("http://192.0.2.1/ingest");
  assert.deepEqual([ep.v4, ep.v6.length, ep.port], [[parseIpv4("192.0.2.1")], 0, 80]);
  ep = await resolveServer("https://[2001:db8::1]/x");
  assert.deepEqual([ep.v4.length, ep.v6.length, ep.port], [0, 1, 443]);
  ep = await resolveServer("http://localhost:8123");
  assert.deepEqual([ep.v4, ep.v6.length, ep.port], [[parseIpv4("127.0.0.1")], 1, 8123]);
  ep = await resolveServer("http://[::ffff:192.0.2.5]:9000");
  assert.deepEqual([ep.v4, ep.v6.length], [[parseIpv4("192.0.2.5")], 0]);
  assert.equal(
    selfExclusionFor(await resolveServer("http://localhost:8123")).describe(),
    "TCP to/from 127.0.0.1, ::1 port 8123",
  );
  await assert.rejects(
    resolveServer("not a url"),
    (e) => e instanceof UsageError && /not a URL/.test(e.message),
  );
  await assert.rejects(
    resolveServer("ftp://192.0.2.1/"),
    (e) => e instanceof UsageError && /give a port/.test(e.message),
  );
});

Deno.test("resolveServer resolves a host name through the system resolver (/etc/hosts)", async () => {
  const host = Deno.hostname();
  const hosts = Deno.readTextFileSync("/etc/hosts");
  if (!new RegExp(`\\s${host.replace(/\./g, "\\.")}(\\s|$)`, "m").test(hosts)) return; // not in /etc/hosts here
  const ep = await resolveServer(`http://${host}:9999/`);
  assert.ok(ep.v4.length + ep.v6.length > 0);
  assert.equal(ep.port, 9999);
});
