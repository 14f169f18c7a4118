/**
 * Builds fixtures/l3/crafted.pcap: hand-made frames for the layer-3/4 cases the
 * tcpdump sample captures lack (IPv4 options and fragments, ICMP errors, tunnels,
 * IPv6 AH/ESP/fragments, ND messages, MLDv1, IGMPv3 reports, malformed lengths,
 * bad checksums, snap-length cuts). tshark is the oracle for every field, so the
 * builder only has to produce the bytes; checksums are computed here independently
 * of src/decode/checksum.ts.
 *
 * Run: deno run -A tests/decode/l3/make_fixtures.ts   (rewrites the fixture)
 */

export type Bytes = number[];

export function be16(v: number): Bytes {
  return [(v >> 8) & 0xff, v & 0xff];
}
export function be32(v: number): Bytes {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}
export function v4(s: string): Bytes {
  return s.split(".").map(Number);
}
export function v6(s: string): Bytes {
  const dotted = s.match(/^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number);
    s = dotted[1] + ((a << 8) | b).toString(16) + ":" + ((c << 8) | d).toString(16);
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => be16(parseInt(g, 16)));
}
export function csum(data: Bytes): number {
  let s = 0;
  for (let i = 0; i < data.length; i += 2) s += (data[i] << 8) + (data[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
export function put16(b: Bytes, off: number, v: number): void {
  b[off] = (v >> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

export function eth(type: number, payload: Bytes, pad = true): Bytes {
  const f = [...MAC_B, ...MAC_A, ...be16(type), ...payload];
  while (pad && f.length < 60) f.push(0);
  return f;
}

export interface Ip4Opts {
  src?: string;
  dst?: string;
  proto: number;
  ttl?: number;
  id?: number;
  flags?: number; // 3 bits
  frag?: number; // in 8-byte units
  tos?: number;
  options?: Bytes;
  totalLength?: number; // override
  ihl?: number; // override (words)
  badChecksum?: boolean;
}
export function ip4(o: Ip4Opts, payload: Bytes): Bytes {
  const opts = o.options ?? [];
  const hl = 20 + opts.length;
  const h = [
    0x40 | (o.ihl ?? hl / 4),
    o.tos ?? 0,
    ...be16(o.totalLength ?? hl + payload.length),
    ...be16(o.id ?? 0x1234),
    ...be16(((o.flags ?? 0) << 13) | (o.frag ?? 0)),
    o.ttl ?? 64,
    o.proto,
    0,
    0,
    ...v4(o.src ?? "192.0.2.1"),
    ...v4(o.dst ?? "198.51.100.2"),
    ...opts,
  ];
  const c = csum(h);
  put16(h, 10, o.badChecksum ? c ^ 0x5555 : c);
  return [...h, ...payload];
}

export function ip6(src: string, dst: string, nh: number, payload: Bytes, plen?: number): Bytes {
  return [
    0x60,
    0x00,
    0x12,
    0x34,
    ...be16(plen ?? payload.length),
    nh,
    64,
    ...v6(src),
    ...v6(dst),
    ...payload,
  ];
}

export function pseudo4(src: string, dst: string, proto: number, len: number): Bytes {
  return [...v4(src), ...v4(dst), 0, proto, ...be16(len)];
}
export function pseudo6(src: string, dst: string, proto: number, len: number): Bytes {
  return [...v6(src), ...v6(dst), ...be32(len), 0, 0, 0, proto];
}

/** Fills the checksum at `at` of an upper-layer segment given its pseudo-header. */
export function withCsum(
  seg: Bytes,
  at: number,
  pseudo: Bytes,
  bad = false,
  zeroIsFfff = false,
): Bytes {
  let c = csum([...pseudo, ...seg]);
  if (zeroIsFfff && c === 0) c = 0xffff;
  put16(seg, at, bad ? c ^ 0x1111 : c);
  return seg;
}

export interface TcpOpts {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags: number; // 9 bits incl. AE 0x100
  win?: number;
  options?: Bytes;
  dataOffset?: number; // override (words)
  urg?: number;
}
export function tcp(o: TcpOpts, data: Bytes = []): Bytes {
  const opts = o.options ?? [];
  const hl = 20 + opts.length;
  return [
    ...be16(o.sport ?? 40000),
    ...be16(o.dport ?? 80),
    ...be32(o.seq ?? 1000),
    ...be32(o.ack ?? 0),
    ((o.dataOffset ?? hl / 4) << 4) | ((o.flags >> 8) & 1),
    o.flags & 0xff,
    ...be16(o.win ?? 65535),
    0,
    0,
    ...be16(o.urg ?? 0),
    ...opts,
    ...data,
  ];
}
export function udp(sport: number, dport: number, data: Bytes, length?: number): Bytes {
  return [...be16(sport), ...be16(dport), ...be16(length ?? 8 + data.length), 0, 0, ...data];
}

export const S4 = "192.0.2.1";
export const D4 = "198.51.100.2";
export const S6 = "2001:db8::1";
export const D6 = "2001:db8:0:1::2";

export function tcp4(o: TcpOpts, data: Bytes = [], ip: Partial<Ip4Opts> = {}, bad = false): Bytes {
  const seg = tcp(o, data);
  const src = ip.src ?? S4, dst = ip.dst ?? D4;
  withCsum(seg, 16, pseudo4(src, dst, 6, seg.length), bad);
  return ip4({ proto: 6, ...ip }, seg);
}
export function udp4(
  sport: number,
  dport: number,
  data: Bytes,
  ip: Partial<Ip4Opts> = {},
  zero = false,
): Bytes {
  const seg = udp(sport, dport, data);
  if (!zero) withCsum(seg, 6, pseudo4(ip.src ?? S4, ip.dst ?? D4, 17, seg.length), false, true);
  return ip4({ proto: 17, ...ip }, seg);
}
export function icmp4(
  type: number,
  code: number,
  rest: Bytes,
  body: Bytes,
  ip: Partial<Ip4Opts> = {},
  bad = false,
): Bytes {
  const m = [type, code, 0, 0, ...rest, ...body];
  const c = csum(m);
  put16(m, 2, bad ? c ^ 0x0f0f : c);
  return ip4({ proto: 1, ...ip }, m);
}
export function icmp6msg(type: number, code: number, body: Bytes, src = S6, dst = D6): Bytes {
  const m = [type, code, 0, 0, ...body];
  return withCsum(m, 2, pseudo6(src, dst, 58, m.length));
}
export function udp6seg(sport: number, dport: number, data: Bytes, src = S6, dst = D6): Bytes {
  const seg = udp(sport, dport, data);
  return withCsum(seg, 6, pseudo6(src, dst, 17, seg.length), false, true);
}
export function tcp6seg(o: TcpOpts, data: Bytes = [], src = S6, dst = D6): Bytes {
  const seg = tcp(o, data);
  return withCsum(seg, 16, pseudo6(src, dst, 6, seg.length));
}

const SYN = 0x02,
  ACK = 0x10,
  PSH = 0x08,
  FIN = 0x01,
  RST = 0x04,
  URG = 0x20,
  ECE = 0x40,
  CWR = 0x80,
  AE = 0x100;
const text = (s: string) => [...new TextEncoder().encode(s)];

interface Rec {
  bytes: Bytes;
  caplen?: number;
}
const frames: Rec[] = [];
const add = (bytes: Bytes, caplen?: number) => frames.push({ bytes, caplen });

// 1 IPv4 options: Record Route + NOP + EOL; TCP SYN with MSS, SACK-permitted, timestamps, NOP, window scale.
add(eth(
  0x0800,
  tcp4(
    {
      flags: SYN,
      options: [2, 4, ...be16(1460), 4, 2, 8, 10, ...be32(123456), ...be32(0), 1, 3, 3, 7],
    },
    [],
    { options: [7, 11, 4, ...v4("10.0.0.1"), ...v4("0.0.0.0"), 1, 0, 0, 0, 0, 0, 0, 0, 0] },
  ),
));
// 2 TCP ACK+PSH with SACK blocks and 10 bytes of data.
add(eth(
  0x0800,
  tcp4({
    flags: ACK | PSH,
    seq: 0xfffffff0,
    ack: 5000,
    options: [1, 1, 5, 18, ...be32(6000), ...be32(7000), ...be32(8000), ...be32(9000)],
  }, text("0123456789")),
));
// 3 TCP with a bad checksum.
add(eth(0x0800, tcp4({ flags: ACK | FIN, seq: 77, ack: 88 }, [], {}, true)));
// 4 IPv4 header with a bad checksum, good UDP inside.
add(eth(0x0800, udp4(5353, 5353, text("hello"), { badChecksum: true })));
// 5 UDP with checksum 0 (absent) over IPv4.
add(eth(0x0800, udp4(68, 67, text("dhcp?"), {}, true)));
// 6 UDP with 1 byte of data: Ethernet padding follows, not payload.
add(eth(0x0800, udp4(1000, 2000, [0x41])));
// 7 ICMP echo request with data; 8 echo reply with a bad checksum.
add(eth(0x0800, icmp4(8, 0, [...be16(0x4242), ...be16(7)], text("abcdefghijklmnop"))));
add(eth(0x0800, icmp4(0, 0, [...be16(0x4242), ...be16(7)], text("abcdefghijklmnop"), {}, true)));
// 9 ICMP port unreachable quoting a UDP datagram.
{
  const inner = udp4(33434, 33435, text("trace"), { src: D4, dst: S4, ttl: 1 });
  add(eth(0x0800, icmp4(3, 3, [0, 0, 0, 0], inner.slice(0, 28))));
}
// 10 ICMP time exceeded quoting a TCP segment; 11 fragmentation needed with MTU.
{
  const inner = tcp4({ flags: SYN, seq: 0xdeadbeef }, [], { src: D4, dst: S4, ttl: 1 });
  add(eth(0x0800, icmp4(11, 0, [0, 0, 0, 0], inner.slice(0, 28))));
  add(eth(0x0800, icmp4(3, 4, [0, 0, ...be16(1400)], inner.slice(0, 28))));
}
// 12 ICMP timestamp request; 13 address mask reply.
add(eth(0x0800, icmp4(13, 0, [...be16(1), ...be16(2)], [...be32(1000), ...be32(0), ...be32(0)])));
add(eth(0x0800, icmp4(18, 0, [...be16(1), ...be16(2)], v4("255.255.255.0"))));
// 14 first IPv4 fragment (MF) of a UDP datagram; 15 the second fragment (offset 16 bytes).
{
  const seg = udp(4000, 4001, Array(24).fill(0x55));
  withCsum(seg, 6, pseudo4(S4, D4, 17, seg.length));
  add(eth(0x0800, ip4({ proto: 17, id: 999, flags: 1 }, seg.slice(0, 16))));
  add(eth(0x0800, ip4({ proto: 17, id: 999, frag: 2 }, seg.slice(16))));
}
// 16 IP in IP (protocol 4) carrying UDP.
add(
  eth(
    0x0800,
    ip4({ proto: 4, src: "203.0.113.1", dst: "203.0.113.2" }, udp4(53, 53, text("tunnel"))),
  ),
);
// 17 6in4 (protocol 41) carrying ICMPv6 echo.
add(eth(
  0x0800,
  ip4(
    { proto: 41, src: "203.0.113.1", dst: "203.0.113.2" },
    ip6(S6, D6, 58, icmp6msg(128, 0, [...be16(9), ...be16(1), ...text("ping")])),
  ),
));
// 18 IPv6: Destination Options (PadN) -> atomic Fragment header -> UDP.
{
  const u = udp6seg(9000, 9001, text("x"));
  const frag = [17, 0, 0, 0, ...be32(0xabcdef)];
  const dst = [44, 0, 1, 4, 0, 0, 0, 0];
  add(eth(0x86dd, ip6(S6, D6, 60, [...dst, ...frag, ...u])));
}
// 19 IPv6 non-first fragment; 20 IPv6 first fragment (M set) of a TCP segment.
{
  add(
    eth(
      0x86dd,
      ip6(S6, D6, 44, [6, 0, ...be16((8 << 3) | 0), ...be32(77), ...Array(16).fill(0xaa)]),
    ),
  );
  const t = tcp6seg({ flags: ACK, seq: 1, ack: 2 }, Array(40).fill(0x61));
  add(eth(0x86dd, ip6(S6, D6, 44, [6, 0, ...be16(1), ...be32(78), ...t.slice(0, 32)])));
}
// 21 IPv6 AH -> TCP.
{
  const t = tcp6seg({ flags: SYN, seq: 42 });
  const ah = [6, 4, 0, 0, ...be32(0x1000), ...be32(5), ...Array(12).fill(0xcc)];
  add(eth(0x86dd, ip6(S6, D6, 51, [...ah, ...t])));
}
// 22 IPv6 ESP (SPI, sequence, then opaque bytes).
add(eth(0x86dd, ip6(S6, D6, 50, [...be32(0x2000), ...be32(6), ...Array(24).fill(0xee)])));
// 23 ICMPv6 NS with source link-layer address; 24 NA (R,S,O) with target link-layer address.
{
  const src = "fe80::1", dst = "ff02::1:ff00:2";
  add(
    eth(
      0x86dd,
      ip6(src, dst, 58, icmp6msg(135, 0, [0, 0, 0, 0, ...v6("fe80::2"), 1, 1, ...MAC_A], src, dst)),
    ),
  );
  const na = icmp6msg(
    136,
    0,
    [0xe0, 0, 0, 0, ...v6("fe80::2"), 2, 1, ...MAC_B],
    "fe80::2",
    "fe80::1",
  );
  add(eth(0x86dd, ip6("fe80::2", "fe80::1", 58, na)));
}
// 25 ICMPv6 RS; 26 redirect with a redirected-header option.
{
  add(
    eth(
      0x86dd,
      ip6(
        "fe80::1",
        "ff02::2",
        58,
        icmp6msg(133, 0, [0, 0, 0, 0, 1, 1, ...MAC_A], "fe80::1", "ff02::2"),
      ),
    ),
  );
  const quoted = ip6(S6, "2001:db8:5::5", 17, udp6seg(7, 7, [], S6, "2001:db8:5::5"));
  const opt = [4, (8 + quoted.length) / 8, 0, 0, 0, 0, 0, 0, ...quoted];
  const rd = icmp6msg(
    137,
    0,
    [0, 0, 0, 0, ...v6("fe80::9"), ...v6("2001:db8:5::5"), ...opt],
    "fe80::1",
    S6,
  );
  add(eth(0x86dd, ip6("fe80::1", S6, 58, rd)));
}
// 27 ICMPv6 packet too big quoting TCP; 28 destination unreachable quoting UDP.
{
  const inner = ip6(D6, S6, 6, tcp6seg({ flags: ACK, seq: 5 }, Array(20).fill(1), D6, S6));
  add(eth(0x86dd, ip6(S6, D6, 58, icmp6msg(2, 0, [...be32(1280), ...inner]))));
  const inner2 = ip6(D6, S6, 17, udp6seg(5000, 53, text("q"), D6, S6));
  add(eth(0x86dd, ip6(S6, D6, 58, icmp6msg(1, 4, [0, 0, 0, 0, ...inner2]))));
}
// 29-31 MLDv1 query, report, done (hop-by-hop router alert).
for (const [type, group] of [[130, "::"], [131, "ff02::1234"], [132, "ff02::1234"]] as const) {
  const m = icmp6msg(
    type,
    0,
    [...be16(type === 130 ? 10000 : 0), 0, 0, ...v6(group)],
    "fe80::1",
    "ff02::1",
  );
  const hbh = [58, 0, 5, 2, 0, 0, 1, 0];
  add(eth(0x86dd, ip6("fe80::1", "ff02::1", 0, [...hbh, ...m])));
}
// 32 IGMPv3 report with two group records; 33 IGMPv2 group-specific query.
{
  const recs = [
    1,
    0,
    ...be16(2),
    ...v4("232.1.1.1"),
    ...v4("10.1.1.1"),
    ...v4("10.1.1.2"),
    4,
    0,
    ...be16(0),
    ...v4("239.2.2.2"),
  ];
  const m = [0x22, 0, 0, 0, 0, 0, ...be16(2), ...recs];
  put16(m, 2, csum(m));
  add(eth(0x0800, ip4({ proto: 2, dst: "224.0.0.22", ttl: 1, options: [148, 4, 0, 0] }, m)));
  const q = [0x11, 100, 0, 0, ...v4("239.9.9.9")];
  put16(q, 2, csum(q));
  add(eth(0x0800, ip4({ proto: 2, dst: "239.9.9.9", ttl: 1 }, q)));
}
// 34 IPv4 total length past the frame (fault); 35 header length 16 (bogus).
add(eth(0x0800, udp4(1, 2, text("abc"), { totalLength: 200 }), false));
add(eth(0x0800, udp4(1, 2, text("abc"), { ihl: 4 })));
// 36 TCP data offset 4 (bogus); 37 UDP length past the IP payload.
add(eth(0x0800, tcp4({ flags: ACK, dataOffset: 4 })));
{
  const seg = udp(3, 4, text("abcd"), 40);
  add(eth(0x0800, ip4({ proto: 17 }, seg)));
}
// 38 IPv4 timestamp option (address + timestamp pairs) and 39 loose source route.
add(eth(
  0x0800,
  udp4(5, 6, [], {
    options: [
      68,
      20,
      13,
      1,
      ...v4("10.0.0.1"),
      ...be32(5000),
      ...v4("0.0.0.0"),
      ...be32(0),
      0,
      0,
      0,
      0,
    ],
  }),
));
// The UDP checksum uses the route's final destination (10.8.8.8) in the pseudo-header.
{
  const seg = udp(5, 6, []);
  withCsum(seg, 6, pseudo4(S4, "10.8.8.8", 17, seg.length));
  add(
    eth(
      0x0800,
      ip4({ proto: 17, options: [131, 11, 4, ...v4("10.9.9.9"), ...v4("10.8.8.8"), 0] }, seg),
    ),
  );
}
// 40 IPv6 UDP with checksum 0 (illegal over IPv6).
{
  const seg = udp(1, 2, text("z"));
  add(eth(0x86dd, ip6(S6, D6, 17, seg)));
}
// 41 TCP cut by the snap length (checksum unverified); 42 all flags incl. AE with urgent pointer.
add(eth(0x0800, tcp4({ flags: ACK | PSH, seq: 1, ack: 1 }, Array(100).fill(0x62))), 60);
add(
  eth(
    0x0800,
    tcp4({ flags: AE | CWR | ECE | URG | ACK | PSH | RST | SYN | FIN, urg: 3 }, text("urgent")),
  ),
);
// 43 4in6 (next header 4) carrying TCP.
add(eth(0x86dd, ip6(S6, D6, 4, tcp4({ flags: SYN | ECE | CWR }))));
// 44 IPv4 total length 0 (TSO) carrying TCP.
{
  const seg = tcp({ flags: ACK, seq: 10, ack: 20 }, text("tso"));
  withCsum(seg, 16, pseudo4(S4, D4, 6, seg.length));
  add(eth(0x0800, ip4({ proto: 6, totalLength: 0 }, seg), false));
}
// 45 unknown IP protocol (SCTP, 132); 46 IPv4 ESP (50).
add(eth(0x0800, ip4({ proto: 132 }, Array(16).fill(7))));
add(eth(0x0800, ip4({ proto: 50 }, [...be32(0x3000), ...be32(1), ...Array(8).fill(9)])));
// 47 IPv6 type 2 routing header (mobile IPv6 home address) -> ICMPv6 echo (pseudo-header uses it).
{
  const home = "2001:db8:77::7";
  const m = icmp6msg(128, 0, [...be16(3), ...be16(4)], S6, home);
  const rh = [58, 2, 2, 1, 0, 0, 0, 0, ...v6(home)];
  add(eth(0x86dd, ip6(S6, D6, 43, [...rh, ...m])));
}
// 48 ICMPv6 echo reply with a bad checksum; 49 ICMPv6 echo truncated by the snap length.
{
  const m = icmp6msg(129, 0, [...be16(3), ...be16(4), ...text("data")]);
  m[2] ^= 0xff;
  add(eth(0x86dd, ip6(S6, D6, 58, m)));
  add(
    eth(
      0x86dd,
      ip6(S6, D6, 58, icmp6msg(128, 0, [...be16(3), ...be16(4), ...Array(64).fill(0x30)])),
    ),
    100,
  );
}
// 50 IGMPv1 query (max resp 0) and 51 IGMPv2 leave with a bad checksum.
{
  const q = [0x11, 0, 0, 0, 0, 0, 0, 0];
  put16(q, 2, csum(q));
  add(eth(0x0800, ip4({ proto: 2, dst: "224.0.0.1", ttl: 1 }, q)));
  const l = [0x17, 0, 0x12, 0x34, ...v4("239.1.2.3")];
  add(eth(0x0800, ip4({ proto: 2, dst: "224.0.0.2", ttl: 1 }, l)));
}

// 52 IPv4 header with version 5; 53 total length 10 (below the header length).
{
  const p = udp4(1, 2, text("v5"));
  p[0] = 0x55;
  add(eth(0x0800, p));
  add(eth(0x0800, udp4(1, 2, text("short"), { totalLength: 10 })));
}
// 54 TCP whose options are cut by the snap length.
add(
  eth(
    0x0800,
    tcp4({
      flags: SYN,
      options: [2, 4, ...be16(1460), 1, 1, 8, 10, ...be32(1), ...be32(0), 1, 1, 4, 2],
    }),
  ),
  14 + 20 + 24,
);
// 55 IPv6 payload length past the frame; 56 ICMP message of 2 bytes.
add(eth(0x86dd, ip6(S6, D6, 17, udp6seg(1, 2, text("abc")), 100), false));
add(eth(0x0800, ip4({ proto: 1 }, [8, 0])));

// 57-60 IPv6 address text edge cases (RFC 5952): mapped/compatible IPv4, ties, one zero group.
for (
  const [src, dst] of [
    ["::ffff:10.1.2.3", "::10.1.2.3"],
    ["2001:db8:0:0:1:0:0:1", "1:0:0:0:0:0:0:0"],
    ["2001:db8:0:1:1:1:1:1", "0:0:0:0:0:0:0:2"],
    ["fe80:0:0:0:0:0:0:0", "::ffff:0:0"],
    ["::1", "::0.1.0.0"],
    ["0:0:0:0:0:1:0:0", "::"],
  ]
) {
  add(eth(0x86dd, ip6(src, dst, 17, udp6seg(1, 2, [], src, dst))));
}

// 63- malformed lengths inside the transport and message headers.
// 63 TCP data offset 60 in a 20-byte segment; 64 UDP length 4; 65 UDP length 10 in 20 bytes.
add(eth(0x0800, tcp4({ flags: ACK, dataOffset: 15 })));
add(eth(0x0800, ip4({ proto: 17 }, udp(7, 8, [1, 2, 3, 4], 4))));
{
  const seg = udp(7, 8, [1, 2], 10);
  withCsum(seg, 6, pseudo4(S4, D4, 17, 10));
  add(eth(0x0800, ip4({ proto: 17 }, [...seg, ...Array(10).fill(0x77)])));
}
// 66 IPv4 options cut by the snap length (60-byte header, 30 bytes captured after Ethernet).
add(eth(0x0800, udp4(1, 2, [], { options: [7, 39, 4, ...Array(36).fill(0), 1] })), 14 + 30);
// 67-71 IGMP types besides membership messages: DVMRP, PIM v1, mtrace response, MRD advertisement, unassigned.
for (const t of [0x13, 0x14, 0x1e, 0x30, 0x42]) {
  const m = [t, 0, 0, 0, 0, 0, 0, 0, ...Array(8).fill(0)];
  put16(m, 2, csum(m));
  add(eth(0x0800, ip4({ proto: 2, dst: "224.0.0.4", ttl: 1 }, m)));
}
// 72 ICMP echo of 6 bytes; 73 IPv4 option with length 1.
add(eth(0x0800, icmp4(8, 0, [0, 1], [])));
add(eth(0x0800, udp4(1, 2, [], { options: [130, 1, 0, 0] })));
// 74 IPv6 payload length 4 with a hop-by-hop header (needs 8); 75 ICMPv6 NS of 12 bytes.
add(eth(0x86dd, ip6(S6, D6, 0, [58, 0, 1, 4, 0, 0, 0, 0], 4)));
add(eth(0x86dd, ip6(S6, D6, 58, icmp6msg(135, 0, Array(8).fill(0)))));
// 76 routing header type 0 with segments left 3 and one address.
{
  const m = icmp6msg(128, 0, [0, 1, 0, 1], S6, "2001:db8:9::9");
  add(eth(0x86dd, ip6(S6, D6, 43, [58, 2, 0, 3, 0, 0, 0, 0, ...v6("2001:db8:9::9"), ...m])));
}
// 77 TCP SACK option of length 14; 78 MSS option of length 3.
add(eth(0x0800, tcp4({ flags: ACK, options: [5, 14, ...be32(1), ...be32(2), ...be32(3), 0, 0] })));
add(eth(0x0800, tcp4({ flags: SYN, options: [2, 3, 5, 1, 1, 1, 1, 0] })));
// 79 MLDv2 report announcing 3 records with 1 present; 80 IGMPv3 report with 9 sources announced, 1 present.
{
  const rec = [4, 0, 0, 0, ...v6("ff02::db8")];
  add(
    eth(
      0x86dd,
      ip6("fe80::1", "ff02::16", 58, icmp6msg(143, 0, [0, 0, 0, 3, ...rec], "fe80::1", "ff02::16")),
    ),
  );
  const m = [0x22, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 9, ...v4("232.1.1.1"), ...v4("10.1.1.1")];
  put16(m, 2, csum(m));
  add(eth(0x0800, ip4({ proto: 2, dst: "224.0.0.22", ttl: 1 }, m)));
}

// 81 IPv4 bytes under EtherType 0x86dd; 82 IPv6 bytes under EtherType 0x0800.
add(eth(0x86dd, udp4(1, 2, text("four"))));
add(eth(0x0800, ip6(S6, D6, 17, udp6seg(1, 2, text("six")))));

function pcap(recs: Rec[]): Uint8Array {
  const out: number[] = [];
  const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
  out.push(
    ...le32(0xa1b2c3d4),
    ...le16(2),
    ...le16(4),
    ...le32(0),
    ...le32(0),
    ...le32(65535),
    ...le32(1),
  );
  recs.forEach((r, i) => {
    const cap = Math.min(r.caplen ?? r.bytes.length, r.bytes.length);
    out.push(...le32(1700000000 + i), ...le32(i * 1000), ...le32(cap), ...le32(r.bytes.length));
    out.push(...r.bytes.slice(0, cap));
  });
  return new Uint8Array(out);
}

if (import.meta.main) {
  const path = new URL("../../../fixtures/l3/crafted.pcap", import.meta.url).pathname;
  Deno.mkdirSync(new URL("../../../fixtures/l3/", import.meta.url).pathname, { recursive: true });
  Deno.writeFileSync(path, pcap(frames));
  console.log(`wrote ${frames.length} frames to ${path}`);
}
