/**
 * Tunnels (issue 15): the Tunnel summary and filters on it, inner layers named `_2`,
 * the flow summary on the innermost IP header and transport, moved UDP ports, bounded
 * nesting; and a real Linux VXLAN tunnel between two namespaces, compared with tshark
 * field by field (scripts/tshark_diff.ts).
 */
import assert from "node:assert/strict";
import { FIXTURES, ROOT, skipUnless } from "../../helpers/run.ts";

import { decodeFile } from "../../helpers/decode_file.ts";
import { decodeCapture, diffCapture, formatMismatch } from "../../../scripts/tshark_diff.ts";
import { compileFilterValue } from "../../../src/filter/compile.ts";
import { decodeFrame, newDecoder } from "../../../src/decode/mod.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";
import { MAX_DEPTH } from "../../../src/decode/frame.ts";
import { TUNNEL_TYPES } from "../../../src/decode/tunnel.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { gated, NEEDS_TSHARK } from "../../helpers/skip.ts";

const ENCAP = `${FIXTURES}conformance/encap.pcap`;
const VXLAN_NETNS = `${FIXTURES}conformance/netns_vxlan.pcap`;
type L = Record<string, unknown>;

const matches = (filter: unknown, recs: PacketRecord[]) => {
  const [f] = compileFilterValue(filter);
  return recs.filter((r) => f.match(r));
};

Deno.test("every crafted encapsulation gets its Tunnel summary; filters address it and inner layers", async () => {
  const recs = await decodeFile(ENCAP);
  const types = new Set(
    recs.flatMap((r) =>
      Object.entries(r).filter(([k]) => /^Tunnel(_\d+)?$/.test(k)).map(([, v]) => (v as L).Type)
    ),
  );
  for (const t of TUNNEL_TYPES) assert.ok(types.has(t), `no Tunnel of type ${t}`);
  // {"Tunnel":{"VNI":42}}: the VXLAN, VXLAN-GPE frames with VNI 42, nothing else.
  const vni42 = matches({ Tunnel: { VNI: 42 } }, recs);
  assert.ok(vni42.length >= 6);
  for (const r of vni42) {
    const vni = (r.VXLAN ?? r.VXLAN_GPE) as L | undefined;
    assert.equal(vni?.VNI, 42, JSON.stringify(r.Tunnel));
  }
  // Outer and inner layers: the inner TCP SYN to port 80 inside VXLAN 42 over 192.0.2.1.
  const inner = matches({
    Tunnel: { Type: "VXLAN", Outer_Address: "192.0.2.1" },
    IPv4_2: { Destination_Address: "10.0.0.2" },
    TCP: { Destination_Port: 80, Flags: { SYN: true } },
  }, recs);
  assert.ok(inner.length >= 1);
  for (const r of inner) assert.equal((r.Ethernet_2 as L).Source_Address, "02:00:00:aa:01:01");
  // Nested: IP-in-IP, GRE, VXLAN: three summaries, outermost first.
  const nested = recs.find((r) => r.Tunnel_3 !== undefined)!;
  assert.deepEqual(
    [nested.Tunnel, nested.Tunnel_2, nested.Tunnel_3].map((t) => (t as L).Type),
    ["IPIP", "GRE", "VXLAN"],
  );
  assert.equal((nested.Tunnel_3 as L).Outer_Source_Address, "10.8.0.1");
});

Deno.test("the flow summary describes the innermost IP header and transport", () => {
  // VXLAN over UDP 40000 -> 4789 carrying ICMP: the inner packet has no ports.
  const inner = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  const icmp = [8, 0, 0xf7, 0xfe, 0, 1, 0, 0];
  const eth = (t: number) => [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, t >> 8, t & 0xff];
  const vx = [8, 0, 0, 0, 0, 0, 42, 0];
  const inner2 = [...eth(0x0800), ...inner, ...icmp];
  const udpLen = 8 + vx.length + inner2.length;
  const udp = [0x9c, 0x40, 0x12, 0xb5, udpLen >> 8, udpLen & 0xff, 0, 0];
  const outerLen = 20 + udpLen;
  const outer = [
    0x45,
    0,
    outerLen >> 8,
    outerLen & 0xff,
    0,
    2,
    0,
    0,
    64,
    17,
    0,
    0,
    192,
    0,
    2,
    1,
    198,
    51,
    100,
    2,
  ];
  const frame = new Uint8Array([...eth(0x0800), ...outer, ...udp, ...vx, ...inner2]);
  const dec = newDecoder({ reassemble: false });
  const meta = newFrameMeta();
  meta.capLen = meta.wireLen = frame.length;
  const rec = decodeFrame(dec, new DataView(frame.buffer), frame, 0, meta);
  assert.equal((rec.Tunnel as L).VNI, 42);
  const s = dec.sum;
  assert.equal(s.ipVersion, 4);
  assert.equal(s.ipProto, 1);
  assert.deepEqual([...frame.subarray(s.srcAddrOff, s.srcAddrOff + 4)], [10, 0, 0, 1]);
  assert.equal(s.srcPort, 0, "the outer UDP ports must not leak into the inner flow");
  assert.equal(s.dstPort, 0);
  assert.equal(s.icmpType, 8);
  assert.equal(s.ipBytes, 28);
});

Deno.test("tunnel ports can be moved: --udp-port vxlan:9999 decodes 9999 and no longer 4789", async () => {
  const recs = await decodeFile(ENCAP, { udpPorts: ["vxlan:9999"] });
  const first = recs[0];
  assert.equal((first.UDP as L).Destination_Port, 4789);
  assert.equal(first.VXLAN, undefined);
  assert.throws(() => newDecoder({ udpPorts: ["vxlam:1"] }), /unknown protocol "vxlam"/);
  assert.throws(() => newDecoder({ udpPorts: ["vxlan:70000"] }), /bad UDP port "70000"/);
  // The pipeline turns a bad entry into a usage error (exit 2, one line).
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, "capture", "-r", ENCAP, "--udp-port", "nope:1"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  assert.equal(err.length, 1, err.join("\n"));
  assert.match(err[0], /udp_port: unknown protocol "nope"/);
  // Moved to a port the capture uses: 8472 off, 40001 (its source port) on.
  const moved = await decodeFile(ENCAP, { udpPorts: ["vxlan:4789,40001"] });
  assert.equal((moved[1].VXLAN as L).VNI, 43);
});

Deno.test("nesting is bounded: 60 IP-in-IP headers stop with one decode problem", () => {
  const n = 60;
  const hdr = (
    len: number,
    proto: number,
  ) => [0x45, 0, len >> 8, len & 0xff, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  const bytes: number[] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
  for (let i = 0; i < n; i++) bytes.push(...hdr(20 * (n - i), i === n - 1 ? 59 : 4));
  const frame = new Uint8Array(bytes);
  const meta = newFrameMeta();
  meta.capLen = meta.wireLen = frame.length;
  const rec = decodeFrame(newDecoder(), new DataView(frame.buffer), frame, 0, meta);
  const errs = rec.Decode_Errors as { Problem: string }[];
  assert.ok(errs.some((e) => e.Problem === "too many nested headers"), JSON.stringify(errs));
  assert.ok(Object.keys(rec).filter((k) => k.startsWith("IPv4")).length <= MAX_DEPTH + 1);
});

Deno.test(gated({
  name: "a real Linux VXLAN tunnel between two namespaces decodes as tshark decodes it",
  needs: NEEDS_TSHARK ?? skipUnless({ root: true, tools: ["tcpdump", "ip", "ping"] }),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "netmon-vxlan-" });
    try {
      const out = `${dir}/vxlan.pcap`;
      const r = await new Deno.Command("sh", {
        args: [`${FIXTURES}conformance/make_vxlan_netns.sh`, out],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      for (const file of [out, VXLAN_NETNS]) {
        const d = await diffCapture(file);
        assert.ok(d.frames > 50, `${file}: ${d.frames} frames`);
        assert.deepEqual(d.mismatches.slice(0, 20).map(formatMismatch), [], file);
        const { records } = await decodeCapture(file);
        const vnis = new Set(records.map((x) => (x.VXLAN as L | undefined)?.VNI));
        for (const v of [42, 43, 44]) assert.ok(vnis.has(v), `${file}: no VNI ${v}`);
        // The ping of 3000 bytes was fragmented inside the tunnel and reassembled.
        assert.ok(records.some((x) => x.Reassembly !== undefined && x.Tunnel !== undefined));
        // TCP inside VNI 42: a flow summary on the inner addresses.
        assert.ok(
          matches(
            { Tunnel: { VNI: 42 }, IPv4_2: { Address: "10.42.0.2" }, TCP: { Port: 7000 } },
            records,
          )
            .length >= 5,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
}));
