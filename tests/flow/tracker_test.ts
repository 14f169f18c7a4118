import assert from "node:assert/strict";
import { type FlowOptions, FlowTable } from "../../src/flow/tracker.ts";
import { Frame } from "../../src/decode/frame.ts";
import { type FrameMeta, newFrameMeta } from "../../src/decode/meta.ts";
import type { PacketRecord } from "../../src/decode/record.ts";

const OPTS: FlowOptions = {
  tcpIdleTimeout: 300,
  udpIdleTimeout: 60,
  icmpIdleTimeout: 60,
  activeTimeout: 1800,
  maxFlows: 1000,
  communityId: true,
};

const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10;

/** A frame whose bytes hold just the two IPv4 addresses; the summary says the rest. */
function pkt(
  src: [number, number, number, number],
  dst: [number, number, number, number],
  proto: number,
  sport: number,
  dport: number,
  opts: { flags?: number; payload?: number; icmp?: [number, number, number] } = {},
): Frame {
  const bytes = Uint8Array.from([...src, ...dst]);
  const f = new Frame(new DataView(bytes.buffer), bytes);
  f.begin(0, 8, 8, {});
  const s = f.sum;
  s.ipVersion = 4;
  s.srcAddrOff = 0;
  s.dstAddrOff = 4;
  s.ipProto = proto;
  s.srcPort = sport;
  s.dstPort = dport;
  s.tcpFlags = opts.flags ?? 0;
  s.payloadBytes = opts.payload ?? 0;
  s.ipBytes = 40 + (opts.payload ?? 0);
  if (opts.icmp) [s.icmpType, s.icmpCode, s.icmpId] = opts.icmp;
  return f;
}

function meta(t: number): FrameMeta {
  const m = newFrameMeta();
  m.sec = Math.floor(t);
  m.nsec = Math.round((t - Math.floor(t)) * 1e9);
  m.wireLen = 60;
  return m;
}

function table(opts: Partial<FlowOptions> = {}) {
  const out: Record<string, unknown>[] = [];
  const t = new FlowTable(
    { ...OPTS, ...opts },
    (r: PacketRecord) => out.push(r.Flow as Record<string, unknown>),
  );
  return { t, out };
}

const A: [number, number, number, number] = [10, 0, 0, 1];
const B: [number, number, number, number] = [10, 0, 0, 2];

Deno.test("FlowTable rejected connection: SYN answered by RST is REJ, history Sr", () => {
  const { t, out } = table();
  t.observe(pkt(A, B, 6, 40000, 80, { flags: SYN }), meta(1));
  t.observe(pkt(B, A, 6, 80, 40000, { flags: RST | ACK }), meta(1.1));
  t.flushAll();
  assert.equal(out.length, 1);
  assert.equal(out[0].State, "REJ");
  assert.equal(out[0].History, "Sr");
  assert.equal(out[0].End_Reason, "rst");
});

Deno.test("FlowTable first packet a SYN-ACK flips the originator and marks history ^", () => {
  const { t, out } = table();
  t.observe(pkt(B, A, 6, 80, 40000, { flags: SYN | ACK }), meta(1));
  t.observe(pkt(A, B, 6, 40000, 80, { flags: ACK }), meta(1.1));
  t.flushAll();
  assert.equal(out[0].Source_Address, "10.0.0.1");
  assert.equal(out[0].Source_Port, 40000);
  assert.equal(out[0].History, "^hA");
  assert.equal(out[0].Originator_Packets, 1);
  assert.equal(out[0].Responder_Packets, 1);
});

Deno.test("FlowTable ends idle flows at their protocol's timeout on packet time", () => {
  const { t, out } = table({ udpIdleTimeout: 60, tcpIdleTimeout: 300 });
  t.observe(pkt(A, B, 17, 5000, 53, { payload: 20 }), meta(100));
  t.observe(pkt(A, B, 6, 40001, 80, { flags: SYN }), meta(100));
  t.expire(159);
  assert.equal(out.length, 0);
  t.expire(161);
  assert.equal(out.length, 1);
  assert.equal(out[0].Protocol, "UDP");
  assert.equal(out[0].End_Reason, "idle_timeout");
  assert.equal(out[0].State, "S0");
  t.expire(401);
  assert.equal(out.length, 2);
  assert.equal(out[1].Protocol, "TCP");
});

Deno.test("FlowTable emits interim records for long flows at the active timeout", () => {
  const { t, out } = table({ activeTimeout: 10, udpIdleTimeout: 60 });
  for (let i = 0; i <= 25; i++) {
    t.observe(pkt(A, B, 17, 5000, 53, { payload: 1 }), meta(i));
    t.expire(i);
  }
  const interim = out.filter((r) => r.Interim === true);
  assert.equal(interim.length, 2);
  assert.ok(interim.every((r) => r.End_Reason === "active_timeout"));
  assert.equal(interim[0].Flow_ID, interim[1].Flow_ID);
  t.flushAll();
  assert.equal(out.at(-1)!.Originator_Packets, 26);
  assert.equal(out.at(-1)!.End_Reason, "shutdown");
});

Deno.test("FlowTable at the cap evicts the longest-idle flow and counts it", () => {
  const { t, out } = table({ maxFlows: 16 });
  for (let i = 0; i < 20; i++) t.observe(pkt(A, B, 17, 1000 + i, 53), meta(i));
  assert.equal(t.size, 16);
  assert.equal(t.evicted, 4);
  assert.deepEqual(out.map((r) => r.Source_Port), [1000, 1001, 1002, 1003]);
  assert.ok(out.every((r) => r.End_Reason === "evicted"));
});

Deno.test("FlowTable keeps a closed TCP flow for trailing ACKs, then ends it with reason fin", () => {
  const { t, out } = table();
  const seq: [typeof A, typeof A, number, number, number][] = [
    [A, B, 40000, 80, SYN],
    [B, A, 80, 40000, SYN | ACK],
    [A, B, 40000, 80, ACK],
    [A, B, 40000, 80, ACK | PSH],
    [A, B, 40000, 80, FIN | ACK],
    [B, A, 80, 40000, FIN | ACK],
    [A, B, 40000, 80, ACK],
  ];
  seq.forEach(([s, d, sp, dp, fl], i) =>
    t.observe(pkt(s, d, 6, sp, dp, { flags: fl, payload: i === 3 ? 10 : 0 }), meta(i))
  );
  t.expire(7);
  assert.equal(out.length, 0, "lingers within the close delay");
  t.expire(12);
  assert.equal(out.length, 1);
  assert.equal(out[0].State, "SF");
  assert.equal(out[0].End_Reason, "fin");
  assert.equal(out[0].History, "ShADFf");
  assert.equal(out[0].Originator_Packets, 5);
  assert.equal(out[0].Responder_Packets, 2);
  assert.equal(out[0].Originator_Payload_Bytes, 10);
});

Deno.test("FlowTable pairs ICMP echo request and reply by id, and gives each id its own flow", () => {
  const { t, out } = table();
  t.observe(pkt(A, B, 1, 0, 0, { icmp: [8, 0, 7] }), meta(1));
  t.observe(pkt(B, A, 1, 0, 0, { icmp: [0, 0, 7] }), meta(1));
  t.observe(pkt(A, B, 1, 0, 0, { icmp: [8, 0, 9] }), meta(2));
  t.flushAll();
  assert.equal(out.length, 2);
  assert.equal(out[0].Originator_Packets, 1);
  assert.equal(out[0].Responder_Packets, 1);
  assert.equal(out[0].Community_ID, out[1].Community_ID, "Community ID has no echo id");
});
