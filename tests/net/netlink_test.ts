/**
 * Netlink framing and rtnetlink parsing on hand-built messages (no kernel needed):
 * the byte layouts are the ones `ip monitor` / strace show for RTM_NEWLINK,
 * RTM_NEWADDR and RTM_NEWROUTE, in host (little-endian) order.
 */
import assert from "node:assert/strict";
import {
  attrMap,
  dump,
  dumpRequest,
  NetlinkError,
  NLM_F,
  NLMSG_TYPE,
  parseAttrs,
  RTM,
  splitMessages,
  type Transport,
} from "../../src/net/netlink.ts";
import { assembleInterfaces, parseAddr } from "../../src/net/interfaces.ts";
import { assembleGateways, parseRoute } from "../../src/net/routes.ts";
import { parseRtTables } from "../../src/net/tables.ts";

/** Little builder for netlink bytes. */
class B {
  bytes: number[] = [];
  u8(v: number) {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number) {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number) {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: number) {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  raw(a: ArrayLike<number>) {
    for (let i = 0; i < a.length; i++) this.u8(a[i]);
    return this;
  }
  pad() {
    while (this.bytes.length % 4) this.u8(0);
    return this;
  }
  attr(type: number, value: ArrayLike<number>) {
    this.u16(4 + value.length).u16(type).raw(value);
    return this.pad();
  }
  done(): number[] {
    return this.bytes;
  }
}
const cstr = (s: string) => [...new TextEncoder().encode(s), 0];
const ip4 = (s: string) => s.split(".").map(Number);
const u32b = (v: number) => new B().u32(v).done();

/** A netlink message: header + body. */
function msg(type: number, seq: number, body: number[], flags: number = NLM_F.MULTI): Uint8Array {
  return new Uint8Array(
    new B().u32(16 + body.length).u16(type).u16(flags).u32(seq).u32(0).raw(body).done(),
  );
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

Deno.test("dumpRequest() writes nlmsghdr with REQUEST|DUMP and the body", () => {
  const r = dumpRequest(RTM.GETLINK, 7, new Uint8Array(16));
  const v = new DataView(r.buffer);
  assert.equal(r.length, 32);
  assert.equal(v.getUint32(0, true), 32);
  assert.equal(v.getUint16(4, true), RTM.GETLINK);
  assert.equal(v.getUint16(6, true), 0x301);
  assert.equal(v.getUint32(8, true), 7);
});

Deno.test("splitMessages() stops at an impossible length instead of looping", () => {
  const good = msg(NLMSG_TYPE.DONE, 1, [0, 0, 0, 0]);
  const bad = new Uint8Array(16); // length 0
  const ms = splitMessages(concat(good, bad));
  assert.equal(ms.length, 1);
  assert.equal(ms[0].type, NLMSG_TYPE.DONE);
});

Deno.test("parseAttrs() masks NLA_F_NESTED and ignores a truncated attribute", () => {
  const bytes = new Uint8Array(
    new B().u16(8).u16(0x8000 | 18).u32(1).u16(12).u16(3).u32(0).done(),
  );
  const a = parseAttrs(new DataView(bytes.buffer), 0, bytes.length);
  assert.deepEqual(a.map((x) => x.type), [18]);
});

/** RTM_NEWLINK for a veth "v0" (index 5) whose peer is index 6, with stats64. */
function linkMsg(seq: number, index: number, name: string, link?: number): Uint8Array {
  const stats = new B();
  for (let i = 0; i < 24; i++) stats.u64(i === 2 ? 2 ** 40 : i + 1); // rx_bytes large
  const body = new B().u8(0).u8(0).u16(1).u32(index).u32(0x11043).u32(0)
    .attr(3, cstr(name))
    .attr(1, [0x02, 0, 0, 0, 0, index])
    .attr(4, u32b(1500))
    .attr(16, [6])
    .attr(18, new B().attr(1, cstr("veth")).done())
    .attr(23, stats.done());
  if (link !== undefined) body.attr(5, u32b(link));
  return msg(RTM.NEWLINK, seq, body.done());
}

Deno.test("assembleInterfaces() parses name, MAC, MTU, state, flags, kind, peer, stats64", () => {
  const ms = splitMessages(concat(linkMsg(1, 5, "v0", 6), linkMsg(1, 6, "v1", 5)));
  const addr = new B().u8(2).u8(24).u8(0x80).u8(0).u32(5)
    .attr(2, ip4("10.0.0.1")).attr(1, ip4("10.0.0.1")).attr(4, ip4("10.0.0.255"))
    .attr(3, cstr("v0")).done();
  const list = assembleInterfaces(ms, splitMessages(msg(RTM.NEWADDR, 2, addr)));
  assert.equal(list.length, 2);
  const v0 = list[0];
  assert.equal(v0.Name, "v0");
  assert.equal(v0.Index, 5);
  assert.equal(v0.MAC, "02:00:00:00:00:05");
  assert.equal(v0.MTU, 1500);
  assert.equal(v0.Operstate, "UP");
  assert.equal(v0.Kind, "veth");
  assert.equal(v0.Link, "v1");
  assert.equal(v0.Flags.UP, true);
  assert.equal(v0.Flags.LOWER_UP, true);
  assert.equal(v0.Flags.LOOPBACK, false);
  assert.equal(v0.Counters?.RX_Bytes, 2 ** 40);
  assert.equal(v0.Counters?.RX_Packets, 1);
  assert.equal(v0.Counters?.TX_Dropped, 8);
  assert.deepEqual(v0.Addresses.map((a) => [a.Address, a.Prefix_Length, a.Broadcast, a.Label]), [
    ["10.0.0.1", 24, "10.0.0.255", "v0"],
  ]);
  assert.equal(v0.Addresses[0].Flags.Permanent, true);
});

Deno.test("parseAddr() keeps a point-to-point peer apart from the local address", () => {
  const body = new B().u8(2).u8(32).u8(0x80).u8(0).u32(3)
    .attr(2, ip4("10.1.1.1")).attr(1, ip4("10.1.1.2")).done();
  const p = parseAddr(splitMessages(msg(RTM.NEWADDR, 1, body))[0]);
  assert.equal(p?.addr.Address, "10.1.1.1");
  assert.equal(p?.addr.Peer, "10.1.1.2");
});

/** rtmsg + attrs for an IPv4 route. */
function route(opts: {
  dst?: string;
  len: number;
  table: number;
  type?: number;
  attrs: (b: B) => B;
}): Uint8Array {
  const b = new B().u8(2).u8(opts.len).u8(0).u8(0).u8(opts.table < 256 ? opts.table : 252)
    .u8(4).u8(0).u8(opts.type ?? 1).u32(0);
  b.attr(15, u32b(opts.table));
  if (opts.dst) b.attr(1, ip4(opts.dst));
  return msg(RTM.NEWROUTE, 1, opts.attrs(b).done());
}

Deno.test("parseRoute() turns default, table 1000 and multipath routes into gateways", () => {
  const tables = new Map([[254, "main"]]);
  const names = new Map([[2, "eth0"], [3, "eth1"]]);
  const def = route({
    len: 0,
    table: 254,
    attrs: (b) => b.attr(5, ip4("192.0.2.1")).attr(4, u32b(2)),
  });
  const t1000 = route({
    dst: "10.5.0.0",
    len: 16,
    table: 1000,
    attrs: (b) => b.attr(5, ip4("192.0.2.9")).attr(4, u32b(3)).attr(6, u32b(50)),
  });
  const nh = (gw: string, ifi: number, hops: number) => {
    const a = new B().attr(5, ip4(gw)).done();
    return new B().u16(8 + a.length).u8(0).u8(hops).u32(ifi).raw(a).done();
  };
  const mp = route({
    dst: "10.6.0.0",
    len: 16,
    table: 254,
    attrs: (b) => b.attr(9, [...nh("192.0.2.3", 2, 1), ...nh("192.0.2.4", 3, 0)]),
  });
  const connected = route({
    dst: "192.0.2.0",
    len: 24,
    table: 254,
    attrs: (b) => b.attr(4, u32b(2)),
  });
  const local = route({
    dst: "192.0.2.7",
    len: 32,
    table: 255,
    type: 2,
    attrs: (b) => b.attr(4, u32b(2)),
  });
  const raw = [def, t1000, mp, connected, local].flatMap((m) =>
    parseRoute(splitMessages(m)[0], tables)
  );
  const gws = assembleGateways(raw, names);
  assert.deepEqual(
    gws.map((
      g,
    ) => [g.Interface, g.Destination, g.Gateway, g.Table_Name, g.Metric, g.Default, g.Weight]),
    [
      ["eth0", "default", "192.0.2.1", "main", 0, true, null],
      ["eth0", "10.6.0.0/16", "192.0.2.3", "main", 0, false, 2],
      ["eth1", "10.6.0.0/16", "192.0.2.4", "main", 0, false, 1],
      ["eth1", "10.5.0.0/16", "192.0.2.9", "1000", 50, false, null],
    ],
  );
});

Deno.test("dump() collects messages of its sequence until NLMSG_DONE and raises NLMSG_ERROR", () => {
  let sent = 0;
  let seq = 0;
  const t: Transport = {
    send(m) {
      sent++;
      seq = new DataView(m.buffer).getUint32(8, true);
    },
    recv() {
      return concat(
        msg(RTM.NEWLINK, seq - 1, []), // stale
        linkMsg(seq, 1, "lo"),
        msg(NLMSG_TYPE.DONE, seq, [0, 0, 0, 0]),
      );
    },
  };
  assert.equal(dump(t, RTM.GETLINK, new Uint8Array(16), RTM.NEWLINK).length, 1);
  assert.equal(sent, 1);
  const failing: Transport = {
    send(m) {
      seq = new DataView(m.buffer).getUint32(8, true);
    },
    recv: () => msg(NLMSG_TYPE.ERROR, seq, new B().u32(-1 >>> 0).raw(new Array(16).fill(0)).done()),
  };
  assert.throws(() => dump(failing, RTM.GETLINK, new Uint8Array(16), RTM.NEWLINK), NetlinkError);
});

Deno.test("dump() repeats a dump the kernel flags as interrupted (NLM_F_DUMP_INTR)", () => {
  let sent = 0;
  let seq = 0;
  const t: Transport = {
    send(m) {
      sent++;
      seq = new DataView(m.buffer).getUint32(8, true);
    },
    recv: () =>
      msg(
        NLMSG_TYPE.DONE,
        seq,
        [0, 0, 0, 0],
        sent === 1 ? NLM_F.MULTI | NLM_F.DUMP_INTR : NLM_F.MULTI,
      ),
  };
  dump(t, RTM.GETROUTE, new Uint8Array(12), RTM.NEWROUTE);
  assert.equal(sent, 2);
});

Deno.test("parseRtTables() reads ids (decimal or hex) and names, skipping comments", () => {
  const m = parseRtTables("# reserved\n255\tlocal\n0x64 vpn # office\n  7 lab\nbad line\n");
  assert.deepEqual([...m], [[255, "local"], [100, "vpn"], [7, "lab"]]);
});

Deno.test("attrMap() keeps the first attribute of each type", () => {
  const bytes = new Uint8Array(new B().attr(3, cstr("a")).attr(3, cstr("b")).done());
  const m = attrMap(new DataView(bytes.buffer), 0, bytes.length);
  assert.equal(m.get(3)?.off, 4);
});
