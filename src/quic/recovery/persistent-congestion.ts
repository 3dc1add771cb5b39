/**
 * Establishing persistent congestion (RFC 9002 §7.6.2) from one batch of lost packets.
 */
import type { SentPacket } from './sent-packets.js';

/**
 * True when `lost[first..]` holds two ack-eliciting packets other than PMTU probes, both sent
 * after the first RTT sample (`firstSampleTime`, Appendix B.8), more than `duration` apart
 * (§7.6.1), with no packet sent between them acknowledged. `breaks[i - first]` is true where an
 * acknowledged (or still outstanding) packet separates `lost[i]` from the previous lost packet,
 * ending a run.
 *
 * Only the space being acknowledged is considered, as §7.6.2 allows ("MAY use state for just the
 * packet number space that was acknowledged"), and only within one batch of losses.
 */
export function inPersistentCongestion<T>(
  lost: readonly SentPacket<T>[],
  first: number,
  breaks: readonly boolean[],
  firstSampleTime: number,
  duration: number,
): boolean {
  if (lost.length - first < 2) return false;
  let runStart = Number.POSITIVE_INFINITY;
  for (let i = first; i < lost.length; i++) {
    if (breaks[i - first]) runStart = Number.POSITIVE_INFINITY;
    const p = lost[i];
    // A lost PMTU probe says nothing about congestion (RFC 9000 §14.4): it neither starts nor
    // extends a period.
    if (!p.ackEliciting || p.mtuProbe || p.timeSent <= firstSampleTime) continue;
    if (runStart === Number.POSITIVE_INFINITY) runStart = p.timeSent;
    else if (p.timeSent - runStart > duration) return true;
  }
  return false;
}
