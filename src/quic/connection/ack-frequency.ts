/**
 * The ACK frequency extension (draft-ietf-quic-ack-frequency-14) at the connection level.
 *
 * Receiving (we advertised min_ack_delay, §3): an ACK_FREQUENCY frame is checked (§4: Requested
 * Max Ack Delay below 2^14 ms and not below our min_ack_delay, else PROTOCOL_VIOLATION), ignored
 * unless its Sequence Number is above every one processed, and handed to the Application space's
 * ACK tracker; IMMEDIATE_ACK (§5) makes an ACK due at once. Either frame without our
 * min_ack_delay having been sent is a PROTOCOL_VIOLATION (drafts/ack-frequency.md).
 *
 * Sending (the peer advertised min_ack_delay): {@link AckFrequencySender} decides what to ask.
 * The policy follows §8.1 and §9:
 * - Ack-Eliciting Threshold: a quarter of the congestion window in full-size packets, minus one,
 *   between 1 (RFC 9000's every-other-packet) and the configured ceiling (default 9): the window
 *   keeps growing on ACKs in slow start, and a sender whose window holds few packets needs them
 *   all acknowledged;
 * - Requested Max Ack Delay: the smoothed RTT, raised to the peer's min_ack_delay and capped by
 *   the peer's max_ack_delay transport parameter ("no more than the estimated round trip time");
 * - Reordering Threshold: our loss detection's packet threshold, 3 (RFC 9002 §6.1.1; §9 "the
 *   same as the loss detection packet threshold").
 * A new frame goes out when the threshold or the reordering value changes, or the delay moves by
 * half or double, at most once per smoothed RTT (§8.1), and not while one is unacknowledged; a
 * lost frame is replaced by a fresh one with the current values (§4: a new Sequence Number).
 * Until a frame is acknowledged, the PTO uses the largest of the delays in force and in flight
 * (§7); once acknowledged, its delay is the peer's max_ack_delay. PTO probes in the
 * Application space carry IMMEDIATE_ACK (§7).
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { type AckFrequencyFrame, FrameType } from '../frames/index.js';
import { PACKET_THRESHOLD } from '../recovery/index.js';
import type { ConnectionCore } from './core.js';

/** What we ask of a peer that supports the extension. */
export interface AckFrequencyPolicy {
  /** Largest Ack-Eliciting Threshold we ask for (default 9: an ACK per 10 packets at most). */
  maxAckElicitingThreshold?: number;
}

/** RFC 9000 §18.2: max_ack_delay values of 2^14 ms or more are invalid; in microseconds. */
const MAX_ACK_DELAY_LIMIT_US = 2 ** 14 * 1000;

/** An ACK_FREQUENCY frame received (draft-ietf-quic-ack-frequency-14 §4). */
export function onAckFrequencyFrame(c: ConnectionCore, f: AckFrequencyFrame, now: number): void {
  const ours = requireAdvertised(c, FrameType.ACK_FREQUENCY);
  const delay = f.requestedMaxAckDelay;
  // §4: "values of 2^14 milliseconds or greater are invalid for max_ack_delay ... A value smaller
  // than the min_ack_delay advertised by the peer is also invalid. Receipt of an invalid value
  // MUST be treated as a connection error of type PROTOCOL_VIOLATION." Checked before the
  // sequence number: an obsolete frame's value is just as invalid.
  if (delay >= MAX_ACK_DELAY_LIMIT_US || delay < ours) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      `ACK_FREQUENCY Requested Max Ack Delay ${delay} us outside ${ours}..${MAX_ACK_DELAY_LIMIT_US - 1}`,
      FrameType.ACK_FREQUENCY,
    );
  }
  // §4: "A receiving endpoint MUST ignore a received ACK_FREQUENCY frame unless the Sequence
  // Number value in the frame is greater than the largest processed value."
  if (f.sequenceNumber <= c.ackFrequencySeqReceived) return;
  c.ackFrequencySeqReceived = f.sequenceNumber;
  c.appSpace.received.setAckFrequency(
    {
      ackElicitingThreshold: f.ackElicitingThreshold,
      maxAckDelay: delay / 1000,
      reorderingThreshold: f.reorderingThreshold,
    },
    now,
  );
}

/** An IMMEDIATE_ACK frame received in `received`'s space (draft-ietf-quic-ack-frequency-14 §5). */
export function onImmediateAckFrame(
  c: ConnectionCore,
  received: { requestImmediateAck(): void },
): void {
  requireAdvertised(c, FrameType.IMMEDIATE_ACK);
  received.requestImmediateAck();
}

/** Our min_ack_delay (us); a PROTOCOL_VIOLATION when we did not advertise one. */
function requireAdvertised(c: ConnectionCore, frameType: number): number {
  const ours = c.settings.minAckDelay;
  if (ours > 0) return ours;
  throw new TransportError(
    TransportErrorCode.PROTOCOL_VIOLATION,
    `frame 0x${frameType.toString(16)} without our min_ack_delay transport parameter`,
    frameType,
  );
}

/** One ACK_FREQUENCY frame sent and not yet acknowledged or lost. */
interface InFlight {
  readonly seq: number;
  /** Its Requested Max Ack Delay, in ms. */
  readonly delayMs: number;
}

/** What to ask of a peer that advertised min_ack_delay; see the file comment for the policy. */
export class AckFrequencySender {
  readonly #peerMinUs: number;
  readonly #peerMaxUs: number;
  readonly #maxThreshold: number;
  #nextSeq = 0;
  /** The values of the newest frame sent (-1 before any). */
  #threshold = -1;
  #delayUs = -1;
  #reordering = -1;
  /** The peer's max_ack_delay in force as far as we know (ms): its transport parameter at first. */
  #confirmedMs: number;
  #inFlight: InFlight | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** The newest frame was lost: send a new one even when the values did not change. */
  #resend = false;

  /**
   * `peerMinAckDelayUs` and `peerMaxAckDelayMs` are the peer's transport parameters (already
   * checked: min <= max).
   */
  constructor(peerMinAckDelayUs: number, peerMaxAckDelayMs: number, policy: AckFrequencyPolicy) {
    this.#peerMinUs = peerMinAckDelayUs;
    this.#peerMaxUs = peerMaxAckDelayMs * 1000;
    this.#confirmedMs = peerMaxAckDelayMs;
    const max = policy.maxAckElicitingThreshold ?? 9;
    if (!(Number.isSafeInteger(max) && max >= 1)) {
      throw new RangeError(`maxAckElicitingThreshold ${max}: an integer of at least 1`);
    }
    this.#maxThreshold = max;
  }

  /**
   * The frame to send now, or undefined. `cwndPackets` is the congestion window in full-size
   * packets, `srttMs` the smoothed RTT. The caller sends it (or drops it: nothing is recorded
   * until {@link onSent}).
   */
  poll(now: number, cwndPackets: number, srttMs: number): AckFrequencyFrame | undefined {
    if (this.#inFlight !== undefined) return undefined;
    if (now - this.#lastSentAt < srttMs) return undefined;
    const threshold = Math.min(this.#maxThreshold, Math.max(1, Math.floor(cwndPackets / 4) - 1));
    let delayUs = Math.round(srttMs * 1000);
    if (delayUs < this.#peerMinUs) delayUs = this.#peerMinUs;
    if (delayUs > this.#peerMaxUs) delayUs = this.#peerMaxUs;
    const reordering = PACKET_THRESHOLD;
    if (
      !this.#resend &&
      threshold === this.#threshold &&
      reordering === this.#reordering &&
      delayUs * 2 > this.#delayUs &&
      delayUs < this.#delayUs * 2
    ) {
      return undefined;
    }
    return {
      kind: 'ACK_FREQUENCY',
      sequenceNumber: this.#nextSeq,
      ackElicitingThreshold: threshold,
      requestedMaxAckDelay: delayUs,
      reorderingThreshold: reordering,
    };
  }

  /** `f`, from {@link poll}, went out in a packet. */
  onSent(f: AckFrequencyFrame, now: number): void {
    this.#nextSeq = f.sequenceNumber + 1;
    this.#threshold = f.ackElicitingThreshold;
    this.#delayUs = f.requestedMaxAckDelay;
    this.#reordering = f.reorderingThreshold;
    this.#inFlight = { seq: f.sequenceNumber, delayMs: f.requestedMaxAckDelay / 1000 };
    this.#lastSentAt = now;
    this.#resend = false;
  }

  /** The packet carrying frame `seq` was acknowledged: its delay is now the peer's. */
  onAcked(seq: number): void {
    const f = this.#inFlight;
    if (f === undefined || f.seq !== seq) return;
    this.#confirmedMs = f.delayMs;
    this.#inFlight = undefined;
  }

  /** The packet carrying frame `seq` was declared lost: a new frame replaces it (§4). */
  onLost(seq: number): void {
    const f = this.#inFlight;
    if (f === undefined || f.seq !== seq) return;
    this.#inFlight = undefined;
    this.#resend = true;
  }

  /**
   * The peer's max_ack_delay for the PTO and for capping ACK delays (RFC 9002 §5.3, §6.2.1), in
   * ms: the larger of the one in force and the one in flight (§7).
   */
  get maxAckDelayMs(): number {
    const f = this.#inFlight;
    return f !== undefined && f.delayMs > this.#confirmedMs ? f.delayMs : this.#confirmedMs;
  }
}

/**
 * The ACK_FREQUENCY frame due in the 1-RTT packet being built, if any (the caller adds it and
 * reports it with {@link sentAckFrequency}, or drops it: nothing is recorded before).
 */
export function pollAckFrequency(c: ConnectionCore, now: number): AckFrequencyFrame | undefined {
  const sender = c.ackFrequency;
  if (sender === undefined || !c.handshakeConfirmed) return undefined;
  const cc = c.loss.congestion;
  return sender.poll(now, cc.window() / cc.maxDatagramSize, c.rtt.smoothed);
}

/** `f` went out: the PTO's max_ack_delay follows (§7). */
export function sentAckFrequency(c: ConnectionCore, f: AckFrequencyFrame, now: number): void {
  const sender = c.ackFrequency;
  if (sender === undefined) return;
  sender.onSent(f, now);
  c.rtt.maxAckDelay = sender.maxAckDelayMs;
}

/** The packet carrying ACK_FREQUENCY `seq` was acknowledged (`acked`) or lost. */
export function ackFrequencyOutcome(c: ConnectionCore, seq: number, acked: boolean): void {
  const sender = c.ackFrequency;
  if (sender === undefined) return;
  if (acked) sender.onAcked(seq);
  else sender.onLost(seq);
  c.rtt.maxAckDelay = sender.maxAckDelayMs;
}
