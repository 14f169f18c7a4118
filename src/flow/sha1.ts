/**
 * SHA-1 of a short message (at most 55 bytes: one 64-byte block) to base64,
 * without allocation besides the result string. Community ID hashes 16 to 40
 * bytes per flow; node:crypto's createHash costs ~2 µs and a few objects per call,
 * this costs a fraction of that, which matters at tens of thousands of new flows
 * per second. Checked against node:crypto in tests/flow/sha1_test.ts.
 */
const W = new Int32Array(80);
const BLOCK = new Uint8Array(64);
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const H = new Int32Array(5);
const OUT = new Uint8Array(21);

/** Longest message this one-block implementation takes. */
export const SHA1_MAX_SHORT = 55;

/** base64(SHA1(msg[0..len))) for len <= 55. */
export function sha1ShortBase64(msg: Uint8Array, len: number): string {
  if (len > SHA1_MAX_SHORT) throw new RangeError("sha1ShortBase64: message longer than one block");
  BLOCK.fill(0);
  BLOCK.set(msg.subarray(0, len));
  BLOCK[len] = 0x80;
  const bits = len * 8;
  BLOCK[62] = (bits >>> 8) & 0xff;
  BLOCK[63] = bits & 0xff;
  for (let i = 0; i < 16; i++) {
    W[i] = (BLOCK[4 * i] << 24) | (BLOCK[4 * i + 1] << 16) | (BLOCK[4 * i + 2] << 8) |
      BLOCK[4 * i + 3];
  }
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = 0x67452301, b = 0xefcdab89 | 0, c = 0x98badcfe | 0, d = 0x10325476, e = 0xc3d2e1f0 | 0;
  for (let i = 0; i < 80; i++) {
    let f: number, k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc | 0;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6 | 0;
    }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + W[i]) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  H[0] = (0x67452301 + a) | 0;
  H[1] = (0xefcdab89 + b) | 0;
  H[2] = (0x98badcfe + c) | 0;
  H[3] = (0x10325476 + d) | 0;
  H[4] = (0xc3d2e1f0 + e) | 0;
  for (let i = 0; i < 5; i++) {
    OUT[4 * i] = H[i] >>> 24;
    OUT[4 * i + 1] = (H[i] >>> 16) & 0xff;
    OUT[4 * i + 2] = (H[i] >>> 8) & 0xff;
    OUT[4 * i + 3] = H[i] & 0xff;
  }
  OUT[20] = 0;
  // 20 bytes -> 28 base64 chars (last group has 2 bytes: one '=' of padding)
  let s = "";
  for (let i = 0; i < 18; i += 3) {
    const n = (OUT[i] << 16) | (OUT[i + 1] << 8) | OUT[i + 2];
    s += B64[n >>> 18] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + B64[n & 63];
  }
  const n = (OUT[18] << 16) | (OUT[19] << 8);
  return s + B64[n >>> 18] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + "=";
}
