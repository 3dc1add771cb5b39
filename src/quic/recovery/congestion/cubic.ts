/**
 * CUBIC congestion control (RFC 9438) with the QUIC congestion signals of RFC 9002: the window
 * follows W_cubic(t) = C * (t - K)^3 + W_max (C = 0.4, t in seconds, windows in datagrams) after a
 * reduction to beta_cubic = 0.7 of the window, with a Reno-friendly estimate as a floor and fast
 * convergence. Slow start, recovery periods and persistent congestion behave as in NewReno.
 */
import type { RttView } from '../rtt.js';
import {
  type AckedPacketInfo,
  type CongestionController,
  checkMaxDatagramSize,
  initialWindow,
  isWindowLimited,
  minimumWindow,
} from './controller.js';

/** C (RFC 9438 §5.1), in datagrams per second cubed. */
export const CUBIC_C = 0.4;
/** beta_cubic, the multiplicative decrease factor (RFC 9438 §4.6). */
export const CUBIC_BETA = 0.7;
/** alpha_cubic = 3 (1 - beta) / (1 + beta), the Reno-friendly additive increase (RFC 9438 §4.3). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

export interface CubicOptions {
  /** max_datagram_size in bytes (default 1200). */
  maxDatagramSize?: number;
  /** Fast convergence (RFC 9438 §4.7), default on. */
  fastConvergence?: boolean;
}

/**
 * W_cubic(t) in datagrams (RFC 9438 §4.2, Figure 1): `tSec` seconds into the epoch, `kSec` the time
 * the curve reaches its plateau, `wMax` the window (datagrams) before the last reduction.
 */
export function cubicWindow(tSec: number, kSec: number, wMax: number): number {
  const d = tSec - kSec;
  return CUBIC_C * d * d * d + wMax;
}

/** K = cbrt((W_max - cwnd_epoch) / C), in seconds (RFC 9438 §4.2, Figure 2). */
export function cubicK(wMax: number, cwndEpoch: number): number {
  return wMax <= cwndEpoch ? 0 : Math.cbrt((wMax - cwndEpoch) / CUBIC_C);
}

export class Cubic implements CongestionController {
  #mds: number;
  readonly #fastConvergence: boolean;
  /** congestion_window in bytes, fractional between updates. */
  #cwnd: number;
  #ssthresh = Number.POSITIVE_INFINITY;
  #recoveryStart: number | undefined;
  /** W_max in bytes; undefined before the first congestion event. */
  #wMax: number | undefined;
  /** cwnd_prior in bytes: the window when ssthresh was last set. */
  #cwndPrior = 0;
  /** Start of the current congestion avoidance epoch (ms); undefined outside one. */
  #epochStart: number | undefined;
  /** K in seconds for the current epoch. */
  #k = 0;
  /** W_est in bytes: the Reno-friendly estimate (RFC 9438 §4.3). */
  #wEst = 0;
  #alpha = CUBIC_ALPHA;
  /** When the sender became application limited within the epoch (ms). */
  #appLimitedSince: number | undefined;

  constructor(options: CubicOptions = {}) {
    this.#mds = checkMaxDatagramSize(options.maxDatagramSize ?? 1200);
    this.#fastConvergence = options.fastConvergence ?? true;
    this.#cwnd = initialWindow(this.#mds);
  }

  get maxDatagramSize(): number {
    return this.#mds;
  }

  /** W_max in bytes (undefined before the first congestion event), for inspection. */
  get wMax(): number | undefined {
    return this.#wMax;
  }

  /** K in seconds of the current epoch, for inspection. */
  get k(): number {
    return this.#k;
  }

  window(): number {
    return Math.floor(this.#cwnd);
  }

  slowStartThreshold(): number {
    return this.#ssthresh;
  }

  canSend(bytesInFlight: number, bytes: number): boolean {
    return bytesInFlight + bytes <= this.window();
  }

  available(bytesInFlight: number): number {
    const w = this.window();
    return bytesInFlight >= w ? 0 : w - bytesInFlight;
  }

  inSlowStart(): boolean {
    return this.#cwnd < this.#ssthresh;
  }

  inRecovery(timeSent: number): boolean {
    return this.#recoveryStart !== undefined && timeSent <= this.#recoveryStart;
  }

  onPacketSent(_bytes: number, _now: number, _bytesInFlight: number): void {}

  onPacketsAcked(
    packets: readonly AckedPacketInfo[],
    now: number,
    rtt: RttView,
    priorBytesInFlight: number,
  ): void {
    const limited = isWindowLimited(
      priorBytesInFlight,
      this.window(),
      this.#mds,
      this.inSlowStart(),
    );
    if (!limited) {
      // RFC 9438 §5.8: no growth while application limited, and the idle time does not count in t.
      if (this.#epochStart !== undefined && this.#appLimitedSince === undefined) {
        this.#appLimitedSince = now;
      }
      return;
    }
    if (this.#appLimitedSince !== undefined) {
      if (this.#epochStart !== undefined) this.#epochStart += now - this.#appLimitedSince;
      this.#appLimitedSince = undefined;
    }
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i];
      if (!p.inFlight || this.inRecovery(p.timeSent)) continue;
      if (this.#cwnd < this.#ssthresh) {
        this.#cwnd += p.size;
        continue;
      }
      this.#avoidCongestion(p.size, now, rtt.smoothed);
    }
  }

  /** Congestion avoidance for `bytes` newly acknowledged (RFC 9438 §4.2-§4.5). */
  #avoidCongestion(bytes: number, now: number, srtt: number): void {
    const mds = this.#mds;
    if (this.#epochStart === undefined) this.#startEpoch(now);
    const tSec = (now - this.#epochStart!) / 1000;
    const wMaxSeg = this.#wMax! / mds;
    const cwnd = this.#cwnd;
    // RFC 9438 §4.3: the Reno-friendly estimate, alpha rising to 1 once W_est reaches cwnd_prior.
    this.#wEst += (this.#alpha * mds * bytes) / cwnd;
    if (this.#alpha !== 1 && this.#wEst >= this.#cwndPrior) this.#alpha = 1;
    const wCubicNow = cubicWindow(tSec, this.#k, wMaxSeg) * mds;
    if (wCubicNow < this.#wEst) {
      // Reno-friendly region: cwnd follows W_est.
      if (this.#wEst > cwnd) this.#cwnd = this.#wEst;
      return;
    }
    // RFC 9438 §4.2: target = W_cubic(t + RTT), kept within [cwnd, 1.5 cwnd].
    let target = cubicWindow(tSec + srtt / 1000, this.#k, wMaxSeg) * mds;
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    this.#cwnd = cwnd + ((target - cwnd) * bytes) / cwnd;
  }

  #startEpoch(now: number): void {
    this.#epochStart = now;
    this.#appLimitedSince = undefined;
    const cwnd = this.#cwnd;
    if (this.#wMax === undefined || this.#wMax < cwnd) {
      // RFC 9438 §4.10: leaving slow start without a loss (or above the old W_max): plateau now.
      this.#wMax = cwnd;
      if (this.#cwndPrior === 0) this.#cwndPrior = cwnd;
      this.#k = 0;
    } else {
      this.#k = cubicK(this.#wMax / this.#mds, cwnd / this.#mds);
    }
    this.#wEst = cwnd;
  }

  onCongestionEvent(timeSent: number, now: number): void {
    if (this.inRecovery(timeSent)) return;
    this.#recoveryStart = now;
    const cwnd = this.#cwnd;
    // RFC 9438 §4.7 fast convergence: a window that stopped short of the previous W_max releases
    // bandwidth to newer flows.
    if (this.#fastConvergence && this.#wMax !== undefined && cwnd < this.#wMax) {
      this.#wMax = (cwnd * (1 + CUBIC_BETA)) / 2;
    } else {
      this.#wMax = cwnd;
    }
    this.#cwndPrior = cwnd;
    // RFC 9438 §4.6: ssthresh = cwnd * beta_cubic, never below the minimum window (RFC 9002 §7.2).
    this.#ssthresh = Math.max(Math.floor(cwnd * CUBIC_BETA), minimumWindow(this.#mds));
    this.#cwnd = this.#ssthresh;
    this.#alpha = CUBIC_ALPHA;
    this.#epochStart = undefined;
    this.#appLimitedSince = undefined;
  }

  onPersistentCongestion(_now: number): void {
    // RFC 9002 §7.6.2 / RFC 9438 §4.8: back to the minimum window and slow start; ssthresh keeps
    // the beta_cubic reduction of the congestion event that preceded.
    this.#cwnd = minimumWindow(this.#mds);
    this.#recoveryStart = undefined;
    this.#epochStart = undefined;
    this.#appLimitedSince = undefined;
  }

  setMaxDatagramSize(bytes: number): void {
    const old = this.#mds;
    this.#mds = checkMaxDatagramSize(bytes);
    if (this.#cwnd === initialWindow(old)) this.#cwnd = initialWindow(this.#mds);
    this.#cwnd = Math.max(this.#cwnd, minimumWindow(this.#mds));
  }
}
