import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { SHA1_MAX_SHORT, sha1ShortBase64 } from "../../src/flow/sha1.ts";

Deno.test("sha1ShortBase64() equals node:crypto for every length 0..55 on pseudo-random bytes", () => {
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  for (let len = 0; len <= SHA1_MAX_SHORT; len++) {
    for (let rep = 0; rep < 20; rep++) {
      const msg = Uint8Array.from({ length: len }, rnd);
      assert.equal(
        sha1ShortBase64(msg, len),
        createHash("sha1").update(msg).digest("base64"),
        `len ${len}`,
      );
    }
  }
});

Deno.test("sha1ShortBase64() refuses messages longer than one block", () => {
  assert.throws(
    () => sha1ShortBase64(new Uint8Array(56), 56),
    new RangeError("sha1ShortBase64: message longer than one block"),
  );
  assert.equal(
    sha1ShortBase64(new Uint8Array(56), 55),
    createHash("sha1").update(new Uint8Array(55)).digest("base64"),
  );
});
