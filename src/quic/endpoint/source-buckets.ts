/**
 * Token buckets per source address, for the packets that make a server work before anything is
 * proven: an Initial for no connection costs an Initial-key derivation and a decryption (RFC 9001
 * §5.2), then a Retry, a refusal or a whole handshake (issue 10, point 5: "per-source token
 * buckets for packets that create work"). A source over its rate is dropped before any of that.
 *
 * Memory is bounded: at most `maxSources` buckets. When full, buckets that have refilled (their
 * source has been quiet for `burst / rate` seconds: forgetting them changes nothing) are swept;
 * if every one is still in use, the oldest are forgotten, which can only let a source through
 * sooner, never hold an innocent one back. No timers: buckets refill lazily on the caller's clock.
 */

interface Bucket {
  tokens: number;
  last: number;
}

export interface SourceRate {
  /** Tokens a source earns per second. */
  readonly perSecond: number;
  /** What a source may spend at once (>= 1). */
  readonly burst: number;
  /** Sources remembered at most (default 65,536). */
  readonly maxSources?: number;
}

export class SourceBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(rate: SourceRate) {
    if (!(rate.perSecond >= 0) || !(rate.burst >= 1)) {
      throw new RangeError(
        `per-source rate needs perSecond >= 0 and burst >= 1 (${rate.perSecond}, ${rate.burst})`,
      );
    }
    this.#rate = rate.perSecond / 1000;
    this.#burst = rate.burst;
    this.#max = Math.max(1, rate.maxSources ?? 65_536);
  }

  /** Sources remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `source` at `now` (ms); false when its bucket is empty. */
  take(source: string, now: number): boolean {
    let b = this.#buckets.get(source);
    if (b === undefined) {
      if (this.#buckets.size >= this.#max) this.#sweep(now);
      b = { tokens: this.#burst, last: now };
      this.#buckets.set(source, b);
    } else if (now > b.last) {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.last) * this.#rate);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #sweep(now: number): void {
    for (const [source, b] of this.#buckets) {
      if (b.tokens + (now - b.last) * this.#rate >= this.#burst) this.#buckets.delete(source);
    }
    // Still full: forget the oldest quarter (Map order is insertion order).
    if (this.#buckets.size >= this.#max) {
      let n = Math.max(1, this.#max >> 2);
      for (const source of this.#buckets.keys()) {
        this.#buckets.delete(source);
        if (--n === 0) break;
      }
    }
  }
}
