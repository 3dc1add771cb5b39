/**
 * The record of sent packets of one packet number space (RFC 9002 Appendix A.1), generic over
 * what the connection attaches to each packet (frames to retransmit, stream ranges, ...).
 *
 * Packets are kept in a sorted array (packet numbers only grow) with a moving head: the common
 * case, acknowledgments in order, only advances the head (O(log n) per ACK range plus the packets
 * removed); an acknowledgment in the middle costs one splice. The head region is compacted once it
 * is more than half the array.
 */

/** One sent packet as loss detection tracks it (RFC 9002 Appendix A.1.1). */
export interface SentPacket<T> {
  /** The packet number. */
  readonly pn: number;
  /** When the packet was sent (ms, caller's clock). */
  readonly timeSent: number;
  /** Bytes sent: QUIC header, payload and AEAD tag, without UDP/IP overhead. */
  readonly size: number;
  /** True when the packet contains a frame other than ACK, PADDING or CONNECTION_CLOSE. */
  readonly ackEliciting: boolean;
  /** True when the packet counts toward bytes in flight (ack-eliciting or PADDING). */
  readonly inFlight: boolean;
  /**
   * A PMTU probe (RFC 9000 §14.4): it uses the congestion window like any packet, but its loss
   * is no sign of congestion (a packet above the path MTU is dropped whatever the load).
   */
  readonly mtuProbe?: boolean;
  /** What the connection attached: the frames to act on when acknowledged or lost. */
  readonly info: T;
}

/** Skipped packet-number ranges remembered for optimistic-ACK detection (RFC 9000 §21.4). */
const MAX_SKIPPED_RANGES = 64;

export class SentPackets<T> {
  /** Live packets (not acknowledged, lost or discarded) from `#head`, ascending packet number. */
  #pkts: SentPacket<T>[] = [];
  /**
   * Parallel to `#pkts`: true when an acknowledged packet was sent between the previous live packet
   * and this one. Persistent congestion needs "none of the packets sent between ... acknowledged"
   * (RFC 9002 §7.6.2).
   */
  #ackedBefore: boolean[] = [];
  /** The `#ackedBefore` value of the next packet added (a packet after the last live one left). */
  #ackedAfterLast = false;
  #head = 0;
  #largestSent = -1;
  /** Flattened `[start, end)` pairs of packet numbers never sent, ascending. */
  #skipped: number[] = [];
  #bytesInFlight = 0;
  #ackElicitingInFlight = 0;
  #timeOfLastAckEliciting: number | undefined;

  /** Number of live packets. */
  get size(): number {
    return this.#pkts.length - this.#head;
  }

  /** Sum of the sizes of live in-flight packets. */
  get bytesInFlight(): number {
    return this.#bytesInFlight;
  }

  /** Number of live packets that are both ack-eliciting and in flight. */
  get ackElicitingInFlight(): number {
    return this.#ackElicitingInFlight;
  }

  /** Largest packet number ever sent in this space, -1 before the first. */
  get largestSent(): number {
    return this.#largestSent;
  }

  /** time_of_last_ack_eliciting_packet (RFC 9002 Appendix A.2), undefined when none or cleared. */
  get timeOfLastAckEliciting(): number | undefined {
    return this.#timeOfLastAckEliciting;
  }

  /** Oldest live packet. */
  oldest(): SentPacket<T> | undefined {
    return this.#head < this.#pkts.length ? this.#pkts[this.#head] : undefined;
  }

  /** Live packets, ascending packet number (a copy, for inspection and tests). */
  toArray(): SentPacket<T>[] {
    return this.#pkts.slice(this.#head);
  }

  /**
   * Records a sent packet. Packet numbers must increase; a jump leaves the numbers in between
   * recorded as never sent, so an acknowledgment of them is detectable.
   */
  add(packet: SentPacket<T>): void {
    const pn = packet.pn;
    if (!(Number.isSafeInteger(pn) && pn > this.#largestSent)) {
      throw new RangeError(`packet number ${pn} not above ${this.#largestSent}`);
    }
    if (pn > this.#largestSent + 1) {
      const skipped = this.#skipped;
      skipped.push(this.#largestSent + 1, pn);
      if (skipped.length > 2 * MAX_SKIPPED_RANGES) skipped.splice(0, 2);
    }
    this.#largestSent = pn;
    this.#pkts.push(packet);
    this.#ackedBefore.push(this.#ackedAfterLast);
    this.#ackedAfterLast = false;
    if (packet.inFlight) {
      this.#bytesInFlight += packet.size;
      if (packet.ackEliciting) {
        this.#ackElicitingInFlight++;
        this.#timeOfLastAckEliciting = packet.timeSent;
      }
    }
  }

  /**
   * False when `[start, end)` contains a packet number never sent: above the largest sent, or a
   * (recently) skipped one.
   */
  wasSent(start: number, end: number): boolean {
    if (end - 1 > this.#largestSent) return false;
    const skipped = this.#skipped;
    for (let i = 0; i < skipped.length; i += 2) {
      if (skipped[i] < end && skipped[i + 1] > start) return false;
    }
    return true;
  }

  /** Removes the live packets in `[start, end)`, appending them to `out` in ascending order. */
  removeRange(start: number, end: number, out: SentPacket<T>[]): void {
    const pkts = this.#pkts;
    const i = this.#lowerBound(start);
    let j = i;
    while (j < pkts.length && pkts[j].pn < end) {
      this.#forget(pkts[j]);
      out.push(pkts[j]);
      j++;
    }
    if (j === i) return;
    if (j < pkts.length) this.#ackedBefore[j] = true;
    else this.#ackedAfterLast = true;
    if (i === this.#head) {
      this.#head = j;
      this.#maybeCompact();
    } else {
      pkts.splice(i, j - i);
      this.#ackedBefore.splice(i, j - i);
    }
  }

  /**
   * Removes the packets at or below `largestAcked` that are lost (RFC 9002 §6.1): sent at least
   * `lossDelay` before `now`, or at least `packetThreshold` below `largestAcked`. Lost packets are
   * appended to `lost`; for each, `breaks` receives true when an acknowledged or a still-outstanding
   * packet lies between it and the previous lost packet of this call (a persistent-congestion run
   * ends).
   * Returns the earliest send time among the packets at or below `largestAcked` that are not lost
   * yet (Infinity when none): their loss time is that plus `lossDelay`, the very sum compared here,
   * so a timer set to it always finds its packet lost.
   *
   * Cost: linear in the live packets at or below `largestAcked` (those awaiting a verdict).
   */
  removeLost(
    largestAcked: number,
    now: number,
    lossDelay: number,
    packetThreshold: number,
    lost: SentPacket<T>[],
    breaks: boolean[],
  ): number {
    const pkts = this.#pkts;
    const ackedBefore = this.#ackedBefore;
    let earliest = Number.POSITIVE_INFINITY;
    let gap = false;
    let carried = false;
    let w = this.#head;
    let i = this.#head;
    for (; i < pkts.length; i++) {
      const p = pkts[i];
      if (p.pn > largestAcked) break;
      const ackedGap = ackedBefore[i];
      if (p.timeSent + lossDelay <= now || largestAcked >= p.pn + packetThreshold) {
        this.#forget(p);
        lost.push(p);
        breaks.push(gap || ackedGap);
        gap = false;
        carried = carried || ackedGap;
      } else {
        if (p.timeSent < earliest) earliest = p.timeSent;
        gap = true;
        pkts[w] = p;
        ackedBefore[w] = ackedGap || carried;
        carried = false;
        w++;
      }
    }
    if (w < i) {
      if (carried) {
        if (i < pkts.length) ackedBefore[i] = true;
        else this.#ackedAfterLast = true;
      }
      if (w === this.#head) {
        this.#head = i;
        this.#maybeCompact();
      } else {
        pkts.splice(w, i - w);
        ackedBefore.splice(w, i - w);
      }
    }
    return earliest;
  }

  /** Removes every live packet below `pn` (e.g. rejected 0-RTT), appending them to `out`. */
  removeBelow(pn: number, out: SentPacket<T>[]): void {
    this.removeRange(0, pn, out);
    if (this.#ackElicitingInFlight === 0) this.#timeOfLastAckEliciting = undefined;
  }

  /** Removes every live packet (keys discarded, RFC 9002 §6.4), appending them to `out`. */
  clear(out?: SentPacket<T>[]): void {
    if (out !== undefined) {
      for (let i = this.#head; i < this.#pkts.length; i++) out.push(this.#pkts[i]);
    }
    this.#pkts = [];
    this.#ackedBefore = [];
    this.#head = 0;
    this.#ackedAfterLast = true;
    this.#bytesInFlight = 0;
    this.#ackElicitingInFlight = 0;
    this.#timeOfLastAckEliciting = undefined;
  }

  #forget(p: SentPacket<T>): void {
    if (p.inFlight) {
      this.#bytesInFlight -= p.size;
      if (p.ackEliciting) this.#ackElicitingInFlight--;
    }
  }

  /** First index at or after the head whose packet number is >= `pn`. */
  #lowerBound(pn: number): number {
    const pkts = this.#pkts;
    let lo = this.#head;
    let hi = pkts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pkts[mid].pn < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #maybeCompact(): void {
    const head = this.#head;
    if (head === this.#pkts.length) {
      // Everything acknowledged (common: once per ACK in a request-response flow). New lists
      // rather than `length = 0`, which calls into the runtime.
      this.#pkts = [];
      this.#ackedBefore = [];
      this.#head = 0;
    } else if (head >= 32 && head * 2 >= this.#pkts.length) {
      this.#pkts.splice(0, head);
      this.#ackedBefore.splice(0, head);
      this.#head = 0;
    }
  }
}
