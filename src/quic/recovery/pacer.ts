/**
 * A token-bucket pacer (RFC 9002 §7.7): tokens (bytes) refill at rate = N * cwnd / smoothed_rtt
 * with N = 1.25, up to a burst of the initial window. It reads the window and the RTT when asked;
 * it has no timer of its own: {@link Pacer.timeUntilSend} tells the driver how long to wait.
 * Packets carrying only ACK frames SHOULD NOT be paced (§7.7): do not ask for those.
 */
import { initialWindow } from './congestion/controller.js';
import type { RttView } from './rtt.js';

/** N, the pacing gain over cwnd / smoothed_rtt (RFC 9002 §7.7: "for example, 1.25"). */
export const PACING_GAIN = 1.25;

/** What the pacer reads from the congestion controller. */
export interface PacerWindowSource {
  readonly maxDatagramSize: number;
  window(): number;
}

export interface PacerOptions {
  /** N (default 1.25; at least 1). */
  gain?: number;
  /**
   * Bucket capacity in bytes (default: the initial window for the current datagram size,
   * RFC 9002 §7.7 "Senders SHOULD limit bursts to the initial congestion window").
   */
  burstBytes?: number;
}

export class Pacer {
  readonly #cc: PacerWindowSource;
  readonly #rtt: RttView;
  readonly #gain: number;
  readonly #burst: number | undefined;
  #tokens: number;
  #last: number | undefined;

  constructor(cc: PacerWindowSource, rtt: RttView, options: PacerOptions = {}) {
    this.#cc = cc;
    this.#rtt = rtt;
    this.#gain = options.gain ?? PACING_GAIN;
    if (!(this.#gain >= 1)) throw new RangeError(`pacing gain ${this.#gain} below 1`);
    this.#burst = options.burstBytes;
    this.#tokens = this.capacity();
  }

  /** Bucket capacity in bytes. */
  capacity(): number {
    return this.#burst ?? initialWindow(this.#cc.maxDatagramSize);
  }

  /** Pacing rate in bytes per ms (Infinity before any RTT is known to be positive). */
  rate(): number {
    const srtt = this.#rtt.smoothed;
    return srtt > 0 ? (this.#gain * this.#cc.window()) / srtt : Number.POSITIVE_INFINITY;
  }

  /** Tokens available at `now` (bytes). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /**
   * 0 when a packet of `bytes` may leave at `now`, else the ms to wait. A packet larger than the
   * bucket waits for a full bucket.
   */
  timeUntilSend(now: number, bytes: number): number {
    this.#refill(now);
    const need = Math.min(bytes, this.capacity());
    // Sizes are whole bytes: a shortfall under half a byte is floating-point residue, and waiting
    // for it could ask for a delay too small to move the clock.
    if (this.#tokens > need - 0.5) return 0;
    const rate = this.rate();
    return rate === Number.POSITIVE_INFINITY ? 0 : (need - this.#tokens) / rate;
  }

  /** A paced packet of `bytes` left at `now`. */
  onSend(now: number, bytes: number): void {
    this.#refill(now);
    this.#tokens = Math.max(0, this.#tokens - bytes);
  }

  #refill(now: number): void {
    const cap = this.capacity();
    const last = this.#last;
    if (last === undefined || now <= last) {
      if (last === undefined) this.#last = now;
      if (this.#tokens > cap) this.#tokens = cap;
      return;
    }
    this.#last = now;
    const rate = this.rate();
    const next = rate === Number.POSITIVE_INFINITY ? cap : this.#tokens + rate * (now - last);
    this.#tokens = Math.min(next, cap);
  }
}
