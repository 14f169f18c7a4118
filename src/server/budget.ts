/**
 * The bytes-in-flight budget: one counter shared by every connection that bounds the
 * request-body (and answer) bytes the server holds in memory at once. A request takes
 * bytes as it buffers them ({@link Reservation.take}) and gives them all back when its
 * answer has been written.
 *
 * When the budget is used up, a request that holds nothing yet waits in FIFO order for at
 * most `waitMs`. Among requests that already hold bytes the rule is wait-die (as in
 * database lock managers): the oldest holder waits (first in line), a younger holder is
 * refused at once and gives its bytes back. So holders never wait for each other in a
 * cycle, the oldest request always progresses, and nothing waits longer than `waitMs`.
 * A refused request is answered 503 with Retry-After.
 *
 * @example
 * ```ts
 * import { ByteBudget } from "./budget.ts";
 * const b = new ByteBudget(1 << 20, 1000);
 * const r = b.reservation();
 * await r.take(4096); // true: 4 KiB held
 * r.release(); // all of it back
 * ```
 * @module
 */

interface Waiter {
  bytes: number;
  grant: (ok: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The shared counter. */
export class ByteBudget {
  #used = 0;
  #peak = 0;
  #refused = 0;
  #born = 0;
  readonly #waiters: Waiter[] = [];
  /** Reservations that hold bytes now. */
  readonly #holders = new Set<Reservation>();

  /**
   * @param limit total bytes that may be held at once
   * @param waitMs how long a taker waits for bytes before it is refused
   */
  constructor(readonly limit: number, readonly waitMs: number) {}

  get used(): number {
    return this.#used;
  }

  /** Highest `used` seen. */
  get peak(): number {
    return this.#peak;
  }

  /** Takes that were refused. */
  get refused(): number {
    return this.#refused;
  }

  /** A per-request handle; everything it took is given back by {@link Reservation.release}. */
  reservation(): Reservation {
    return new Reservation(this, ++this.#born);
  }

  /** @internal Called by {@link Reservation}. */
  take(r: Reservation, bytes: number): Promise<boolean> | boolean {
    const holder = r.held > 0;
    // A request in the middle of its body goes on while there is room; a new one queues
    // behind those already waiting.
    if ((holder || this.#waiters.length === 0) && this.#used + bytes <= this.limit) {
      this.#add(bytes);
      this.#holders.add(r);
      return true;
    }
    if (bytes > this.limit || this.waitMs <= 0 || (holder && !this.#oldest(r))) {
      this.#refused++;
      return false;
    }
    return new Promise<boolean>((resolve) => {
      const w: Waiter = {
        bytes,
        grant: (ok) => {
          if (ok) this.#holders.add(r);
          resolve(ok);
        },
        timer: setTimeout(() => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          this.#refused++;
          resolve(false);
          this.#wake(); // the head may have been this one
        }, this.waitMs),
      };
      // The oldest holder goes first: everyone else waits for it to finish.
      if (holder) this.#waiters.unshift(w);
      else this.#waiters.push(w);
    });
  }

  /** @internal Gives `bytes` back and wakes waiters that now fit, oldest first. */
  giveBack(r: Reservation, bytes: number): void {
    this.#holders.delete(r);
    this.#used -= bytes;
    if (this.#used < 0) this.#used = 0;
    this.#wake();
  }

  /** @internal Gives `bytes` back; `r` still holds some. */
  giveSome(bytes: number): void {
    this.#used -= bytes;
    if (this.#used < 0) this.#used = 0;
    this.#wake();
  }

  /** True when no other holder started before `r`. */
  #oldest(r: Reservation): boolean {
    for (const h of this.#holders) if (h !== r && h.born < r.born) return false;
    return true;
  }

  #add(bytes: number): void {
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#used + this.#waiters[0].bytes <= this.limit) {
      const w = this.#waiters.shift()!;
      clearTimeout(w.timer);
      this.#add(w.bytes);
      w.grant(true);
    }
  }
}

/** What one request holds of the budget. */
export class Reservation {
  #held = 0;
  #released = false;

  constructor(private readonly budget: ByteBudget, readonly born: number) {}

  /** Bytes this request holds. */
  get held(): number {
    return this.#held;
  }

  /** The budget's total: a request needing more can never be served. */
  get limit(): number {
    return this.budget.limit;
  }

  /**
   * Takes `bytes` more (see the module documentation for who waits). False when refused:
   * the caller answers 503. After {@link release} every take is refused.
   */
  async take(bytes: number): Promise<boolean> {
    if (this.#released) return false;
    if (bytes <= 0) return true;
    const ok = await this.budget.take(this, bytes);
    if (!ok) return false;
    this.#held += bytes;
    if (this.#released) {
      // The request ended while we waited.
      this.#released = false;
      this.release();
      return false;
    }
    return true;
  }

  /** Gives `bytes` of what this request holds back early. */
  give(bytes: number): void {
    const n = Math.min(bytes, this.#held);
    if (n <= 0) return;
    this.#held -= n;
    if (this.#held === 0) this.budget.giveBack(this, n);
    else this.budget.giveSome(n);
  }

  /** Gives back what this request holds (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    const n = this.#held;
    this.#held = 0;
    if (n > 0) this.budget.giveBack(this, n);
  }
}
