/**
 * Small byte readers and length checks shared by the layer-3/4 decoders. Plain
 * functions over the frame's Uint8Array: no DataView or subarray per field.
 */
import type { Frame } from "./frame.ts";

/** Big-endian unsigned 16-bit value at `o`. Caller checks bounds. */
export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Big-endian unsigned 32-bit value at `o`. Caller checks bounds. */
export function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * True when `n` bytes from `off` lie inside the protocol's data (`end`) and were
 * captured. Otherwise records why on the frame: a fault when the protocol's own
 * length is too short for `n` bytes (malformed), "truncated" when the snap length
 * cut them off.
 */
export function need(
  f: Frame,
  layer: string,
  off: number,
  end: number,
  n: number,
  what: string,
): boolean {
  if (off + n > end) {
    f.fault(layer, `${what}: needs ${n} bytes, ${Math.max(0, end - off)} left`, off);
    return false;
  }
  if (off + n > f.capEnd) {
    f.truncated(layer, off);
    return false;
  }
  return true;
}
