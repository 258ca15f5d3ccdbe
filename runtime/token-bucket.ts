import { type Clock, sleep } from "./clock.ts";

/**
 * A token bucket: `rate` tokens a second, at most `capacity` saved up. The flash-sale gateway admits a request per
 * token and answers the rest 429; a steady writer takes a batch's worth before each write, so that in any window
 * of `w` seconds it writes at most `capacity + rate × w` records, however large the backlog.
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly capacity: number;
  private tokens: number;
  private at: number;

  constructor(rate: number, capacity: number, now: number) {
    if (!(rate > 0) || !(capacity >= 1)) throw new RangeError("a token bucket needs rate > 0 and capacity >= 1");
    this.rate = rate;
    this.capacity = capacity;
    this.tokens = capacity;
    this.at = now;
  }

  /** Takes `n` tokens and returns 0, or takes none and returns the milliseconds until `n` are there. */
  take(n: number, now: number): number {
    if (n > this.capacity) throw new RangeError(`${n} tokens asked of a bucket that holds ${this.capacity}`);
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) * this.rate) / 1_000);
    this.at = Math.max(this.at, now);
    if (this.tokens >= n) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((n - this.tokens) * 1_000) / this.rate);
  }

  /** Waits until `n` tokens are there and takes them; `signal` aborts the wait. */
  async acquire(n: number, clock: Clock, signal?: AbortSignal): Promise<void> {
    for (let wait = this.take(n, clock.now()); wait > 0; wait = this.take(n, clock.now())) {
      await sleep(clock, wait);
      signal?.throwIfAborted();
    }
  }
}
