/**
 * NewReno congestion control as specified for QUIC (RFC 9002 §7.3-§7.6, Appendix B): slow start,
 * a recovery period per round trip, congestion avoidance adding one datagram per window, and a
 * collapse to the minimum window on persistent congestion.
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

/** kLossReductionFactor (RFC 9002 §7.3.2 / Appendix B.1). */
export const LOSS_REDUCTION_FACTOR = 0.5;

export interface NewRenoOptions {
  /** max_datagram_size in bytes (default 1200). */
  maxDatagramSize?: number;
}

export class NewReno implements CongestionController {
  #mds: number;
  #cwnd: number;
  #ssthresh = Number.POSITIVE_INFINITY;
  /** congestion_recovery_start_time; undefined when no recovery period has started. */
  #recoveryStart: number | undefined;
  /** Bytes acknowledged in congestion avoidance since the window last grew (RFC 3465 §2.1). */
  #caAcked = 0;

  constructor(options: NewRenoOptions = {}) {
    this.#mds = checkMaxDatagramSize(options.maxDatagramSize ?? 1200);
    this.#cwnd = initialWindow(this.#mds);
  }

  get maxDatagramSize(): number {
    return this.#mds;
  }

  window(): number {
    return this.#cwnd;
  }

  slowStartThreshold(): number {
    return this.#ssthresh;
  }

  canSend(bytesInFlight: number, bytes: number): boolean {
    return bytesInFlight + bytes <= this.#cwnd;
  }

  available(bytesInFlight: number): number {
    return bytesInFlight >= this.#cwnd ? 0 : this.#cwnd - bytesInFlight;
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
    _now: number,
    _rtt: RttView,
    priorBytesInFlight: number,
  ): void {
    // RFC 9002 §7.8: the window SHOULD NOT grow while it is underused.
    if (!isWindowLimited(priorBytesInFlight, this.#cwnd, this.#mds, this.inSlowStart())) return;
    for (let i = 0; i < packets.length; i++) {
      const p = packets[i];
      // RFC 9002 §7.3.2: no growth for packets sent before the recovery period started.
      if (!p.inFlight || this.inRecovery(p.timeSent)) continue;
      if (this.#cwnd < this.#ssthresh) {
        // RFC 9002 §7.3.1: slow start grows by the bytes acknowledged.
        this.#cwnd += p.size;
      } else {
        // RFC 9002 §7.3.3: "MUST limit the increase ... to at most one maximum datagram size for
        // each congestion window that is acknowledged".
        this.#caAcked += p.size;
        if (this.#caAcked >= this.#cwnd) {
          this.#caAcked -= this.#cwnd;
          this.#cwnd += this.#mds;
        }
      }
    }
  }

  onCongestionEvent(timeSent: number, now: number): void {
    // RFC 9002 §7.3.2: one reduction per recovery period.
    if (this.inRecovery(timeSent)) return;
    this.#recoveryStart = now;
    this.#ssthresh = Math.floor(this.#cwnd * LOSS_REDUCTION_FACTOR);
    this.#cwnd = Math.max(this.#ssthresh, minimumWindow(this.#mds));
    this.#caAcked = 0;
  }

  onPersistentCongestion(_now: number): void {
    // RFC 9002 §7.6.2: "the sender's congestion window MUST be reduced to the minimum congestion
    // window"; slow start resumes (Appendix B.8 clears the recovery start).
    this.#cwnd = minimumWindow(this.#mds);
    this.#recoveryStart = undefined;
    this.#caAcked = 0;
  }

  setMaxDatagramSize(bytes: number): void {
    const old = this.#mds;
    this.#mds = checkMaxDatagramSize(bytes);
    // RFC 9002 §7.2: a window still at its initial value follows the new initial window.
    if (this.#cwnd === initialWindow(old)) this.#cwnd = initialWindow(this.#mds);
    this.#cwnd = Math.max(this.#cwnd, minimumWindow(this.#mds));
  }
}
