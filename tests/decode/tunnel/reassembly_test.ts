/**
 * IP reassembly (issue 15): the frame completing a datagram carries the whole datagram's
 * upper layers and the fragment list, earlier ones a Fragment note; flows count the
 * datagram once with all its bytes; --no-reassemble; the timeout, the memory cap under a
 * flood of 100k datagrams that never complete, the fragment cap, overlaps (IPv4 keeps
 * the first bytes, IPv6 discards the datagram: RFC 5722). The same datagrams are checked
 * against tshark's reassembly by tests/conformance/ (fragments.pcap).
 */
import assert from "node:assert/strict";
import { FIXTURES, ROOT } from "../../helpers/run.ts";
import { decodeFile } from "../../helpers/decode_file.ts";
import { decodeFrame, type Frame, newDecoder } from "../../../src/decode/mod.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { DATAGRAM_OVERHEAD, FRAGMENT_OVERHEAD } from "../../../src/decode/reassembly.ts";
import { selfExclusionFor } from "../../../src/filter/self.ts";

const FRAGMENTS = `${FIXTURES}conformance/fragments.pcap`;
type L = Record<string, unknown>;

/** An Ethernet + IPv4 fragment (header checksum filled in) of `payload`. */
function fragment4(
  id: number,
  offBytes: number,
  more: boolean,
  payload: Uint8Array,
  proto = 17,
  srcLast = 1,
) {
  const ip = new Uint8Array(20 + payload.length);
  const tl = ip.length;
  ip.set([0x45, 0, tl >> 8, tl & 0xff, id >> 8, id & 0xff], 0);
  const ff = (more ? 0x2000 : 0) | (offBytes / 8);
  ip.set([ff >> 8, ff & 0xff, 64, proto, 0, 0, 192, 0, 2, srcLast, 198, 51, 100, 2], 6);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (ip[i] << 8) | ip[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
  ip[10] = (~s >> 8) & 0xff;
  ip[11] = ~s & 0xff;
  ip.set(payload, 20);
  const frame = new Uint8Array(14 + ip.length);
  frame.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]);
  frame.set(ip, 14);
  return frame;
}

const meta = newFrameMeta();
function feed(dec: Frame, frame: Uint8Array, sec: number): PacketRecord {
  meta.capLen = meta.wireLen = frame.length;
  meta.sec = sec;
  return decodeFrame(dec, new DataView(frame.buffer), frame, 0, meta);
}

/** A UDP datagram 5000 -> 53 with `n` bytes of data (checksum 0: absent). */
function udp(n: number): Uint8Array {
  const d = new Uint8Array(8 + n).fill(0x61);
  d.set([0x13, 0x88, 0, 53, (8 + n) >> 8, (8 + n) & 0xff, 0, 0]);
  return d;
}

Deno.test("the completing fragment carries the datagram's upper layers and the fragment list", async () => {
  const recs = await decodeFile(FRAGMENTS);
  // The first datagram: three fragments of 800, 800 and 408 bytes.
  assert.deepEqual(Object.keys(recs[0]), ["AF_Packet", "Ethernet", "IPv4", "Fragment", "Payload"]);
  assert.deepEqual(recs[0].Fragment, {
    Identification: 0x0101,
    Offset: 0,
    Length: 800,
    More_Fragments: true,
    Fragments_Held: 1,
  });
  assert.deepEqual(Object.keys(recs[2]), [
    "AF_Packet",
    "Ethernet",
    "IPv4",
    "Reassembly",
    "UDP",
    "Payload",
  ]);
  const r = recs[2].Reassembly as L;
  assert.equal(r.Length, 2008);
  assert.deepEqual((r.Fragments as L[]).map((x) => [x.Offset, x.Length]), [[0, 800], [800, 800], [
    1600,
    408,
  ]]);
  assert.equal((recs[2].UDP as L).Length, 2008);
  assert.equal((recs[2].UDP as L).Checksum_Status, "good");
  // Reversed order: the first fragment (offset 0) arrives last and completes it.
  assert.equal(((recs[5].Reassembly as L).Fragments as L[]).length, 3);
  // IPv4 overlap with other bytes: a decode problem, the first bytes are kept (checksum good).
  const conflict = recs.find((x) =>
    ((x.Decode_Errors ?? []) as L[]).some((e) => /different data/.test(String(e.Problem)))
  )!;
  assert.ok(conflict.Reassembly !== undefined);
  assert.equal((conflict.UDP as L).Checksum_Status, "good");
  // IPv6 overlap: the datagram is discarded (RFC 5722), later fragments too.
  const discarded = recs.filter((x) => (x.Fragment as L | undefined)?.Discarded === true);
  assert.equal(discarded.length, 2);
  assert.ok(recs.every((x) => (x.ICMPv6 as L | undefined)?.Identifier !== 3));
  // --no-reassemble: each frame on its own, a first fragment decoded as far as it goes.
  const alone = await decodeFile(FRAGMENTS, { reassemble: false });
  assert.ok(alone.every((x) => x.Reassembly === undefined && x.Fragment === undefined));
  assert.equal((alone[0].UDP as L).Checksum_Status, "unverified");
});

Deno.test("a fragmented tunnel and fragments inside a tunnel are reassembled", async () => {
  const recs = await decodeFile(FRAGMENTS);
  const vx = recs.find((x) => x.VXLAN !== undefined && x.Reassembly !== undefined)!;
  assert.equal((vx.Tunnel as L).VNI, 42);
  assert.equal((vx.UDP_2 as L).Payload_Length, 1400);
  const gre = recs.find((x) => x.GRE !== undefined && x.Reassembly !== undefined)!;
  assert.deepEqual(Object.keys(gre).slice(1, 7), [
    "Ethernet",
    "IPv4",
    "GRE",
    "Tunnel",
    "IPv4_2",
    "Reassembly",
  ]);
  assert.equal((gre.UDP as L).Length, 1508);
});

Deno.test("flows count a reassembled datagram once with all its bytes; --no-reassemble on the CLI", async () => {
  const run = async (extra: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}main.ts`,
        "capture",
        "-r",
        FRAGMENTS,
        "--json",
        "--flows-only",
        ...extra,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const flows = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
      JSON.parse(l).Flow as L
    );
    return { flows, stderr: new TextDecoder().decode(out.stderr) };
  };
  const { flows, stderr } = await run([]);
  const f = flows.find((x) => x.Source_Port === 5000)!;
  assert.equal(f.Originator_Packets, 1);
  assert.equal(f.Originator_Bytes, 20 + 2008);
  assert.equal(f.Originator_Payload_Bytes, 2000);
  assert.equal(f.Originator_Wire_Bytes, 3 * 14 + 3 * 20 + 2008);
  assert.match(
    stderr,
    /netmon: \d+ IP datagrams reassembled, 0 dropped at the reassembly memory cap/,
  );
  const off = await run(["--no-reassemble"]);
  const g = off.flows.find((x) => x.Source_Port === 5000)!;
  assert.equal(g.Originator_Packets, 1, "the first fragment only (the others have no ports)");
  assert.equal(g.Originator_Bytes, 820);
  assert.doesNotMatch(off.stderr, /reassembled/);
});

Deno.test("a datagram not completed within the timeout is dropped and counted", () => {
  const d = udp(24);
  for (const [gap, done] of [[29, true], [31, false]] as const) {
    const dec = newDecoder({ reassembly: { timeoutS: 30 } });
    feed(dec, fragment4(7, 0, true, d.subarray(0, 16)), 1000);
    const rec = feed(dec, fragment4(7, 16, false, d.subarray(16)), 1000 + gap);
    assert.equal(rec.Reassembly !== undefined, done, `gap ${gap}`);
    assert.equal(dec.reassembly!.stats().timedOut, done ? 0 : 1);
  }
});

Deno.test("a flood of 100k datagrams that never complete stays at the memory cap and is counted", async () => {
  // In its own Deno with an explicit GC, so the heap measured is what stays held.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      "-A",
      new URL("./flood_probe.ts", import.meta.url).pathname,
      "100000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const s = JSON.parse(new TextDecoder().decode(out.stdout));
  const cap = 32 * 1024 * 1024;
  const per = 200 + FRAGMENT_OVERHEAD + DATAGRAM_OVERHEAD;
  assert.ok(s.maxHeld <= cap && s.maxHeld > cap - per, `held at most ${s.maxHeld} bytes`);
  assert.equal(s.evicted + s.datagramsHeld, 100_000, JSON.stringify(s));
  assert.ok(s.evicted > 30_000, JSON.stringify(s));
  assert.equal(s.reassembled, 0);
  // What the held fragments really take: within 1.5 times the accounted cap.
  assert.ok(s.grown < cap * 1.5, `heap grew ${s.grown} bytes for a ${cap}-byte cap`);
});

Deno.test("more fragments than the cap discard the datagram; an oversized datagram is refused", () => {
  const dec = newDecoder({ reassembly: { maxFragments: 8 } });
  const d = udp(8 * 12);
  let rec: PacketRecord = {};
  for (let i = 0; i < 10; i++) {
    rec = feed(dec, fragment4(9, i * 8, true, d.subarray(i * 8, i * 8 + 8)), 1);
  }
  const errs = dec.reassembly!.stats();
  assert.equal(errs.discarded, 1);
  assert.ok(
    JSON.stringify(rec).includes("Fragments_Held") || JSON.stringify(rec).includes("Discarded"),
  );
  const big = feed(newDecoder(), fragment4(10, 65528, false, new Uint8Array(16)), 1);
  assert.ok(((big.Decode_Errors ?? []) as L[]).some((e) => /past 65535/.test(String(e.Problem))));
});

Deno.test("the self-traffic guard and the flow summary see the inner packet of a reassembled datagram", () => {
  // TCP 40000 -> 10.0.0.2:80 inside IP-in-IP whose outer datagram came in two fragments.
  const tcp = new Uint8Array(20 + 30);
  tcp.set([0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x20, 0]);
  const inner = new Uint8Array(20 + tcp.length);
  inner.set([0x45, 0, 0, inner.length, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  inner.set(tcp, 20);
  const dec = newDecoder();
  feed(dec, fragment4(77, 0, true, inner.subarray(0, 40), 4), 5);
  const rec = feed(dec, fragment4(77, 40, false, inner.subarray(40), 4), 5);
  assert.ok(rec.Reassembly !== undefined && rec.TCP !== undefined, JSON.stringify(rec));
  assert.equal(dec.sum.dstPort, 80);
  assert.equal(dec.sum.ipBytes, inner.length);
  assert.deepEqual([...dec.bytes.subarray(dec.sum.dstAddrOff, dec.sum.dstAddrOff + 4)], [
    10,
    0,
    0,
    2,
  ]);
  const guard = selfExclusionFor({ v4: [0x0a000002], v6: [], port: 80 });
  assert.equal(guard.matches(dec), true);
});
