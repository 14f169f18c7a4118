/**
 * Exact conversion of pcapng 64-bit tick counts (if_tsresol units) into whole
 * seconds and nanoseconds, without float rounding and without BigInt in the
 * common cases.
 *
 * @example
 * ```ts
 * const t = { perSec: 1_000_000_000, pow10: 9 };
 * const { sec, rem } = splitTimestamp(0x17a2b3c4, 0xd5e6f708, t);
 * const nsec = nsecFraction(rem, t);
 * ```
 */

/** Tick rate of an interface: `perSec` ticks per second; `pow10` = n for 10^-n, -1 for 2^-n. */
export interface Ticks {
  perSec: number;
  pow10: number;
}

/** Long division in base 65536 stays exact while remainder * 65536 + digit < 2^53. */
const EXACT_DIVISOR_MAX = 2 ** 37;

/** Splits the tick count `hi * 2^32 + lo` into whole seconds and the remaining ticks. */
export function splitTimestamp(hi: number, lo: number, t: Ticks): { sec: number; rem: number } {
  const d = t.perSec;
  if (hi < 0x200000) {
    // < 2^53 ticks: exact in doubles; correct the quotient's possible rounding.
    const ticks = hi * 4294967296 + lo;
    let sec = Math.floor(ticks / d);
    let rem = ticks - sec * d;
    while (rem < 0) {
      sec--;
      rem += d;
    }
    while (rem >= d) {
      sec++;
      rem -= d;
    }
    return { sec, rem };
  }
  if (d <= EXACT_DIVISOR_MAX) {
    const digits = [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff];
    let q = 0;
    let r = 0;
    for (const dg of digits) {
      const x = r * 65536 + dg;
      const qd = Math.floor(x / d);
      r = x - qd * d;
      q = q * 65536 + qd;
    }
    return { sec: q, rem: r };
  }
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  const bd = BigInt(d);
  return { sec: Number(ticks / bd), rem: Number(ticks % bd) };
}

/** Nanoseconds for `rem` ticks (truncated when the resolution is finer than 1 ns). */
export function nsecFraction(rem: number, t: Ticks): number {
  if (t.pow10 >= 0) {
    if (t.pow10 <= 9) return rem * 10 ** (9 - t.pow10);
    return Math.floor(rem / 10 ** (t.pow10 - 9));
  }
  const x = rem * 1e9;
  if (x < 2 ** 53) return Math.floor(x / t.perSec);
  return Number((BigInt(rem) * 1_000_000_000n) / BigInt(t.perSec));
}
