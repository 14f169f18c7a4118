/**
 * Byte-level unit tests of the layer-3/4 decoders: what tshark cannot tell (the flow
 * summary in f.sum, Payload and Decode_Errors records, offload and fragment rules,
 * bounded work on hostile input). Frames are tshark -x dumps pasted as they are; the
 * field values asserted can be read off the dump next to them.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { decodeFrame, type Frame, newDecoder } from "../../../src/decode/mod.ts";
import { newFrameMeta } from "../../../src/decode/meta.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";
import { finish, onesSum, pseudo6 } from "../../../src/decode/checksum.ts";
import { ipv6 } from "../../../src/decode/format.ts";
import {
  be32,
  D4,
  D6,
  eth,
  icmp6msg,
  ip4,
  ip6,
  pseudo4,
  S4,
  S6,
  tcp4,
  udp,
  udp4,
  udp6seg,
  v6,
  withCsum,
} from "./make_fixtures.ts";

/** Bytes of a `tshark -x` dump (offset, hex columns, ASCII column). */
function dump(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const m = line.match(/^\s*[0-9a-f]{4}\s{2}((?:[0-9a-f]{2} ?)+)/i);
    if (m) out.push(...m[1].trim().split(/\s+/).map((h) => parseInt(h, 16)));
  }
  return out;
}

interface Decoded {
  rec: PacketRecord;
  f: Frame;
}

/** Decodes an Ethernet frame; `capLen` cuts the captured bytes (the wire length stays). */
function decode(bytes: number[], opts: { capLen?: number; csumNotReady?: boolean } = {}): Decoded {
  const f = newDecoder({ reassemble: false }); // each frame on its own
  const buf = new Uint8Array(bytes);
  const meta = newFrameMeta();
  meta.wireLen = bytes.length;
  meta.capLen = opts.capLen ?? bytes.length;
  meta.csumNotReady = opts.csumNotReady ?? false;
  const rec = decodeFrame(f, new DataView(buf.buffer), buf, 0, meta);
  return { rec, f };
}

function layer(rec: PacketRecord, key: string): Record<string, unknown> {
  return rec[key] as Record<string, unknown>;
}

// dns_tcp.pcap frame 1: TCP SYN 192.168.1.11:33779 -> 209.87.249.18:53, MSS/SACK_PERM/TS/NOP/WS.
const SYN = dump(`
0000  00 11 22 33 44 66 00 11 22 33 44 55 08 00 45 00   .."3Df.."3DU..E.
0010  00 3c 9b 28 40 00 40 06 13 76 c0 a8 01 0b d1 57   .<.(@.@..v.....W
0020  f9 12 83 f3 00 35 23 fe c8 0c 00 00 00 00 a0 02   .....5#.........
0030  fa f0 0c 41 00 00 02 04 05 b4 04 02 08 0a 79 e2   ...A..........y.
0040  ca 9a 00 00 00 00 01 03 03 07                     ..........
`);

Deno.test("IPv4 and TCP decoders fill the flow summary of a SYN", () => {
  const { rec, f } = decode(SYN);
  const s = f.sum;
  strictEqual(s.ipVersion, 4);
  deepStrictEqual([...f.bytes.subarray(s.srcAddrOff, s.srcAddrOff + 4)], [192, 168, 1, 11]);
  deepStrictEqual([...f.bytes.subarray(s.dstAddrOff, s.dstAddrOff + 4)], [209, 87, 249, 18]);
  strictEqual(s.ipProto, 6);
  strictEqual(s.ipBytes, 0x3c);
  strictEqual(s.srcPort, 0x83f3);
  strictEqual(s.dstPort, 53);
  strictEqual(s.tcpFlags, 0x002);
  strictEqual(s.tcpSeq, 0x23fec80c);
  strictEqual(s.tcpAck, 0);
  strictEqual(s.payloadBytes, 0);
  strictEqual(s.fragment, false);
  deepStrictEqual(Object.keys(rec), ["AF_Packet", "Ethernet", "IPv4", "TCP"]);
  strictEqual(layer(rec, "TCP").Checksum_Status, "good");
  strictEqual(layer(rec, "IPv4").Checksum_Status, "good");
});

Deno.test("TCP option kinds and values decode from the SYN's option bytes", () => {
  const opts = layer(decode(SYN).rec, "TCP").Options as Record<string, unknown>[];
  deepStrictEqual(opts.map((o) => o.Kind), [2, 4, 8, 1, 3]);
  strictEqual(opts[0].Value, 0x05b4);
  strictEqual(opts[2].Value, 0x79e2ca9a);
  strictEqual(opts[2].Echo_Reply, 0);
  strictEqual(opts[4].Shift_Count, 7);
});

Deno.test("a checksum the kernel marked not ready is unverified, never bad", () => {
  const bad = [...SYN];
  bad[0x32] ^= 0xff; // TCP checksum
  strictEqual(layer(decode(bad).rec, "TCP").Checksum_Status, "bad");
  strictEqual(layer(decode(bad, { csumNotReady: true }).rec, "TCP").Checksum_Status, "unverified");
});

Deno.test("a TCP header cut by the snap length keeps the fields captured and faults at the TCP offset", () => {
  // 6 bytes of TCP captured: the ports are known, the rest is not.
  const { rec, f } = decode(SYN, { capLen: 40 });
  deepStrictEqual(rec.TCP, { Source_Port: 33779, Destination_Port: 53 });
  deepStrictEqual(rec.Decode_Errors, [{ Layer: "TCP", Problem: "truncated", Offset: 34 }]);
  strictEqual(f.sum.ipProto, 6);
  strictEqual(f.sum.srcPort, 33779);
  strictEqual(f.sum.tcpSeq, 0);
});

Deno.test("TCP options cut by the snap length keep the fixed header, checksum unverified", () => {
  const { rec } = decode(SYN, { capLen: 60 });
  const t = layer(rec, "TCP");
  strictEqual(t.Checksum_Status, "unverified");
  deepStrictEqual((t.Options as Record<string, unknown>[]).map((o) => o.Kind), [2, 4]);
  // MSS at 54..57, SACK permitted at 58..59: the timestamps option at 60 is cut.
  deepStrictEqual(rec.Decode_Errors, [{ Layer: "TCP", Problem: "truncated", Offset: 60 }]);
});

Deno.test("a TCP option of length 0 is a fault and ends the option list", () => {
  const b = [...SYN];
  b[0x37] = 0; // MSS option length
  const { rec } = decode(b);
  deepStrictEqual(layer(rec, "TCP").Options, []);
  deepStrictEqual(rec.Decode_Errors, [{
    Layer: "TCP",
    Problem: "option 2 length 0 is invalid",
    Offset: 0x37,
  }]);
});

// crafted.pcap frame 6: UDP 1000 -> 2000 with one byte of data, then 14 bytes of Ethernet padding.
const PADDED_UDP = dump(`
0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00   ..............E.
0010  00 1d 12 34 00 00 40 11 7c 65 c0 00 02 01 c6 33   ...4..@.|e.....3
0020  64 02 03 e8 07 d0 00 09 c6 ec 41 00 00 00 00 00   d.........A.....
0030  00 00 00 00 00 00 00 00 00 00 00 00               ............
`);

Deno.test("IPv4 Total_Length bounds the payload: Ethernet padding is not UDP data", () => {
  const { rec, f } = decode(PADDED_UDP);
  strictEqual(layer(rec, "UDP").Payload_Length, 1);
  strictEqual(layer(rec, "UDP").Checksum_Status, "good");
  deepStrictEqual(rec.Payload, { Length: 1, Captured_Length: 1 });
  strictEqual(rec.Decode_Errors, undefined);
  strictEqual(f.sum.ipBytes, 29);
  strictEqual(f.sum.payloadBytes, 1);
});

Deno.test("an IPv4 total length past the frame is a fault and the frame's bytes are used", () => {
  const b = [...PADDED_UDP];
  b[0x11] = 0x60; // Total Length 96 > 46 bytes of frame after the Ethernet header
  const { rec } = decode(b);
  deepStrictEqual(rec.Decode_Errors, [{
    Layer: "IPv4",
    Problem: "total length 96 exceeds the frame (46 bytes)",
    Offset: 16,
  }]);
  strictEqual(layer(rec, "UDP").Length, 9);
});

// crafted.pcap frame 9: ICMP port unreachable quoting UDP 198.51.100.2:33434 -> 192.0.2.1:33435.
const PORT_UNREACHABLE = dump(`
0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00   ..............E.
0010  00 38 12 34 00 00 40 01 7c 5a c0 00 02 01 c6 33   .8.4..@.|Z.....3
0020  64 02 03 03 24 29 00 00 00 00 45 00 00 21 12 34   d...$)....E..!.4
0030  00 00 01 11 bb 61 c6 33 64 02 c0 00 02 01 82 9a   .....a.3d.......
0040  82 9b 00 0d d3 90                                 ......
`);

Deno.test("an ICMP error summarises the quoted datagram and leaves the summary on the error itself", () => {
  const { rec, f } = decode(PORT_UNREACHABLE);
  deepStrictEqual(Object.keys(rec), ["AF_Packet", "Ethernet", "IPv4", "ICMP"]);
  const q = layer(rec, "ICMP").Quoted as Record<string, unknown>;
  strictEqual(q.Source_Address, "198.51.100.2");
  strictEqual(q.Destination_Address, "192.0.2.1");
  strictEqual(q.Protocol, 17);
  strictEqual(q.Source_Port, 33434);
  strictEqual(q.Destination_Port, 33435);
  strictEqual(f.sum.ipProto, 1);
  strictEqual(f.sum.icmpType, 3);
  strictEqual(f.sum.icmpCode, 3);
  strictEqual(f.sum.srcPort, 0);
  deepStrictEqual([...f.bytes.subarray(f.sum.srcAddrOff, f.sum.srcAddrOff + 4)], [192, 0, 2, 1]);
});

// crafted.pcap frame 15: second fragment (offset 2 x 8 bytes) of a UDP datagram, ID 0x03e7.
const SECOND_FRAGMENT = dump(`
0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00   ..............E.
0010  00 24 03 e7 00 02 40 11 8a a9 c0 00 02 01 c6 33   .$....@........3
0020  64 02 55 55 55 55 55 55 55 55 55 55 55 55 55 55   d.UUUUUUUUUUUUUU
0030  55 55 00 00 00 00 00 00 00 00 00 00               UU..........
`);

Deno.test("a non-first IPv4 fragment records its bytes as Payload and no transport header", () => {
  const { rec, f } = decode(SECOND_FRAGMENT);
  strictEqual(rec.UDP, undefined);
  strictEqual(layer(rec, "IPv4").Fragment_Offset, 2);
  deepStrictEqual(rec.Payload, { Length: 16, Captured_Length: 16 });
  strictEqual(f.sum.fragment, true);
  strictEqual(f.sum.ipProto, 17);
  strictEqual(f.sum.srcPort, 0);
});

Deno.test("a first IPv4 fragment is decoded with its transport checksum unverified", () => {
  const seg = withCsum(udp(4000, 4001, Array(24).fill(0x55)), 6, pseudo4(S4, D4, 17, 32));
  const { rec, f } = decode(eth(0x0800, ip4({ proto: 17, flags: 1 }, seg.slice(0, 16))));
  strictEqual(layer(rec, "UDP").Checksum_Status, "unverified");
  strictEqual(f.sum.fragment, false); // the flow tracker may use its ports
  strictEqual(f.sum.dstPort, 4001);
});

// crafted.pcap frame 16: IP in IP, 203.0.113.1 -> 203.0.113.2 carrying UDP 53 -> 53.
const IPIP = dump(`
0000  02 00 00 00 00 0b 02 00 00 00 00 0a 08 00 45 00   ..............E.
0010  00 36 12 34 00 00 40 04 f0 8b cb 00 71 01 cb 00   .6.4..@.....q...
0020  71 02 45 00 00 22 12 34 00 00 40 11 7c 60 c0 00   q.E..".4..@.|...
0030  02 01 c6 33 64 02 00 35 00 35 00 0e ca e0 74 75   ...3d..5.5....tu
0040  6e 6e 65 6c                                       nnel
`);

Deno.test("IP in IP decodes the inner header as IPv4_2 and the summary describes the inner packet", () => {
  const { rec, f } = decode(IPIP);
  deepStrictEqual(Object.keys(rec), [
    "AF_Packet",
    "Ethernet",
    "IPv4",
    "Tunnel",
    "IPv4_2",
    "UDP",
    "Payload",
  ]);
  deepStrictEqual(rec.Tunnel, {
    Type: "IPIP",
    Outer_Source_Address: "203.0.113.1",
    Outer_Destination_Address: "203.0.113.2",
  });
  strictEqual(layer(rec, "IPv4").Destination_Address, "203.0.113.2");
  strictEqual(layer(rec, "IPv4_2").Destination_Address, "198.51.100.2");
  strictEqual(f.sum.srcAddrOff, 14 + 20 + 12);
  strictEqual(f.sum.ipBytes, 0x22);
  strictEqual(layer(rec, "UDP").Checksum_Status, "good");
});

Deno.test("an outer IPv4 fragment leaves the inner packet's checksums unverified (IP in IP)", () => {
  const frag = [...IPIP];
  frag[14 + 6] |= 0x20; // MF on the outer header: the inner bytes may not all be here
  strictEqual(layer(decode(frag).rec, "UDP").Checksum_Status, "unverified");
  strictEqual(layer(decode(IPIP).rec, "UDP").Checksum_Status, "good", "and the next frame is new");
});

Deno.test("an unknown IP protocol ends the decode with the rest as Payload", () => {
  const { rec, f } = decode(eth(0x0800, ip4({ proto: 132 }, Array(16).fill(7))));
  deepStrictEqual(rec.Payload, {
    Length: 16,
    Captured_Length: 16,
    Unknown_Protocol: "IP protocol 132",
  });
  strictEqual(f.sum.ipProto, 132);
  strictEqual(rec.Decode_Errors, undefined);
});

Deno.test("UDP checksum 0 is absent over IPv4 and bad over IPv6", () => {
  strictEqual(
    layer(decode(eth(0x0800, udp4(1, 2, [1, 2], {}, true))).rec, "UDP").Checksum_Status,
    "absent",
  );
  strictEqual(
    layer(decode(eth(0x86dd, ip6(S6, D6, 17, udp(1, 2, [1, 2])))).rec, "UDP").Checksum_Status,
    "bad",
  );
});

Deno.test("a long chain of IPv6 destination options headers decodes in one pass", () => {
  // A jumbogram (hop-by-hop jumbo payload option) whose payload is 8000 empty destination
  // options headers (64 KB) and then a UDP header.
  const n = 8000;
  const hdrs: number[] = [];
  for (let i = 0; i < n; i++) hdrs.push(i === n - 1 ? 17 : 60, 0, 1, 4, 0, 0, 0, 0);
  const u = udp6seg(7, 9, []);
  const hbh = [60, 0, 0xc2, 4, ...be32(8 + hdrs.length + u.length)];
  const { rec } = decode(eth(0x86dd, ip6(S6, D6, 0, [...hbh, ...hdrs, ...u], 0)));
  const exts = layer(rec, "IPv6").Extension_Headers as unknown[];
  strictEqual(exts.length, n + 1);
  strictEqual(layer(rec, "UDP").Destination_Port, 9);
  strictEqual(layer(rec, "UDP").Checksum_Status, "good");
  strictEqual(rec.Decode_Errors, undefined);
});

Deno.test("an ICMPv6 option of length 0 is a fault and ends the option list", () => {
  const src = "fe80::1", dst = "ff02::2";
  const m = icmp6msg(133, 0, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], src, dst);
  const { rec } = decode(eth(0x86dd, ip6(src, dst, 58, m)));
  const l = layer(rec, "ICMPv6");
  strictEqual(l.Checksum_Status, "good");
  deepStrictEqual(l.Options, [{ Type: 1, Name: "Source Link-Layer Address", Length: 0 }]);
  deepStrictEqual(rec.Decode_Errors, [{
    Layer: "ICMPv6",
    Problem: "option 1 has length 0",
    Offset: 14 + 40 + 9,
  }]);
});

Deno.test("TCP over IPv4 with the AE flag sets bit 0x100 of the summary's flags", () => {
  const { rec, f } = decode(eth(0x0800, tcp4({ flags: 0x100 | 0x10 })));
  strictEqual(f.sum.tcpFlags, 0x110);
  strictEqual((layer(rec, "TCP").Flags as Record<string, boolean>).AE, true);
});

Deno.test("the ones' complement helpers handle odd lengths and jumbo pseudo-header lengths", () => {
  const b = new Uint8Array([0x12, 0x34, 0x56]);
  strictEqual(onesSum(b, 0, 3), 0x1234 + 0x5600);
  strictEqual(finish(0x1fffe), 0);
  const addrs = new Uint8Array([...v6("::1"), ...v6("::2")]);
  strictEqual(pseudo6(addrs, 0, 16, 17, 0x12345), 1 + 2 + 0x1 + 0x2345 + 17);
});

Deno.test("IPv6 addresses print in RFC 5952 form", () => {
  const t = (s: string) => ipv6(new Uint8Array(v6(s)), 0);
  strictEqual(t("2001:0db8:0:0:0:0:0:1"), "2001:db8::1");
  strictEqual(t("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  strictEqual(t("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  strictEqual(t("0:0:0:0:0:0:0:0"), "::");
  strictEqual(t("::ffff:c000:0201"), "::ffff:192.0.2.1");
  strictEqual(t("FE80:0:0:0:0:0:0:ABCD"), "fe80::abcd");
});
