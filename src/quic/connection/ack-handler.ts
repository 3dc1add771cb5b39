/**
 * What acknowledgments and losses mean for the connection (RFC 9002 §6, RFC 9000 §13.3): ACK
 * frames go to loss detection; the packets it reports acknowledged or lost are turned into
 * per-frame consequences (data acknowledged, ranges to resend, control frames to regenerate with
 * their latest value), and the loss detection timer's PTO becomes probes to send.
 */
import type { AckFrame } from '../frames/index.js';
import { PacketSpace } from '../recovery/index.js';
import { ackFrequencyOutcome } from './ack-frequency.js';
import type { ConnectionCore } from './core.js';
import { onPmtuAcked, onPmtuLost } from './pmtu.js';
import { qlogMetrics } from './qlog.js';
import type { ConnSentPacket, SentRecord } from './sent-info.js';

/**
 * Reused for ACK range conversion (inclusive → half-open), pairs included: ACK processing is not
 * reentrant, and loss detection reads the ranges without keeping them.
 */
const scratchRanges: Array<[number, number]> = [];

/** An ACK frame received in `space` (RFC 9000 §19.3, RFC 9002 §6). */
export function onAckFrame(c: ConnectionCore, space: PacketSpace, f: AckFrame, now: number): void {
  const ranges = scratchRanges;
  const n = f.ranges.length;
  // Most ACKs have one range: the length changes (a call into the runtime) only when theirs does.
  if (ranges.length !== n) ranges.length = n;
  for (let i = 0; i < n; i++) {
    const r = f.ranges[i];
    const out = ranges[i];
    if (out === undefined) ranges[i] = [r[0], r[1] + 1];
    else {
      out[0] = r[0];
      out[1] = r[1] + 1;
    }
  }
  // RFC 9000 §19.3: ACK Delay is scaled by the sender's ack_delay_exponent; Initial and
  // Handshake ACKs are decoded with the default (3), as we encode them.
  const exponent = space === 2 && c.peerParams !== undefined ? c.peerParams.ackDelayExponent : 3;
  const delayMs = (f.ackDelay * 2 ** exponent) / 1000;
  const outcome = c.loss.onAckReceived(space, ranges, delayMs, now, f.ecn?.ce);
  if (outcome.persistentCongestion) c.persistentCongestions++;
  const s = c.spaces[space];
  for (const p of outcome.acked) {
    if (p.info.hasAck) s.received.onSentPacketAcked(p.pn);
    if (p.info.keyGen >= 0) c.oneRtt?.onAcked(p.info.keyGen);
    for (const r of p.info.records) onRecordAcked(c, space, r);
  }
  // What arrived first, then what was lost: a later full-size packet acknowledged by the same
  // frame clears the losses of PMTU black hole suspicion.
  if (space === PacketSpace.ApplicationData && outcome.acked.length > 0) {
    onPmtuAcked(c, outcome.acked, now);
  }
  onPacketsLost(c, space, outcome.lost, now);
  if (c.qlog !== undefined && outcome.acked.length > 0) c.qlog(qlogMetrics(c, now));
}

/** Packets declared lost: their frames are queued again as needed. */
export function onPacketsLost(
  c: ConnectionCore,
  space: PacketSpace,
  lost: readonly ConnSentPacket[],
  now: number,
): void {
  if (lost.length === 0) return;
  let probes = 0;
  for (const p of lost) {
    if (p.mtuProbe) probes++;
    for (const r of p.info.records) onRecordLost(c, space, r);
  }
  // Lost PMTU probes are counted by PMTU discovery, not as lost packets.
  c.lostPackets += lost.length - probes;
  if (space === PacketSpace.ApplicationData) onPmtuLost(c, lost, now);
}

function onRecordAcked(c: ConnectionCore, space: PacketSpace, r: SentRecord): void {
  const streams = c.streams;
  switch (r.kind) {
    case 'stream':
      streams.onStreamFrameAcked(r.id, r.offset, r.length, r.fin);
      return;
    case 'crypto':
      c.spaces[space].crypto.onAcked(r.offset, r.length);
      return;
    case 'reset-stream':
      streams.onControlFrameAcked({
        kind: 'RESET_STREAM',
        streamId: r.id,
        errorCode: 0,
        finalSize: 0,
      });
      return;
    case 'retire-cid':
      c.peerCids.onRetireAcked(r.seq);
      return;
    case 'ack-frequency':
      ackFrequencyOutcome(c, r.seq, true);
      return;
    default:
      return;
  }
}

function onRecordLost(c: ConnectionCore, space: PacketSpace, r: SentRecord): void {
  const streams = c.streams;
  switch (r.kind) {
    case 'stream':
      streams.onStreamFrameLost(r.id, r.offset, r.length, r.fin);
      return;
    case 'crypto':
      if (!c.spaces[space].discarded) c.spaces[space].crypto.onLost(r.offset, r.length);
      return;
    case 'reset-stream':
      streams.onControlFrameLost({
        kind: 'RESET_STREAM',
        streamId: r.id,
        errorCode: 0,
        finalSize: 0,
      });
      return;
    case 'stop-sending':
      streams.onControlFrameLost({ kind: 'STOP_SENDING', streamId: r.id, errorCode: 0 });
      return;
    case 'max-data':
      streams.onControlFrameLost({ kind: 'MAX_DATA', maximum: r.limit });
      return;
    case 'max-stream-data':
      streams.onControlFrameLost({ kind: 'MAX_STREAM_DATA', streamId: r.id, maximum: r.limit });
      return;
    case 'max-streams':
      streams.onControlFrameLost({ kind: 'MAX_STREAMS', bidi: r.bidi, maximum: r.limit });
      return;
    case 'data-blocked':
      streams.onControlFrameLost({ kind: 'DATA_BLOCKED', maximum: r.limit });
      return;
    case 'stream-data-blocked':
      streams.onControlFrameLost({ kind: 'STREAM_DATA_BLOCKED', streamId: r.id, maximum: r.limit });
      return;
    case 'streams-blocked':
      streams.onControlFrameLost({ kind: 'STREAMS_BLOCKED', bidi: r.bidi, maximum: r.limit });
      return;
    case 'new-cid':
      // Resend only while the CID is still active (RFC 9000 §13.3).
      if (c.localCids.get(r.seq) !== undefined) c.newCidQueue.push(r.seq);
      return;
    case 'retire-cid':
      c.peerCids.onRetireLost(r.seq);
      return;
    case 'handshake-done':
      c.handshakeDonePending = true;
      return;
    case 'new-token':
      c.newTokenPending ??= r.token;
      return;
    case 'ack-frequency':
      ackFrequencyOutcome(c, r.seq, false);
      return;
    case 'pmtu-probe':
      return; // Never resent: PMTU discovery hears of the loss with the packet (pmtu.ts).
  }
}

/** The loss detection timer fired (RFC 9002 §6.1.2, §6.2). */
export function onLossTimeout(c: ConnectionCore, now: number): void {
  const out = c.loss.onLossDetectionTimeout(now);
  if (out === undefined) return;
  if (out.kind === 'loss') {
    if (out.persistentCongestion) c.persistentCongestions++;
    onPacketsLost(c, out.space, out.lost, now);
    return;
  }
  c.ptoCount++;
  // PTO: probes in the chosen space (RFC 9002 §6.2.4). During the handshake, resend all
  // unacknowledged CRYPTO data so the probe carries something useful.
  const s = c.spaces[out.ptoSpace];
  if (s.discarded) return;
  s.probesOwed = Math.max(s.probesOwed, out.probeCount);
  if (out.ptoSpace !== 2) s.crypto.retransmitAll();
  else requeueOldest(c);
}

/**
 * An Application-space probe should carry data rather than a bare PING when possible (RFC 9002
 * §6.2.4): the oldest outstanding packet's frames are queued again.
 */
function requeueOldest(c: ConnectionCore): void {
  const p = c.loss.oldestOutstanding(2);
  if (p !== undefined) for (const r of p.info.records) onRecordLost(c, 2, r);
}
