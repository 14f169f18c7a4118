/** Pure parts of the live source: ring geometry, shrinking on ENOMEM, snap-length BPF. */
import assert from "node:assert/strict";
import {
  mapShrinking,
  type RingGeometry,
  ringGeometry,
  RingSetupError,
} from "../../src/capture/ring.ts";
import { snapProgram } from "../../src/capture/packet_socket.ts";

Deno.test("ringGeometry() fits a full snap-length frame in a block and fills the buffer", () => {
  const g = ringGeometry(262144, 64 << 20);
  assert.equal(g.blockSize, 512 * 1024);
  assert.equal(g.blockNr, 128);
  assert.equal(g.blockSize % g.frameSize, 0);
  const small = ringGeometry(96, 8 << 20);
  assert.equal(small.blockSize, 128 * 1024);
  assert.equal(small.blockNr, 64);
  assert.equal(ringGeometry(262144, 1 << 20).blockNr, 2);
});

Deno.test("mapShrinking() halves the ring on ENOMEM until it maps, then stops at the floor", () => {
  const tried: number[] = [];
  const fitsBelow = (blocks: number) => (g: RingGeometry) => {
    tried.push(g.blockNr);
    if (g.blockNr > blocks) {
      throw new RingSetupError("setsockopt(PACKET_RX_RING): Cannot allocate memory", true);
    }
    return "mapped";
  };
  const r = mapShrinking(ringGeometry(262144, 64 << 20), 1 << 20, fitsBelow(20));
  assert.equal(r.value, "mapped");
  assert.equal(r.geometry.blockNr, 16);
  assert.deepEqual(tried, [128, 64, 32, 16]);
  // Never fits: gives up at 1 MiB (2 blocks of 512 KiB) with the ENOMEM error.
  tried.length = 0;
  assert.throws(
    () => mapShrinking(ringGeometry(262144, 64 << 20), 1 << 20, fitsBelow(0)),
    RingSetupError,
  );
  assert.deepEqual(tried, [128, 64, 32, 16, 8, 4, 2]);
  // Any other failure is not retried.
  tried.length = 0;
  assert.throws(() =>
    mapShrinking(ringGeometry(262144, 64 << 20), 1 << 20, (g) => {
      tried.push(g.blockNr);
      throw new RingSetupError("setsockopt(PACKET_RX_RING): Invalid argument", false);
    })
  );
  assert.deepEqual(tried, [128]);
});

Deno.test("snapProgram() caps constant returns at the snap length and leaves other insns alone", () => {
  assert.equal(snapProgram(null, 262144, 262144), null);
  const only = snapProgram(null, 96, 262144)!;
  const v1 = new DataView(only.buffer);
  assert.equal(only.length, 8);
  assert.equal(v1.getUint16(0, true), 0x06);
  assert.equal(v1.getUint32(4, true), 96);
  // ldh [12]; jeq #0x806 jt 0 jf 1; ret #262144; ret #0
  const prog = new Uint8Array(32);
  const v = new DataView(prog.buffer);
  const put = (i: number, code: number, jt: number, jf: number, k: number) => {
    v.setUint16(i * 8, code, true);
    v.setUint8(i * 8 + 2, jt);
    v.setUint8(i * 8 + 3, jf);
    v.setUint32(i * 8 + 4, k, true);
  };
  put(0, 0x28, 0, 0, 12);
  put(1, 0x15, 0, 1, 0x0806);
  put(2, 0x06, 0, 0, 262144);
  put(3, 0x06, 0, 0, 0);
  const out = snapProgram(prog, 128, 262144)!;
  const o = new DataView(out.buffer);
  assert.equal(o.getUint32(4, true), 12, "ldh offset untouched");
  assert.equal(o.getUint32(12, true), 0x0806, "jeq constant untouched");
  assert.equal(o.getUint32(20, true), 128, "accept capped");
  assert.equal(o.getUint32(28, true), 0, "reject stays 0");
  assert.equal(v.getUint32(20, true), 262144, "caller's program not modified");
  assert.throws(() => snapProgram(new Uint8Array(7), 128, 262144));
});
