import assert from "node:assert/strict";
import {
  type Batch,
  Batcher,
  batchKey,
  cutBatches,
  lineEnds,
  parseEnvelope,
  splitBatch,
} from "../../src/submit/batch.ts";

const dec = new TextDecoder();
const lines = (b: Batch) => dec.decode(b.body).trimEnd().split("\n").map((l) => JSON.parse(l));

function collect(limits: { records: number; bytes: number; seconds: number }) {
  const out: Batch[] = [];
  const b = new Batcher("agent1", "run1", limits, (x) => out.push(x));
  return { b, out };
}

Deno.test("Batcher stamps the Netmon envelope with record type, ids, sequence and batch", () => {
  const { b, out } = collect({ records: 3, bytes: 1 << 20, seconds: 60 });
  b.add({ IPv4: { TTL: 64 } });
  b.add({ Flow: { Packets: 2 } });
  b.add({});
  assert.equal(out.length, 1);
  const recs = lines(out[0]);
  assert.deepEqual(recs[0], {
    IPv4: { TTL: 64 },
    Netmon: { Record_Type: "packet", Agent_ID: "agent1", Run_ID: "run1", Sequence: 1, Batch: 1 },
  });
  assert.equal(recs[1].Netmon.Record_Type, "flow");
  assert.equal(recs[2].Netmon.Sequence, 3);
  assert.equal(batchKey(out[0]), "agent1.run1.1");
});

Deno.test("Batcher closes batches at N records, at M bytes, and after T seconds", async () => {
  const n = collect({ records: 2, bytes: 1 << 20, seconds: 60 });
  for (let i = 0; i < 5; i++) n.b.add({ i });
  assert.deepEqual(n.out.map((x) => x.records), [2, 2]);
  n.b.flush();
  assert.deepEqual(n.out.map((x) => x.batch), [1, 2, 3]);

  const m = collect({ records: 1000, bytes: 2048, seconds: 60 });
  for (let i = 0; i < 40; i++) m.b.add({ Payload: { Data: "x".repeat(100), i } });
  m.b.flush();
  for (const x of m.out.slice(0, -1)) assert.ok(x.body.length <= 2048 + 300, `${x.body.length}`);
  assert.equal(m.out.reduce((a, x) => a + x.records, 0), 40);

  const t = collect({ records: 1000, bytes: 1 << 20, seconds: 0.05 });
  t.b.add({ a: 1 });
  assert.equal(t.out.length, 0);
  for (let i = 0; i < 100 && t.out.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(t.out.length, 1);
});

Deno.test("Batcher replaces a Netmon key the record already had and refuses BigInt", () => {
  const { b, out } = collect({ records: 10, bytes: 1 << 20, seconds: 60 });
  assert.equal(b.add({ Netmon: { Sequence: 99 }, A: 1 }), true);
  assert.equal(b.add({ big: 1n }), false);
  b.flush();
  const recs = lines(out[0]);
  assert.equal(recs.length, 1);
  assert.equal(recs[0].Netmon.Sequence, 1);
  assert.equal(b.seq, 1);
});

Deno.test("cutBatches() gives back the same batches, byte for byte, from a spool segment", () => {
  const { b, out } = collect({ records: 3, bytes: 1 << 20, seconds: 60 });
  for (let i = 0; i < 8; i++) b.add({ i, s: "ü€" });
  b.flush();
  const seg = new Uint8Array(out.reduce((a, x) => a + x.body.length, 0));
  let o = 0;
  for (const x of out) {
    seg.set(x.body, o);
    o += x.body.length;
  }
  const cut = cutBatches(seg);
  assert.equal(cut.badLines, 0);
  assert.deepEqual(cut.batches.map(batchKey), out.map(batchKey));
  for (let i = 0; i < out.length; i++) assert.deepEqual(cut.batches[i].body, out[i].body);
  assert.deepEqual(cut.batches.map((x) => x.records), [3, 3, 2]);
});

Deno.test("cutBatches() isolates lines without an envelope", () => {
  const text = '{"a":1}\n' + "not json\n";
  const cut = cutBatches(new TextEncoder().encode(text));
  assert.equal(cut.badLines, 2);
  assert.equal(cut.batches.length, 2);
});

Deno.test("splitBatch() halves by lines and names the parts by sequence range", () => {
  const { b, out } = collect({ records: 5, bytes: 1 << 20, seconds: 60 });
  for (let i = 0; i < 5; i++) b.add({ i });
  const halves = splitBatch(out[0])!;
  assert.deepEqual(halves.map((x) => x.records), [2, 3]);
  assert.deepEqual(halves.map(batchKey), ["agent1.run1.1.1-2", "agent1.run1.1.3-5"]);
  assert.equal(halves[0].body.length + halves[1].body.length, out[0].body.length);
  const one = splitBatch({
    ...out[0],
    body: halves[0].body.subarray(0, lineEnds(halves[0].body)[0]),
  });
  assert.equal(one, null);
});

Deno.test("parseEnvelope() reads the envelope at the end of a long line", () => {
  const line = JSON.stringify({
    P: "y".repeat(5000),
    Netmon: { Record_Type: "packet", Agent_ID: "a", Run_ID: "r", Sequence: 7, Batch: 2 },
  });
  assert.equal(parseEnvelope(new TextEncoder().encode(line))?.Sequence, 7);
  assert.equal(parseEnvelope(new TextEncoder().encode('{"x":1}')), null);
});
