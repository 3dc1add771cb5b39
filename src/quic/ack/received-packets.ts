/**
 * Received-packet tracking and ACK generation for one packet number space (RFC 9000 §13.2).
 *
 * Call order for each packet that decrypts successfully:
 *   1. `isDuplicate(pn)` — drop the packet when true (RFC 9000 §12.3: duplicates are discarded);
 *   2. process its frames;
 *   3. `onPacketReceived(pn, ackEliciting, now, ecn)` — only now may it be acknowledged
 *      (RFC 9000 §13.1: "A packet MUST NOT be acknowledged until ... all frames contained in the
 *      packet have been processed").
 * When sending: if `ackDeadline() <= now` (or a packet is being sent anyway and `hasNewPackets`),
 * call `buildAck(now, exponent)`, put the result in the packet, then `onAckSent(pn)`. When the
 * peer acknowledges a packet that carried an ACK, call `onSentPacketAcked(pn)` (or
 * `onAckOfAckReceived(largest)` when the caller remembers the largest itself) to prune.
 *
 * Ranges returned are inclusive `[smallest, largest]` pairs in descending order, the shape
 * `AckFrame.ranges` uses, so `{ kind: 'ACK', ...buildAck(...) }` is a frame.
 *
 * The peer may change the application space's rules with the ACK frequency extension
 * (draft-ietf-quic-ack-frequency-14): {@link setAckFrequency} applies an ACK_FREQUENCY frame's
 * Ack-Eliciting Threshold, max_ack_delay and Reordering Threshold (§4, §6, §6.2, §6.3), and
 * {@link requestImmediateAck} an IMMEDIATE_ACK frame (§5). Until then RFC 9000 §13.2 applies.
 *
 * Cost: `onPacketReceived` is O(log r) plus an array splice when a range is created or merged
 * (r = tracked ranges, bounded by `maxTrackedRanges`); no allocation on the in-order path.
 */
import { RangeSet } from '../../util/range-set.js';

/** Packet number spaces (RFC 9000 §12.3). 0-RTT and 1-RTT share `application`. */
export type PacketNumberSpace = 'initial' | 'handshake' | 'application';

/** ECN codepoints as carried in the IP header's two ECN bits (RFC 3168 §5). */
export const EcnCodepoint = { NOT_ECT: 0b00, ECT1: 0b01, ECT0: 0b10, CE: 0b11 } as const;
export type EcnCodepoint = (typeof EcnCodepoint)[keyof typeof EcnCodepoint];

/** An acknowledged range of packet numbers, both ends inclusive (same shape as `AckRange`). */
export type AckedRange = readonly [smallest: number, largest: number];

/** ECN counts of one packet number space (RFC 9000 §13.4.1). */
export interface EcnCountsSnapshot {
  /** Packets received with ECT(0). */
  readonly ect0: number;
  /** Packets received with ECT(1). */
  readonly ect1: number;
  /** Packets received with ECN-CE. */
  readonly ce: number;
}

/** The content of an ACK frame to send; spreads into an `AckFrame` (RFC 9000 §19.3). */
export interface AckToSend {
  /** Descending inclusive `[smallest, largest]` ranges; `ranges[0][1]` is Largest Acknowledged. */
  readonly ranges: AckedRange[];
  /** The encoded ACK Delay field: microseconds divided by 2^ack_delay_exponent, rounded down. */
  readonly ackDelay: number;
  /** ECN counts (frame type 0x03) once any ECN-marked packet was received, else null. */
  readonly ecn: EcnCountsSnapshot | null;
}

export interface ReceivedPacketsOptions {
  /** The packet number space this tracker serves. */
  space: PacketNumberSpace;
  /**
   * Our own max_ack_delay transport parameter in milliseconds (RFC 9000 §18.2; default 25).
   * Only used for the application space: Initial and Handshake are acknowledged immediately.
   */
  maxAckDelay?: number;
  /** Ack-eliciting packets that trigger an immediate ACK (RFC 9000 §13.2.2 suggests 2). */
  ackElicitingThreshold?: number;
  /** Most ranges kept for ACK frames; older ranges are dropped first (§13.2.3). Default 32. */
  maxAckRanges?: number;
  /**
   * Most ranges kept for duplicate detection. Beyond this the lowest ranges are forgotten and a
   * floor rises: packets below it are refused as duplicates (§13.2.3 "a minimum packet number
   * that increases as ranges are discarded"). Default 256.
   */
  maxTrackedRanges?: number;
}

/** Result of {@link ReceivedPackets.onPacketReceived}. */
export interface ReceiveResult {
  /** True when the packet was already processed or lies below the tracking floor. */
  readonly duplicate: boolean;
}

const DUPLICATE: ReceiveResult = Object.freeze({ duplicate: true });
const FRESH: ReceiveResult = Object.freeze({ duplicate: false });

/** What an ACK_FREQUENCY frame asks of the receiver (draft-ietf-quic-ack-frequency-14 §4). */
export interface AckFrequencyRequest {
  /** Ack-eliciting packets that may go unacknowledged; an ACK follows the next one (RFC 9000: 1). */
  readonly ackElicitingThreshold: number;
  /** The new max_ack_delay, in milliseconds (the frame carries microseconds). */
  readonly maxAckDelay: number;
  /** Reordering that triggers an immediate ACK (§6.2): 0 never, 1 RFC 9000 §13.2.1's rule. */
  readonly reorderingThreshold: number;
}

/** Sent ACK records kept for ack-of-ack pruning; older ones are simply forgotten. */
const MAX_ACK_RECORDS = 64;

export class ReceivedPackets {
  readonly space: PacketNumberSpace;
  /** max_ack_delay in ms: ours, or what the peer's latest ACK_FREQUENCY asked for. */
  #maxAckDelay: number;
  /** Ack-eliciting packets that make an ACK due (the draft's Ack-Eliciting Threshold + 1). */
  #threshold: number;
  /** draft-ietf-quic-ack-frequency-14 §4 Reordering Threshold; 1 is RFC 9000 §13.2.1's rule. */
  #reordering = 1;
  /** Largest Acknowledged of the last ACK sent (the draft's "Largest Acked", §6.2), or -1. */
  #largestAckedSent = -1;
  /** The previous packet carried ECN-CE (§6.3: only a change to CE hurries an ACK). */
  #previousCe = false;
  /** An IMMEDIATE_ACK frame is in the packet being processed (§5). */
  #immediateRequested = false;
  readonly #maxAckRanges: number;
  readonly #maxTrackedRanges: number;

  /** Every processed packet number at or above `#floor` (duplicate detection). */
  readonly #seen: RangeSet = new RangeSet();
  /** Packets below this are refused as duplicates (their state was discarded). */
  #floor = 0;
  /** Packet numbers still to be reported in ACK frames. */
  readonly #toAck: RangeSet = new RangeSet();

  #largest = -1;
  #largestTime = 0;
  #largestAckEliciting = -1;
  /** Ack-eliciting packets received since the last ACK was sent. */
  #unackedAckEliciting = 0;
  /** Any packet received since the last ACK was sent. */
  #newSinceAck = false;
  /** When an ACK must be sent; +Infinity when none is due. */
  #deadline = Number.POSITIVE_INFINITY;

  #ect0 = 0;
  #ect1 = 0;
  #ce = 0;
  #ecnSeen = false;

  /** Packet numbers of our packets that carried an ACK, ascending, with that ACK's largest. */
  readonly #ackPns: number[] = [];
  readonly #ackLargest: number[] = [];

  constructor(options: ReceivedPacketsOptions) {
    this.space = options.space;
    this.#maxAckDelay = options.maxAckDelay ?? 25;
    this.#threshold = Math.max(1, options.ackElicitingThreshold ?? 2);
    this.#maxAckRanges = Math.max(1, options.maxAckRanges ?? 32);
    this.#maxTrackedRanges = Math.max(this.#maxAckRanges, options.maxTrackedRanges ?? 256);
  }

  /** Largest packet number processed, or -1 (kept for packet number decoding, §17.1). */
  get largestReceived(): number {
    return this.#largest;
  }

  /** Packets below this number are refused as duplicates. */
  get floor(): number {
    return this.#floor;
  }

  /** True when packets arrived since the last ACK was sent (an ACK may be piggybacked). */
  get hasNewPackets(): boolean {
    return this.#newSinceAck;
  }

  /** True when an ack-eliciting packet awaits acknowledgment. */
  get ackElicitingPending(): boolean {
    return this.#unackedAckEliciting > 0;
  }

  /** Cumulative ECN counts of this space. */
  get ecnCounts(): EcnCountsSnapshot {
    return { ect0: this.#ect0, ect1: this.#ect1, ce: this.#ce };
  }

  /** True when `pn` was already processed, or lies below the floor. */
  isDuplicate(pn: number): boolean {
    return pn < this.#floor || this.#seen.has(pn);
  }

  /**
   * Records a processed packet. Duplicates change nothing (not even ECN counts, §13.4.1).
   * `ecn` is the codepoint of the IP packet that carried it.
   */
  onPacketReceived(
    pn: number,
    ackEliciting: boolean,
    now: number,
    ecn: EcnCodepoint = EcnCodepoint.NOT_ECT,
  ): ReceiveResult {
    if (this.isDuplicate(pn)) return DUPLICATE;
    const seen = this.#seen;
    const ce = ecn === EcnCodepoint.CE;
    // RFC 9000 §13.2.1: CE-marked packets are acknowledged at once. draft-ietf-quic-ack-frequency-14
    // §6.3: with an Ack-Eliciting Threshold above 1, only the first CE after a non-CE packet.
    const ceImmediate = ce && (this.#threshold <= 2 || !this.#previousCe);
    this.#previousCe = ce;
    let immediate = this.space !== 'application' || ceImmediate;
    if (this.#immediateRequested) {
      // draft-ietf-quic-ack-frequency-14 §5: "SHOULD send a packet containing an ACK frame
      // immediately upon receiving an IMMEDIATE_ACK frame".
      this.#immediateRequested = false;
      immediate = true;
    }
    // Judge reordering before recording this packet (RFC 9000 §13.2.1; the draft's Reordering
    // Threshold of 1, its default). 0 turns it off; above 1 is judged below, §6.2.
    if (ackEliciting && this.#reordering === 1 && this.#largestAckEliciting >= 0) {
      const top = this.#largestAckEliciting;
      if (pn < top) immediate = true;
      else if (pn > top + 1 && !seen.covers(Math.max(top + 1, this.#floor), pn)) immediate = true;
    }

    seen.add(pn);
    if (seen.size > this.#maxTrackedRanges) {
      seen.keepHighest(this.#maxTrackedRanges);
      this.#floor = seen.min ?? this.#floor;
    }
    const toAck = this.#toAck;
    toAck.add(pn);
    // §13.2.3: "A receiver can discard unacknowledged ACK Ranges to limit ACK frame size".
    if (toAck.size > this.#maxAckRanges) toAck.keepHighest(this.#maxAckRanges);
    if (pn > this.#largest) {
      this.#largest = pn;
      this.#largestTime = now;
    }
    if (ecn !== EcnCodepoint.NOT_ECT) {
      this.#ecnSeen = true;
      if (ecn === EcnCodepoint.ECT0) this.#ect0++;
      else if (ecn === EcnCodepoint.ECT1) this.#ect1++;
      else this.#ce++;
    }
    this.#newSinceAck = true;

    if (!ackEliciting) {
      // §13.2.1: never answer a non-ack-eliciting packet with an ACK of its own; a CE mark only
      // hurries an ACK that ack-eliciting packets already made due.
      if (ceImmediate && this.#unackedAckEliciting > 0 && now < this.#deadline) {
        this.#deadline = now;
      }
      return FRESH;
    }
    if (pn > this.#largestAckEliciting) this.#largestAckEliciting = pn;
    this.#unackedAckEliciting++;
    if (this.#reordering > 1 && this.#beyondReorderingThreshold(pn, this.#reordering)) {
      immediate = true;
    }
    // §13.2.2: "A receiver SHOULD send an ACK frame after receiving at least two ack-eliciting
    // packets."
    if (this.#unackedAckEliciting >= this.#threshold) immediate = true;
    if (immediate) {
      if (now < this.#deadline) this.#deadline = now;
    } else if (this.#deadline === Number.POSITIVE_INFINITY) {
      // §13.2.1: ack-eliciting 1-RTT packets MUST be acknowledged within max_ack_delay.
      this.#deadline = now + this.#maxAckDelay;
    }
    return FRESH;
  }

  /**
   * draft-ietf-quic-ack-frequency-14 §6.2, with a Reordering Threshold `rt` above 1, once `pn`
   * (ack-eliciting) is recorded: an immediate ACK when the packet is at or below Largest Acked -
   * rt (the peer may already have declared it lost), or when the smallest Unreported Missing
   * packet (not received, above Largest Acked - rt) lies rt or more below Largest Unacked (the
   * largest ack-eliciting packet received).
   */
  #beyondReorderingThreshold(pn: number, rt: number): boolean {
    const largestAcked = this.#largestAckedSent;
    if (largestAcked >= 0 && pn <= largestAcked - rt) return true;
    const from = Math.max(largestAcked >= 0 ? largestAcked - rt + 1 : 0, this.#floor);
    const missing = this.#seen.contiguousEnd(from);
    const largestUnacked = this.#largestAckEliciting;
    return missing < largestUnacked && largestUnacked - missing >= rt;
  }

  /**
   * Applies an ACK_FREQUENCY frame's request (draft-ietf-quic-ack-frequency-14 §4, §6); the
   * caller checked its sequence number and values. An ACK already owed is re-timed: due now if
   * the new threshold is already passed, no later than the new max_ack_delay from now otherwise.
   */
  setAckFrequency(request: AckFrequencyRequest, now: number): void {
    const t = request.ackElicitingThreshold;
    this.#threshold = t >= Number.MAX_SAFE_INTEGER - 1 ? Number.MAX_SAFE_INTEGER : t + 1;
    this.#maxAckDelay = request.maxAckDelay;
    this.#reordering = request.reorderingThreshold;
    if (this.#unackedAckEliciting === 0) return;
    const due = this.#unackedAckEliciting >= this.#threshold ? now : now + this.#maxAckDelay;
    if (due < this.#deadline) this.#deadline = due;
  }

  /**
   * The packet being processed carries an IMMEDIATE_ACK frame (draft-ietf-quic-ack-frequency-14
   * §5): recording it makes an ACK due at once.
   */
  requestImmediateAck(): void {
    this.#immediateRequested = true;
  }

  /** The max_ack_delay (ms) in force: ours, or the one the peer asked for. */
  get maxAckDelay(): number {
    return this.#maxAckDelay;
  }

  /** When an ACK frame must be sent, or undefined when none is due. */
  ackDeadline(): number | undefined {
    return this.#deadline === Number.POSITIVE_INFINITY ? undefined : this.#deadline;
  }

  /** True when an ACK is due at `now`. */
  shouldSendAck(now: number): boolean {
    return this.#deadline <= now;
  }

  /**
   * The ACK frame content for everything still tracked, or null when nothing is. At most
   * `maxRanges` ranges, the highest ones (§13.2.3: older ranges are omitted first).
   * `ackDelayExponent` is our ack_delay_exponent transport parameter (0..20).
   */
  buildAck(now: number, ackDelayExponent = 3, maxRanges = this.#maxAckRanges): AckToSend | null {
    const toAck = this.#toAck;
    if (toAck.empty) return null;
    const limit = Math.max(1, maxRanges);
    const ranges: AckedRange[] = [];
    // Highest first, indexed (no generator and pair per range: one ACK per packet sent).
    for (let i = toAck.count - 1; i >= 0 && ranges.length < limit; i--) {
      ranges.push([toAck.startAt(i), toAck.endAt(i) - 1]);
    }
    // §13.2.5: the delay is measured from receipt of the largest acknowledged packet; the largest
    // received is always kept in the ranges (§13.2.3), so that is `#largestTime`.
    const delayUs = Math.max(0, (now - this.#largestTime) * 1000);
    let ackDelay = Math.floor(delayUs / 2 ** ackDelayExponent);
    if (!(ackDelay <= Number.MAX_SAFE_INTEGER)) ackDelay = Number.MAX_SAFE_INTEGER;
    const ecn = this.#ecnSeen ? this.ecnCounts : null;
    return { ranges, ackDelay, ecn };
  }

  /**
   * Records that our packet `pn` carried an ACK built from the current state: the ACK timer and
   * counters reset, and `pn` is remembered for {@link onSentPacketAcked}.
   */
  onAckSent(pn: number): void {
    this.#unackedAckEliciting = 0;
    this.#newSinceAck = false;
    this.#deadline = Number.POSITIVE_INFINITY;
    const largest = this.#toAck.max;
    if (largest === undefined) return;
    if (largest > this.#largestAckedSent) this.#largestAckedSent = largest;
    const pns = this.#ackPns;
    if (pns.length > 0 && pns[pns.length - 1] >= pn) return; // Not increasing: ignore.
    pns.push(pn);
    this.#ackLargest.push(largest);
    if (pns.length > MAX_ACK_RECORDS) {
      pns.shift();
      this.#ackLargest.shift();
    }
  }

  /**
   * The peer acknowledged our packet `pn`. When it carried an ACK, the ranges that ACK reported
   * are pruned (§13.2.4). Returns true when `pn` was such a packet. O(log k).
   */
  onSentPacketAcked(pn: number): boolean {
    const pns = this.#ackPns;
    let lo = 0;
    let hi = pns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pns[mid] < pn) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= pns.length || pns[lo] !== pn) return false;
    const largest = this.#ackLargest[lo];
    // Earlier records reported no more than this one: drop them too.
    pns.splice(0, lo + 1);
    this.#ackLargest.splice(0, lo + 1);
    this.onAckOfAckReceived(largest);
    return true;
  }

  /**
   * The peer has seen an ACK of ours whose Largest Acknowledged was `largestAcknowledged`: stop
   * reporting packets at or below it (§13.2.4), except the largest received packet, which every
   * ACK keeps reporting (§13.2.3 "SHOULD include an ACK Range containing the largest received
   * packet number in every ACK frame"). Duplicate detection is unaffected.
   */
  onAckOfAckReceived(largestAcknowledged: number): void {
    this.#toAck.removeBelow(Math.min(largestAcknowledged + 1, this.#largest));
  }

  /** The ranges currently tracked for ACKs, descending inclusive (for tests and qlog). */
  trackedRanges(): AckedRange[] {
    const out: AckedRange[] = [];
    for (const [start, end] of this.#toAck.descending()) out.push([start, end - 1]);
    return out;
  }
}
