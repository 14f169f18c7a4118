/**
 * Per-second rates from successive counter samples on a monotonic clock
 * (performance.now(), milliseconds). A counter that went down was reset (interface
 * re-created, namespace counters cleared, 32-bit wrap): that interval has no rate rather
 * than a negative one, and the new value becomes the base.
 *
 * @module
 */

export interface Rate {
  /** Per second since the previous sample; null on the first sample and after a reset. */
  rate: number | null;
  /** True when this sample was smaller than the previous one. */
  reset: boolean;
}

export class RateTracker {
  #prev = new Map<string, { value: number; at: number }>();

  /**
   * Records `value` for `key` at `nowMs` and returns the rate since the previous sample.
   *
   * @example
   * ```ts
   * const r = new RateTracker();
   * r.sample("lo.rx", 100, 0);     // { rate: null, reset: false }
   * r.sample("lo.rx", 300, 2000);  // { rate: 100, reset: false }
   * r.sample("lo.rx", 50, 3000);   // { rate: null, reset: true }
   * ```
   */
  sample(key: string, value: number, nowMs: number): Rate {
    const prev = this.#prev.get(key);
    this.#prev.set(key, { value, at: nowMs });
    if (!prev) return { rate: null, reset: false };
    if (value < prev.value) return { rate: null, reset: true };
    const dt = (nowMs - prev.at) / 1000;
    if (dt <= 0) return { rate: null, reset: false };
    return { rate: (value - prev.value) / dt, reset: false };
  }
}
