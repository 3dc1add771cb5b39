/**
 * A token bucket on the caller's clock: `ratePerSecond` tokens accrue continuously up to `burst`.
 * Used to bound stateless resets (RFC 9000 §10.3.3 suggests limiting how many are generated).
 * No timers: the bucket refills lazily when asked.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number | undefined;

  /** `ratePerSecond` ≥ 0 and `burst` ≥ 1; a rate of 0 allows only the initial burst. */
  constructor(ratePerSecond: number, burst: number) {
    if (!(ratePerSecond >= 0) || !(burst >= 1)) {
      throw new RangeError(
        `token bucket needs rate >= 0 and burst >= 1 (${ratePerSecond}, ${burst})`,
      );
    }
    this.#rate = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Takes one token at time `now` (ms); false when the bucket is empty. */
  take(now: number): boolean {
    if (this.#last !== undefined && now > this.#last) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#rate);
    }
    if (this.#last === undefined || now > this.#last) this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
