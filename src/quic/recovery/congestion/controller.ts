/**
 * The congestion controller interface (RFC 9002 §7). Loss detection owns bytes in flight and
 * drives the controller; a controller only keeps its window. Sizes are bytes, times ms.
 */
import type { RttView } from '../rtt.js';

/** What a controller reads of an acknowledged packet (a `SentPacket` satisfies it). */
export interface AckedPacketInfo {
  /** Bytes sent. */
  readonly size: number;
  /** When the packet was sent (ms). */
  readonly timeSent: number;
  /** Whether the packet counted toward bytes in flight; others do not move the window. */
  readonly inFlight: boolean;
}

export interface CongestionController {
  /** The current max_datagram_size (bytes), at least 1200. */
  readonly maxDatagramSize: number;

  /** congestion_window, whole bytes. */
  window(): number;

  /** ssthresh, bytes (Infinity before the first congestion event). */
  slowStartThreshold(): number;

  /**
   * True when a packet of `bytes` may be sent: RFC 9002 §7 "MUST NOT send a packet if it would
   * cause bytes_in_flight to be larger than the congestion window" (probes on PTO are exempt; the
   * connection does not ask for them).
   */
  canSend(bytesInFlight: number, bytes: number): boolean;

  /** Bytes that may still be sent now (window minus bytes in flight, never negative). */
  available(bytesInFlight: number): number;

  /** An in-flight packet of `bytes` was sent; `bytesInFlight` already includes it. */
  onPacketSent(bytes: number, now: number, bytesInFlight: number): void;

  /**
   * Packets newly acknowledged by one ACK frame (RFC 9002 Appendix B.5). `priorBytesInFlight` is
   * the bytes in flight before this ACK, used to tell whether the sender was limited by the window
   * or by the application (RFC 9002 §7.8: no growth when the window is underused).
   */
  onPacketsAcked(
    packets: readonly AckedPacketInfo[],
    now: number,
    rtt: RttView,
    priorBytesInFlight: number,
  ): void;

  /**
   * A loss or an ECN-CE increase (RFC 9002 Appendix B.6). `timeSent` is the send time of the
   * latest lost packet (or of the largest acknowledged for ECN); no reaction within the current
   * recovery period.
   */
  onCongestionEvent(timeSent: number, now: number): void;

  /** Persistent congestion was established (RFC 9002 §7.6.2): collapse to the minimum window. */
  onPersistentCongestion(now: number): void;

  /** InCongestionRecovery(sent_time) (RFC 9002 Appendix B.5). */
  inRecovery(timeSent: number): boolean;

  /** True while the window is below ssthresh. */
  inSlowStart(): boolean;

  /** The path's maximum datagram size changed (PMTU discovery, RFC 9002 §7.2). */
  setMaxDatagramSize(bytes: number): void;
}

/** Smallest max_datagram_size QUIC allows (RFC 9000 §14). */
export const MIN_MAX_DATAGRAM_SIZE = 1200;

/** kInitialWindow (RFC 9002 §7.2): min(10 * mds, max(14720, 2 * mds)). */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** kMinimumWindow (RFC 9002 §7.2: RECOMMENDED 2 * max_datagram_size). */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

/** Validates a max_datagram_size argument. */
export function checkMaxDatagramSize(bytes: number): number {
  if (!(Number.isSafeInteger(bytes) && bytes >= MIN_MAX_DATAGRAM_SIZE)) {
    throw new RangeError(`max datagram size ${bytes} below ${MIN_MAX_DATAGRAM_SIZE}`);
  }
  return bytes;
}

/**
 * Whether the sender was limited by the window rather than by the application (RFC 9002 §7.8).
 * The window counts as used when less than one full datagram of it was left, or, in slow start,
 * when more than half of it was in flight (slow start doubles the window each round trip, so a
 * sender that filled half of it filled the previous window).
 */
export function isWindowLimited(
  priorBytesInFlight: number,
  window: number,
  maxDatagramSize: number,
  slowStart: boolean,
): boolean {
  if (priorBytesInFlight + maxDatagramSize > window) return true;
  return slowStart && 2 * priorBytesInFlight > window;
}
