/**
 * Round-trip time estimation (RFC 9002 §5): latest, minimum, smoothed RTT and its variation, for
 * one network path. Times are milliseconds on the caller's clock (fractional values allowed).
 */

/** Timer granularity, kGranularity (RFC 9002 §6.1.2: RECOMMENDED 1 ms). */
export const GRANULARITY_MS = 1;

/** Initial RTT before any sample, kInitialRtt (RFC 9002 §6.2.2: SHOULD be 333 ms). */
export const DEFAULT_INITIAL_RTT_MS = 333;

/** max_ack_delay when the peer does not send the transport parameter (RFC 9000 §18.2). */
export const DEFAULT_MAX_ACK_DELAY_MS = 25;

/** What congestion controllers and the pacer read from an RTT estimator. */
export interface RttView {
  /** smoothed_rtt, ms. */
  readonly smoothed: number;
  /** min_rtt, ms (0 before the first sample). */
  readonly min: number;
  /** latest_rtt, ms (0 before the first sample). */
  readonly latest: number;
}

export interface RttEstimatorOptions {
  /** kInitialRtt in ms (default 333). A resumed connection may pass its previous smoothed RTT. */
  initialRtt?: number;
  /** The peer's max_ack_delay in ms (default 25, the transport parameter's default). */
  maxAckDelay?: number;
}

export class RttEstimator implements RttView {
  #initialRtt: number;
  #latest = 0;
  #min = 0;
  #smoothed: number;
  #rttvar: number;
  #firstSampleTime: number | undefined;
  /** The peer's max_ack_delay (ms): set it once transport parameters are known. */
  maxAckDelay: number;

  constructor(options: RttEstimatorOptions = {}) {
    const initial = options.initialRtt ?? DEFAULT_INITIAL_RTT_MS;
    if (!(initial > 0 && Number.isFinite(initial)))
      throw new RangeError(`bad initial RTT ${initial}`);
    this.#initialRtt = initial;
    this.#smoothed = initial;
    this.#rttvar = initial / 2;
    this.maxAckDelay = options.maxAckDelay ?? DEFAULT_MAX_ACK_DELAY_MS;
  }

  get latest(): number {
    return this.#latest;
  }

  get min(): number {
    return this.#min;
  }

  get smoothed(): number {
    return this.#smoothed;
  }

  /** rttvar, ms. */
  get variance(): number {
    return this.#rttvar;
  }

  /** When the first RTT sample was taken (first_rtt_sample), or undefined before it. */
  get firstSampleTime(): number | undefined {
    return this.#firstSampleTime;
  }

  get hasSample(): boolean {
    return this.#firstSampleTime !== undefined;
  }

  /**
   * Records an RTT sample (RFC 9002 §5.3). `ackDelay` is the peer-reported delay in ms, already
   * decoded with its ack_delay_exponent; `capAckDelay` is true once the handshake is confirmed, when
   * the delay MUST be limited to max_ack_delay.
   */
  update(latestRtt: number, ackDelay: number, capAckDelay: boolean, now: number): void {
    if (latestRtt < 0) latestRtt = 0;
    this.#latest = latestRtt;
    if (this.#firstSampleTime === undefined) {
      // RFC 9002 §5.3: the first sample resets the estimator, keeping no history.
      this.#min = latestRtt;
      this.#smoothed = latestRtt;
      this.#rttvar = latestRtt / 2;
      this.#firstSampleTime = now;
      return;
    }
    // RFC 9002 §5.2: min_rtt ignores acknowledgment delay.
    if (latestRtt < this.#min) this.#min = latestRtt;
    if (capAckDelay && ackDelay > this.maxAckDelay) ackDelay = this.maxAckDelay;
    // RFC 9002 §5.3: "MUST NOT subtract the acknowledgment delay from the RTT sample if the
    // resulting value is smaller than the min_rtt".
    const adjusted = latestRtt >= this.#min + ackDelay ? latestRtt - ackDelay : latestRtt;
    // Appendix A.7 (as RFC 6298): rttvar is updated with the previous smoothed_rtt.
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#smoothed - adjusted);
    this.#smoothed = 0.875 * this.#smoothed + 0.125 * adjusted;
  }

  /** smoothed_rtt + max(4 * rttvar, kGranularity): the PTO without max_ack_delay or backoff. */
  ptoBase(): number {
    return this.#smoothed + Math.max(4 * this.#rttvar, GRANULARITY_MS);
  }

  /**
   * The PTO period (RFC 9002 §6.2.1). max_ack_delay is included only for the Application Data
   * space; Initial and Handshake acknowledgments are not delayed intentionally.
   */
  pto(includeMaxAckDelay: boolean): number {
    return this.ptoBase() + (includeMaxAckDelay ? this.maxAckDelay : 0);
  }

  /**
   * Persistent congestion duration (RFC 9002 §7.6.1): the full PTO including max_ack_delay,
   * whatever the space, times kPersistentCongestionThreshold.
   */
  persistentCongestionDuration(threshold = 3): number {
    return (this.ptoBase() + this.maxAckDelay) * threshold;
  }

  /** Time-threshold loss delay (RFC 9002 §6.1.2): max(k * max(smoothed, latest), kGranularity). */
  lossDelay(timeThreshold = 9 / 8): number {
    return Math.max(timeThreshold * Math.max(this.#latest, this.#smoothed), GRANULARITY_MS);
  }

  /** After persistent congestion, min_rtt restarts from the newest sample (RFC 9002 §5.2 SHOULD). */
  resetMinToLatest(): void {
    if (this.#firstSampleTime !== undefined) this.#min = this.#latest;
  }

  /**
   * Back to the initial state, e.g. for a new path (RFC 9000 §9.4). `initialRtt` may come from a
   * PATH_CHALLENGE/PATH_RESPONSE delay (RFC 9002 §6.2.2).
   */
  reset(initialRtt: number = this.#initialRtt): void {
    this.#latest = 0;
    this.#min = 0;
    this.#smoothed = initialRtt;
    this.#rttvar = initialRtt / 2;
    this.#firstSampleTime = undefined;
  }
}
