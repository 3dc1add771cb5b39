/**
 * QUIC loss detection (RFC 9002 §6 and Appendix A): acknowledgment processing, packet- and
 * time-threshold loss, the probe timeout with its backoff, discarding packet number spaces, and
 * persistent congestion (§7.6). It owns bytes in flight and drives a {@link CongestionController}.
 *
 * Sans-IO: every input carries `now` (ms). The single loss detection timer is exposed as
 * {@link LossDetection.lossDetectionDeadline}; when it passes, the connection calls
 * {@link LossDetection.onLossDetectionTimeout} and acts on the answer (retransmit the lost
 * packets' frames, or send probes).
 */
import { checkAckRanges } from './ack-ranges.js';
import type { CongestionController } from './congestion/controller.js';
import { NewReno } from './congestion/new-reno.js';
import { inPersistentCongestion } from './persistent-congestion.js';
import { RttEstimator } from './rtt.js';
import { type SentPacket, SentPackets } from './sent-packets.js';
import { PacketSpace } from './space.js';

/** kPacketThreshold (RFC 9002 §6.1.1: RECOMMENDED 3). */
export const PACKET_THRESHOLD = 3;
/** kTimeThreshold (RFC 9002 §6.1.2: RECOMMENDED 9/8). */
export const TIME_THRESHOLD = 9 / 8;
/** kPersistentCongestionThreshold (RFC 9002 §7.6.1: RECOMMENDED 3). */
export const PERSISTENT_CONGESTION_THRESHOLD = 3;

const NONE = Number.POSITIVE_INFINITY;

export interface LossDetectionOptions {
  /** True at a server: a server's own address validation needs no probes (Appendix A.6). */
  isServer: boolean;
  /** The congestion controller to drive (default: NewReno with 1200-byte datagrams). */
  congestion?: CongestionController;
  /** The path's RTT estimator (default: a new one with the 333 ms initial RTT). */
  rtt?: RttEstimator;
  /** Packet reordering threshold (default 3; RFC 9002 §6.1.1 SHOULD NOT be below 3). */
  packetThreshold?: number;
  /** Time reordering threshold as an RTT multiplier (default 9/8). */
  timeThreshold?: number;
  /** Persistent congestion threshold as a PTO multiplier (default 3). */
  persistentCongestionThreshold?: number;
  /** Probe datagrams to send on a PTO (RFC 9002 §6.2.4: at least one, MAY send two; default 2). */
  probesPerPto?: 1 | 2;
}

/** What one ACK frame changed. */
export interface AckOutcome<T> {
  /** Packets newly acknowledged, ascending packet number. */
  acked: SentPacket<T>[];
  /** Packets newly declared lost (RFC 9002 §6.1), ascending packet number. */
  lost: SentPacket<T>[];
  /** latest_rtt when this ACK produced an RTT sample (RFC 9002 §5.1), else undefined. */
  rttSample: number | undefined;
  /** True when the losses established persistent congestion (RFC 9002 §7.6.2). */
  persistentCongestion: boolean;
  /** True when the peer's ECN-CE count increased (RFC 9002 §7.1). */
  ecnCongestion: boolean;
}

/** What the loss detection timer asks the connection to do. */
export type TimeoutOutcome<T> =
  /** Time-threshold loss: retransmit what these packets carried. */
  | { kind: 'loss'; space: PacketSpace; lost: SentPacket<T>[]; persistentCongestion: boolean }
  /**
   * Probe timeout: send `probeCount` ack-eliciting datagrams with a packet in `ptoSpace`, not
   * blocked by the congestion window (RFC 9002 §7.5). For a client's anti-deadlock probe
   * (`antiDeadlock`), a Handshake packet when it has Handshake keys, otherwise an Initial packet
   * in a datagram of at least 1200 bytes (RFC 9002 §6.2.2.1).
   */
  | { kind: 'pto'; ptoSpace: PacketSpace; probeCount: 1 | 2; antiDeadlock: boolean };

export class LossDetection<T> {
  readonly #isServer: boolean;
  readonly #cc: CongestionController;
  readonly #rtt: RttEstimator;
  readonly #packetThreshold: number;
  readonly #timeThreshold: number;
  readonly #pcThreshold: number;
  readonly #probesPerPto: 1 | 2;

  readonly #sent: [SentPackets<T>, SentPackets<T>, SentPackets<T>] = [
    new SentPackets<T>(),
    new SentPackets<T>(),
    new SentPackets<T>(),
  ];
  /** largest_acked_packet per space; -1 before the first ACK. */
  readonly #largestAcked = [-1, -1, -1];
  /** loss_time per space; Infinity when unset. */
  readonly #lossTime = [NONE, NONE, NONE];
  /** Highest ECN-CE count the peer reported per space. */
  readonly #ecnCe = [0, 0, 0];
  readonly #discarded = [false, false, false];
  #ptoCount = 0;
  #deadline: number | undefined;
  /** Output of #ptoTime: the space whose PTO is earliest. */
  #ptoSpace: PacketSpace = PacketSpace.Initial;

  #handshakeConfirmed = false;
  #hasHandshakeKeys = false;
  #handshakeAckReceived = false;
  #amplificationBlocked = false;

  constructor(options: LossDetectionOptions) {
    this.#isServer = options.isServer;
    this.#cc = options.congestion ?? new NewReno();
    this.#rtt = options.rtt ?? new RttEstimator();
    this.#packetThreshold = options.packetThreshold ?? PACKET_THRESHOLD;
    this.#timeThreshold = options.timeThreshold ?? TIME_THRESHOLD;
    this.#pcThreshold = options.persistentCongestionThreshold ?? PERSISTENT_CONGESTION_THRESHOLD;
    this.#probesPerPto = options.probesPerPto ?? 2;
    if (!(this.#packetThreshold >= 1)) throw new RangeError('packet threshold below 1');
    if (!(this.#timeThreshold >= 1)) throw new RangeError('time threshold below 1');
  }

  get rtt(): RttEstimator {
    return this.#rtt;
  }

  get congestion(): CongestionController {
    return this.#cc;
  }

  /** bytes_in_flight across all spaces. */
  get bytesInFlight(): number {
    const s = this.#sent;
    return s[0].bytesInFlight + s[1].bytesInFlight + s[2].bytesInFlight;
  }

  /** pto_count: consecutive PTOs without an acknowledgment resetting it. */
  get ptoCount(): number {
    return this.#ptoCount;
  }

  get handshakeConfirmed(): boolean {
    return this.#handshakeConfirmed;
  }

  /**
   * PeerCompletedAddressValidation (RFC 9002 Appendix A.6): always at a server; at a client once a
   * Handshake ACK arrived or the handshake is confirmed.
   */
  get peerCompletedAddressValidation(): boolean {
    return this.#isServer || this.#handshakeAckReceived || this.#handshakeConfirmed;
  }

  /** The loss detection timer: when to call {@link onLossDetectionTimeout}, or undefined. */
  lossDetectionDeadline(): number | undefined {
    return this.#deadline;
  }

  /** True when a packet of `bytes` fits in the congestion window now. */
  canSend(bytes: number): boolean {
    return this.#cc.canSend(this.bytesInFlight, bytes);
  }

  /** largest_acked_packet of a space, or -1 before any ACK. */
  largestAcked(space: PacketSpace): number {
    return this.#largestAcked[space];
  }

  /** Outstanding packets of a space (a copy, ascending packet number). */
  outstanding(space: PacketSpace): SentPacket<T>[] {
    return this.#sent[space].toArray();
  }

  /** Oldest outstanding packet of a space (what a probe may retransmit). */
  oldestOutstanding(space: PacketSpace): SentPacket<T> | undefined {
    return this.#sent[space].oldest();
  }

  /** True when an ack-eliciting packet of `space` is in flight. */
  hasAckElicitingInFlight(space?: PacketSpace): boolean {
    const s = this.#sent;
    if (space !== undefined) return s[space].ackElicitingInFlight > 0;
    return s[0].ackElicitingInFlight + s[1].ackElicitingInFlight + s[2].ackElicitingInFlight > 0;
  }

  /**
   * OnPacketSent (RFC 9002 Appendix A.5). Every packet is recorded, ACK-only ones included (their
   * loss is detectable, though they do not count in flight). A packet number above the next one
   * leaves the numbers skipped: an ACK for them is an optimistic ACK (RFC 9000 §21.4).
   */
  onPacketSent(space: PacketSpace, packet: SentPacket<T>): void {
    if (this.#discarded[space]) throw new RangeError(`packet space ${space} was discarded`);
    this.#sent[space].add(packet);
    if (packet.inFlight) {
      this.#cc.onPacketSent(packet.size, packet.timeSent, this.bytesInFlight);
      this.#setTimer(packet.timeSent);
    }
  }

  /**
   * OnAckReceived (RFC 9002 Appendix A.7). `ranges` are the ACK frame's ranges as
   * `[start, endExclusive)`, highest first; `ackDelay` is the decoded ACK Delay in ms; `ecnCe` the
   * ECN-CE count when the frame carried ECN counts (ECN validation is the connection's).
   * @throws TransportError PROTOCOL_VIOLATION when a range covers a packet never sent (RFC 9000
   * §13.1), FRAME_ENCODING_ERROR when the ranges are not descending and disjoint.
   */
  onAckReceived(
    space: PacketSpace,
    ranges: ReadonlyArray<readonly [number, number]>,
    ackDelay: number,
    now: number,
    ecnCe?: number,
  ): AckOutcome<T> {
    const sent = this.#sent[space];
    checkAckRanges(sent, ranges);
    const outcome: AckOutcome<T> = {
      acked: [],
      lost: [],
      rttSample: undefined,
      persistentCongestion: false,
      ecnCongestion: false,
    };
    // RFC 9002 §6.4: acknowledgments for discarded keys cannot be processed.
    if (this.#discarded[space]) return outcome;
    const largest = ranges[0][1] - 1;
    if (largest > this.#largestAcked[space]) this.#largestAcked[space] = largest;
    if (space === PacketSpace.Handshake) this.#handshakeAckReceived = true;

    const priorBytesInFlight = this.bytesInFlight;
    const acked = outcome.acked;
    // Lowest range first, so `acked` comes out in ascending packet number order.
    for (let i = ranges.length - 1; i >= 0; i--) {
      sent.removeRange(ranges[i][0], ranges[i][1], acked);
    }
    if (acked.length === 0) return outcome;

    // RFC 9002 §5.1: a sample only when the largest acknowledged is newly acknowledged and at
    // least one newly acknowledged packet is ack-eliciting.
    const newest = acked[acked.length - 1];
    if (newest.pn === largest && includesAckEliciting(acked)) {
      const latest = now - newest.timeSent;
      // RFC 9002 §5.3: the delay MAY be ignored for Initial packets (never delayed by the peer).
      const delay = space === PacketSpace.Initial ? 0 : ackDelay;
      this.#rtt.update(latest, delay, this.#handshakeConfirmed, now);
      outcome.rttSample = this.#rtt.latest;
    }

    // RFC 9002 Appendix B.7: an increased ECN-CE count is a congestion event.
    if (ecnCe !== undefined && ecnCe > this.#ecnCe[space]) {
      this.#ecnCe[space] = ecnCe;
      this.#cc.onCongestionEvent(newest.timeSent, now);
      outcome.ecnCongestion = true;
    }

    outcome.persistentCongestion = this.#detectAndRemoveLost(space, now, outcome.lost);
    // Appendix A.7 order: losses first, so packets sent before a new recovery period do not grow
    // the window. The ACK that establishes persistent congestion does not grow the window it has
    // just collapsed either (Appendix B.8 clears the recovery start, which would let it).
    if (!outcome.persistentCongestion) {
      this.#cc.onPacketsAcked(acked, now, this.#rtt, priorBytesInFlight);
    }

    // RFC 9002 §6.2.1: a client not yet sure that the server validated its address keeps the
    // backoff.
    if (this.peerCompletedAddressValidation) this.#ptoCount = 0;
    this.#setTimer(now);
    return outcome;
  }

  /**
   * OnLossDetectionTimeout (RFC 9002 Appendix A.9). Returns undefined when no timer is armed or it
   * is not due yet.
   */
  onLossDetectionTimeout(now: number): TimeoutOutcome<T> | undefined {
    const deadline = this.#deadline;
    if (deadline === undefined || now < deadline) return undefined;

    const lossSpace = this.#earliestLossSpace();
    if (lossSpace !== undefined) {
      const lost: SentPacket<T>[] = [];
      const persistentCongestion = this.#detectAndRemoveLost(lossSpace, now, lost);
      this.#setTimer(now);
      return { kind: 'loss', space: lossSpace, lost, persistentCongestion };
    }

    let ptoSpace: PacketSpace;
    let probeCount: 1 | 2;
    let antiDeadlock = false;
    if (!this.hasAckElicitingInFlight()) {
      // RFC 9002 §6.2.2.1: the client probes so the server is not stuck at its amplification
      // limit: a Handshake packet proves address ownership, a padded Initial earns credit.
      ptoSpace = this.#hasHandshakeKeys ? PacketSpace.Handshake : PacketSpace.Initial;
      probeCount = 1;
      antiDeadlock = true;
    } else {
      this.#ptoTime(now);
      ptoSpace = this.#ptoSpace;
      probeCount = this.#probesPerPto;
    }
    // RFC 9002 §6.2.1: "When a PTO timer expires, the PTO backoff MUST be increased".
    this.#ptoCount++;
    this.#setTimer(now);
    return { kind: 'pto', ptoSpace, probeCount, antiDeadlock };
  }

  /**
   * The handshake is confirmed (RFC 9001 §4.1.2): ACK delays are capped at max_ack_delay from now
   * on and the Application Data space may arm the PTO.
   */
  setHandshakeConfirmed(now: number): void {
    this.#handshakeConfirmed = true;
    this.#setTimer(now);
  }

  /** A client obtained Handshake keys: its anti-deadlock probes become Handshake packets. */
  setHasHandshakeKeys(): void {
    this.#hasHandshakeKeys = true;
  }

  /**
   * A server reached (true) or left (false) its anti-amplification limit (RFC 9000 §8.1). While
   * blocked, the server's timer is not armed (RFC 9002 §6.2.2.1). When a datagram unblocks it, call
   * this with false: if the deadline is then already past, call {@link onLossDetectionTimeout} at
   * once (Appendix A.6).
   */
  setAmplificationBlocked(blocked: boolean, now: number): void {
    if (blocked === this.#amplificationBlocked) return;
    this.#amplificationBlocked = blocked;
    this.#setTimer(now);
  }

  /**
   * OnPacketNumberSpaceDiscarded (RFC 9002 Appendix A.10): Initial or Handshake keys were
   * discarded. Its packets leave bytes in flight ("MUST remove them from the count of bytes in
   * flight", §6.4), the PTO backoff restarts and the timer is re-armed. Returns the packets dropped.
   */
  discardSpace(space: PacketSpace, now: number): SentPacket<T>[] {
    if (space === PacketSpace.ApplicationData) {
      throw new RangeError('the Application Data space is never discarded');
    }
    const dropped: SentPacket<T>[] = [];
    if (this.#discarded[space]) return dropped;
    this.#discarded[space] = true;
    this.#sent[space].clear(dropped);
    this.#lossTime[space] = NONE;
    this.#ptoCount = 0;
    this.#setTimer(now);
    return dropped;
  }

  /**
   * Drops the outstanding packets of `space` below `pn` without declaring them lost: rejected 0-RTT
   * packets (RFC 9002 §6.4). Returns them, so their data can be sent again in 1-RTT packets.
   */
  discardPacketsBelow(space: PacketSpace, pn: number, now: number): SentPacket<T>[] {
    const dropped: SentPacket<T>[] = [];
    this.#sent[space].removeBelow(pn, dropped);
    this.#setTimer(now);
    return dropped;
  }

  /**
   * DetectAndRemoveLostPackets + OnPacketsLost (RFC 9002 Appendices A.10, B.8) for one space;
   * lost packets are appended to `lost`. Returns true when persistent congestion was established.
   */
  #detectAndRemoveLost(space: PacketSpace, now: number, lost: SentPacket<T>[]): boolean {
    const largest = this.#largestAcked[space];
    if (largest < 0) return false;
    const rtt = this.#rtt;
    const lossDelay = rtt.lossDelay(this.#timeThreshold);
    const breaks: boolean[] = [];
    const first = lost.length;
    const earliest = this.#sent[space].removeLost(
      largest,
      now,
      lossDelay,
      this.#packetThreshold,
      lost,
      breaks,
    );
    this.#lossTime[space] = earliest === NONE ? NONE : earliest + lossDelay;
    if (lost.length === first) return false;

    let latestLost = Number.NEGATIVE_INFINITY;
    for (let i = first; i < lost.length; i++) {
      const p = lost[i];
      // RFC 9000 §14.4: the loss of a PMTU probe "SHOULD NOT trigger a congestion control
      // reaction" (RFC 8899 §3 item 7).
      if (p.inFlight && !p.mtuProbe && p.timeSent > latestLost) latestLost = p.timeSent;
    }
    if (latestLost !== Number.NEGATIVE_INFINITY) this.#cc.onCongestionEvent(latestLost, now);

    const firstSample = rtt.firstSampleTime;
    if (firstSample === undefined) return false;
    const duration = rtt.persistentCongestionDuration(this.#pcThreshold);
    if (!inPersistentCongestion(lost, first, breaks, firstSample, duration)) return false;
    this.#cc.onPersistentCongestion(now);
    this.#rtt.resetMinToLatest();
    return true;
  }

  #earliestLossSpace(): PacketSpace | undefined {
    const lt = this.#lossTime;
    let space: PacketSpace | undefined;
    let time = NONE;
    for (let s = 0; s < 3; s++) {
      if (lt[s] < time) {
        time = lt[s];
        space = s as PacketSpace;
      }
    }
    return space;
  }

  /** SetLossDetectionTimer (RFC 9002 Appendix A.8). */
  #setTimer(now: number): void {
    const lossSpace = this.#earliestLossSpace();
    if (lossSpace !== undefined) {
      // Time-threshold loss detection; "The PTO timer MUST NOT be set if a timer is set for time
      // threshold loss detection" (§6.2.1).
      this.#deadline = this.#lossTime[lossSpace];
      return;
    }
    // RFC 9002 §6.2.2.1: a server at its amplification limit "MUST NOT" arm the PTO.
    if (this.#isServer && this.#amplificationBlocked) {
      this.#deadline = undefined;
      return;
    }
    if (!this.hasAckElicitingInFlight() && this.peerCompletedAddressValidation) {
      this.#deadline = undefined;
      return;
    }
    const t = this.#ptoTime(now);
    this.#deadline = t === NONE ? undefined : t;
  }

  /**
   * GetPtoTimeAndSpace (RFC 9002 Appendix A.8): returns the PTO deadline (Infinity when none) and
   * leaves its space in `#ptoSpace`.
   */
  #ptoTime(now: number): number {
    const backoff = 2 ** this.#ptoCount;
    let duration = this.#rtt.ptoBase() * backoff;
    if (!this.hasAckElicitingInFlight()) {
      // Anti-deadlock PTO of a client (only reached when !PeerCompletedAddressValidation).
      this.#ptoSpace = this.#hasHandshakeKeys ? PacketSpace.Handshake : PacketSpace.Initial;
      return now + duration;
    }
    let timeout = NONE;
    let space: PacketSpace = PacketSpace.Initial;
    for (let s = 0; s < 3; s++) {
      const sent = this.#sent[s];
      if (sent.ackElicitingInFlight === 0) continue;
      if (s === PacketSpace.ApplicationData) {
        // RFC 9002 §6.2.1: "MUST NOT set its PTO timer for the Application Data packet number
        // space until the handshake is confirmed".
        if (!this.#handshakeConfirmed) break;
        duration += this.#rtt.maxAckDelay * backoff;
      }
      const t = (sent.timeOfLastAckEliciting ?? now) + duration;
      if (t < timeout) {
        timeout = t;
        space = s as PacketSpace;
      }
    }
    this.#ptoSpace = space;
    return timeout;
  }
}

function includesAckEliciting<T>(packets: readonly SentPacket<T>[]): boolean {
  for (let i = 0; i < packets.length; i++) if (packets[i].ackEliciting) return true;
  return false;
}
