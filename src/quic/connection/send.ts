/**
 * The send path: what goes into the next datagram (RFC 9000 §12.2, §13, RFC 9002 §7).
 *
 * One datagram per call, packets coalesced Initial → Handshake → 1-RTT as keys allow. Per packet:
 * CRYPTO, then (1-RTT) HANDSHAKE_DONE, path frames, CID frames, NEW_TOKEN, flow-control and
 * stream-state frames, DATAGRAMs, STREAM data round robin; an ACK is added whenever one is due or
 * the packet carries anything else (its room is reserved first). Limits: the server's
 * anti-amplification budget (RFC 9000 §8.1), the congestion window and the pacer (RFC 9002 §7,
 * §7.7); ACK-only packets and PTO probes are exempt from the window (§7, §7.5). Client Initial
 * datagrams, and server datagrams with ack-eliciting Initials, are padded to 1200 bytes
 * (RFC 9000 §14.1). Datagrams are at most the path's maximum datagram size (PMTU discovery,
 * `pmtu.ts`); a PMTU probe due goes first, in a datagram of its own (RFC 9000 §14.4).
 */
import { TransportErrorCode } from '../errors.js';
import { type AckFrame, type Frame, frameLength } from '../frames/index.js';
import type { OwedResponse } from '../path/index.js';
import { PacketSpace } from '../recovery/index.js';
import type { StreamControlFrame } from '../streams/index.js';
import { pollAckFrequency, sentAckFrequency } from './ack-frequency.js';
import type { ConnectionCore } from './core.js';
import { discardSpace } from './handshake.js';
import type { BuiltPacket, DatagramBuilder, PacketHeaderSpec } from './packet-builder.js';
import { maxDatagramFrameRoom } from './pmtu.js';
import { qlogPacket } from './qlog.js';
import type { SentRecord } from './sent-info.js';

/** RFC 9000 §14.1: the smallest allowed maximum datagram size. */
export const MIN_INITIAL_DATAGRAM = 1200;
/** Below this much congestion window room, ack-eliciting data waits. */
const MIN_USEFUL_ROOM = 64;
/** Conservative CRYPTO frame header: type, 8-byte offset, 4-byte length. */
const CRYPTO_HEADER_MAX = 13;

const encoder = new TextEncoder();

export interface Transmit {
  data: Uint8Array;
  to: string;
}

/** Builds the next datagram, or returns undefined when there is nothing to send now. */
export function buildDatagram(
  c: ConnectionCore,
  b: DatagramBuilder,
  now: number,
): Transmit | undefined {
  if (c.terminated) return undefined;
  if (c.state === 'closing') return c.closePending ? buildClose(c, b, now) : undefined;
  c.pacingDeadline = undefined;
  const owed = c.responder.takeOffPath(c.path.remote);
  if (owed !== undefined) {
    const t = buildOffPathResponse(c, b, owed, now);
    if (t !== undefined) return t;
  }
  const path = c.path;
  const spaces = c.spaces;
  const probing = spaces[0].probesOwed > 0 || spaces[1].probesOwed > 0 || spaces[2].probesOwed > 0;
  if (!probing) {
    const probe = path.pmtud.nextProbe();
    if (probe !== undefined) {
      const t = buildPmtuProbe(c, b, probe, now);
      if (t !== undefined) return t;
    }
  }
  let limit = c.maxUdpPayload;
  // PTO probes go at BASE_PLPMTU: through a PMTU black hole they still arrive, and their
  // acknowledgments declare the larger packets lost (black hole detection, pmtud.ts).
  if (probing && limit > MIN_INITIAL_DATAGRAM) limit = MIN_INITIAL_DATAGRAM;
  const amp = path.amp.remaining();
  if (amp < limit) limit = Math.floor(amp);
  if (limit < MIN_USEFUL_ROOM) {
    // RFC 9002 §6.2.2.1: a server at its amplification limit does not arm the PTO.
    if (c.role === 'server') c.loss.setAmplificationBlocked(true, now);
    return undefined;
  }
  let allowEliciting = true;
  if (!probing) {
    const room = c.loss.congestion.available(c.loss.bytesInFlight);
    if (room < MIN_USEFUL_ROOM) allowEliciting = false;
    else {
      if (room < limit) limit = room;
      const wait = c.pacer.timeUntilSend(now, limit);
      if (wait > 0) {
        allowEliciting = false;
        c.pacingDeadline = now + wait;
      }
    }
  }
  if (
    c.keyUpdateRequested &&
    c.oneRtt !== undefined &&
    c.handshakeConfirmed &&
    c.oneRtt.canInitiate()
  ) {
    // RFC 9001 §6.1: only after confirmation and once the current keys' packets were acknowledged.
    c.oneRtt.initiate();
    c.keyUpdateRequested = false;
  }

  b.reset(limit);
  let padTo = 0;
  for (let i = 0; i < 3; i++) {
    const space = i as PacketSpace;
    const built = fillPacket(c, b, space, allowEliciting, now);
    if (built === 'full') break;
    if (built === 'sent') {
      const cur = b.current;
      if (space === PacketSpace.Initial && (c.role === 'client' || cur?.ackEliciting)) {
        padTo = MIN_INITIAL_DATAGRAM;
      }
      if (c.pathChallengeSent) padTo = MIN_INITIAL_DATAGRAM;
    }
  }
  c.pathChallengeSent = false;
  if (padTo > 0) b.padTo(padTo);
  const data = b.finish();
  if (data === undefined) return undefined;
  afterSend(c, b.packets, data.length, now);
  return { data, to: path.remote };
}

/**
 * A PMTU probe of exactly `size` bytes: one 1-RTT packet of PING and PADDING (RFC 9000 §14.4), so
 * its loss costs no data. It is sent only when the congestion window and the pacer have room for
 * it (probes "consume congestion window"), on a validated path; loss detection tracks it like
 * any packet, but its loss is reported to PMTU discovery and is no congestion signal.
 */
function buildPmtuProbe(
  c: ConnectionCore,
  b: DatagramBuilder,
  size: number,
  now: number,
): Transmit | undefined {
  const protector = c.oneRtt?.writer;
  const dcid = c.peerCids.current?.cid;
  if (protector === undefined || dcid === undefined) return undefined;
  if (c.state !== 'established' || !c.handshakeConfirmed || !c.path.amp.validated) return undefined;
  if (c.loss.congestion.available(c.loss.bytesInFlight) < size) return undefined;
  if (c.pacer.timeUntilSend(now, size) > 0) return undefined;
  b.reset(size);
  if (!b.start(headerSpec(c, PacketSpace.ApplicationData, dcid, protector))) return undefined;
  const pmtud = c.path.pmtud;
  const id = pmtud.onProbeSent(size);
  b.add({ kind: 'PING' }, { kind: 'pmtu-probe', pmtud, id, size });
  const packet = b.current;
  if (packet !== undefined) packet.mtuProbe = true;
  b.padTo(size);
  const data = b.finish();
  if (data === undefined) return undefined;
  afterSend(c, b.packets, data.length, now);
  return { data, to: c.path.remote };
}

/**
 * A PATH_RESPONSE to a challenge that came from another address than the current path's, sent
 * there (RFC 9000 §8.2.2: "MUST be sent on the network path where the PATH_CHALLENGE frame was
 * received"), in a datagram of its own expanded to 1200 bytes unless that would exceed three
 * times what the address sent us (§8.2.2, §8.1 anti-amplification).
 */
function buildOffPathResponse(
  c: ConnectionCore,
  b: DatagramBuilder,
  owed: OwedResponse,
  now: number,
): Transmit | undefined {
  const protector = c.oneRtt?.writer;
  const dcid = c.peerCids.current?.cid;
  if (protector === undefined || dcid === undefined || c.state !== 'established') return undefined;
  const size = Math.min(MIN_INITIAL_DATAGRAM, 3 * owed.datagramSize, c.maxUdpPayload);
  if (size < 64) return undefined;
  b.reset(size);
  if (!b.start(headerSpec(c, PacketSpace.ApplicationData, dcid, protector))) return undefined;
  b.add({ kind: 'PATH_RESPONSE', data: owed.data });
  b.padTo(size);
  const data = b.finish();
  if (data === undefined) return undefined;
  afterSend(c, b.packets, data.length, now);
  return { data, to: owed.remote };
}

/** Result of filling one packet: a packet is open, nothing to send here, or no room left. */
type FillResult = 'sent' | 'empty' | 'full';

function fillPacket(
  c: ConnectionCore,
  b: DatagramBuilder,
  space: PacketSpace,
  allowEliciting: boolean,
  now: number,
): FillResult {
  const s = c.spaces[space];
  if (s.discarded) return 'empty';
  const one = space === PacketSpace.ApplicationData ? c.oneRtt : undefined;
  const protector = space === PacketSpace.ApplicationData ? one?.writer : s.writeKeys;
  if (protector === undefined) return 'empty';
  const received = s.received;
  const ackDue = received.hasNewPackets && received.shouldSendAck(now);
  if (!ackDue && !allowEliciting) return 'empty';
  if (!ackDue && !mayHaveData(c, space)) return 'empty';
  const dcid = c.peerCids.current?.cid;
  if (dcid === undefined) return 'empty';
  if (!b.start(headerSpec(c, space, dcid, protector))) return 'full';

  let ack: AckFrame | undefined;
  let reserve = 0;
  if (received.hasNewPackets) {
    const exponent = space === PacketSpace.ApplicationData ? c.settings.ackDelayExponent : 3;
    const a = received.buildAck(now, exponent);
    if (a !== null) {
      ack = { kind: 'ACK', ranges: a.ranges, ackDelay: a.ackDelay, ecn: a.ecn };
      reserve = frameLength(ack);
      if (reserve > b.remaining()) {
        ack = undefined;
        reserve = 0;
      }
    }
  }
  if (allowEliciting) {
    fillCrypto(c, b, space, reserve);
    if (space === PacketSpace.ApplicationData) fillApplication(c, b, reserve, now);
    if (s.probesOwed > 0 && b.remaining() - reserve >= 1) {
      // draft-ietf-quic-ack-frequency-14 §7: "When sending PTO packets, one can include an
      // IMMEDIATE_ACK frame to elicit an immediate acknowledgment" (a peer that asked for fewer
      // ACKs would otherwise hold its reply). Otherwise a PING if nothing else elicits an ACK.
      if (space === PacketSpace.ApplicationData && c.ackFrequency !== undefined) {
        b.add({ kind: 'IMMEDIATE_ACK' });
      } else if (!b.current?.ackEliciting) {
        b.add({ kind: 'PING' });
      }
    }
  }
  if (ack !== undefined && (ackDue || b.payloadSize() > 0)) b.add(ack);
  if (b.dropEmpty()) return 'empty';
  const cur = b.current;
  if (cur?.ackEliciting && s.probesOwed > 0) s.probesOwed--;
  return 'sent';
}

/** Cheap test of whether a space may have ack-eliciting frames to send. */
/** The header of the next packet of `space`, sealed with `protector`. */
function headerSpec(
  c: ConnectionCore,
  space: PacketSpace,
  dcid: Uint8Array,
  protector: PacketHeaderSpec['protector'],
): PacketHeaderSpec {
  const one = space === PacketSpace.ApplicationData ? c.oneRtt : undefined;
  return {
    space,
    type:
      space === PacketSpace.Initial
        ? 'initial'
        : space === PacketSpace.Handshake
          ? 'handshake'
          : '1rtt',
    dcid,
    scid: c.localCids.initial.cid,
    token: space === PacketSpace.Initial && c.role === 'client' ? c.initialToken : undefined,
    pn: c.spaces[space].nextPn,
    largestAcked: c.loss.largestAcked(space),
    keyPhase: one?.writePhase,
    keyGen: one?.writeGeneration,
    protector,
  };
}

function mayHaveData(c: ConnectionCore, space: PacketSpace): boolean {
  const s = c.spaces[space];
  if (s.probesOwed > 0 || s.crypto.hasData) return true;
  if (space !== PacketSpace.ApplicationData) return false;
  // The stream manager has no cheap "anything pending?" query: let the builder try.
  return true;
}

function fillCrypto(
  c: ConnectionCore,
  b: DatagramBuilder,
  space: PacketSpace,
  reserve: number,
): void {
  const crypto = c.spaces[space].crypto;
  while (crypto.hasData) {
    const room = b.remaining() - reserve - CRYPTO_HEADER_MAX;
    if (room <= 0) return;
    const chunk = crypto.nextChunk(room);
    if (chunk === null) return;
    b.add(
      { kind: 'CRYPTO', offset: chunk.offset, data: chunk.data },
      { kind: 'crypto', offset: chunk.offset, length: chunk.data.length },
    );
  }
}

function fillApplication(
  c: ConnectionCore,
  b: DatagramBuilder,
  reserve: number,
  now: number,
): void {
  if (c.handshakeDonePending && b.remaining() - reserve >= 1) {
    b.add({ kind: 'HANDSHAKE_DONE' }, { kind: 'handshake-done' });
    c.handshakeDonePending = false;
  }
  const af = pollAckFrequency(c, now);
  if (af !== undefined && frameLength(af) <= b.remaining() - reserve) {
    b.add(af, { kind: 'ack-frequency', seq: af.sequenceNumber });
    sentAckFrequency(c, af, now);
  }
  // RFC 9000 §8.2.2: PATH_RESPONSE echoes the challenge, once, never retransmitted.
  while (c.responder.pending > 0 && b.remaining() - reserve >= 9) {
    const data = c.responder.pollResponse(c.path.remote);
    if (data === undefined) break;
    b.add({ kind: 'PATH_RESPONSE', data });
    // RFC 9000 §8.2.2: datagrams with PATH_RESPONSE are expanded to 1200 bytes too.
    c.pathChallengeSent = true;
  }
  const v = c.path.validator;
  if (v !== undefined && b.remaining() - reserve >= 9) {
    const data = v.pollChallenge(now, b.limit >= 1200);
    if (data !== undefined) {
      b.add({ kind: 'PATH_CHALLENGE', data });
      c.pathChallengeSent = true;
    }
  }
  fillCidFrames(c, b, reserve);
  const token = c.newTokenPending;
  if (token !== undefined) {
    const f: Frame = { kind: 'NEW_TOKEN', token };
    if (frameLength(f) <= b.remaining() - reserve) {
      b.add(f, { kind: 'new-token', token });
      c.newTokenPending = undefined;
    }
  }
  fillStreamControl(c, b, reserve, now);
  fillDatagrams(c, b, reserve);
  for (;;) {
    const space = b.remaining() - reserve;
    if (space < 8) break;
    const chunk = c.streams.nextStreamFrame(space);
    if (chunk === null) break;
    b.add(chunk, {
      kind: 'stream',
      id: chunk.streamId,
      offset: chunk.offset,
      length: chunk.data.length,
      fin: chunk.fin,
    });
  }
}

function fillCidFrames(c: ConnectionCore, b: DatagramBuilder, reserve: number): void {
  const q = c.newCidQueue;
  while (q.length > 0) {
    const entry = c.localCids.get(q[0]);
    if (entry === undefined) {
      q.shift();
      continue;
    }
    const f: Frame = {
      kind: 'NEW_CONNECTION_ID',
      sequenceNumber: entry.seq,
      retirePriorTo: c.localCids.retirePriorTo,
      connectionId: entry.cid,
      statelessResetToken: entry.resetToken,
    };
    if (frameLength(f) > b.remaining() - reserve) break;
    b.add(f, { kind: 'new-cid', seq: entry.seq });
    q.shift();
  }
  for (;;) {
    if (b.remaining() - reserve < 9) break;
    const seq = c.peerCids.pollRetire();
    if (seq === undefined) break;
    b.add({ kind: 'RETIRE_CONNECTION_ID', sequenceNumber: seq }, { kind: 'retire-cid', seq });
  }
}

function fillStreamControl(
  c: ConnectionCore,
  b: DatagramBuilder,
  reserve: number,
  now: number,
): void {
  const streams = c.streams;
  for (;;) {
    if (b.remaining() - reserve < 2) return;
    const f = streams.pollControlFrame(now, c.rtt.smoothed);
    if (f === null) return;
    if (frameLength(f) > b.remaining() - reserve) {
      // Not sent: hand it back (the stream manager's contract).
      streams.onControlFrameLost(f);
      return;
    }
    b.add(f, controlRecord(f));
  }
}

function controlRecord(f: StreamControlFrame): SentRecord {
  switch (f.kind) {
    case 'MAX_DATA':
      return { kind: 'max-data', limit: f.maximum };
    case 'DATA_BLOCKED':
      return { kind: 'data-blocked', limit: f.maximum };
    case 'MAX_STREAMS':
      return { kind: 'max-streams', bidi: f.bidi, limit: f.maximum };
    case 'STREAMS_BLOCKED':
      return { kind: 'streams-blocked', bidi: f.bidi, limit: f.maximum };
    case 'MAX_STREAM_DATA':
      return { kind: 'max-stream-data', id: f.streamId, limit: f.maximum };
    case 'STREAM_DATA_BLOCKED':
      return { kind: 'stream-data-blocked', id: f.streamId, limit: f.maximum };
    case 'RESET_STREAM':
      return { kind: 'reset-stream', id: f.streamId };
    case 'STOP_SENDING':
      return { kind: 'stop-sending', id: f.streamId };
  }
}

/** DATAGRAM frames (RFC 9221 §5): never split; one that can no longer fit any packet is dropped. */
function fillDatagrams(c: ConnectionCore, b: DatagramBuilder, reserve: number): void {
  const q = c.datagrams;
  while (q.length > 0) {
    const f: Frame = { kind: 'DATAGRAM', data: q[0] };
    const len = frameLength(f);
    if (len <= b.remaining() - reserve) {
      b.add(f);
      c.queuedDatagramBytes -= q[0].length;
      q.shift();
      continue;
    }
    if (len > maxDatagramFrameRoom(c)) {
      // The path shrank below it: unreliable data may be dropped (counted).
      c.queuedDatagramBytes -= q[0].length;
      c.datagramsDroppedTooLarge++;
      q.shift();
      continue;
    }
    break;
  }
  if (
    c.datagramsBlocked &&
    c.queuedDatagramBytes <= c.datagramQueueBytes / 8 &&
    q.length <= c.datagramQueueSize / 2
  ) {
    c.datagramsBlocked = false;
    c.emit({ type: 'datagrams-writable' });
  }
}

/** Records what was sent with loss detection and the timers. */
function afterSend(
  c: ConnectionCore,
  packets: readonly BuiltPacket[],
  size: number,
  now: number,
): void {
  let inFlight = false;
  let sentHandshake = false;
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i];
    const s = c.spaces[p.space];
    s.nextPn = p.pn + 1;
    if (p.hasAck) s.received.onAckSent(p.pn);
    c.loss.onPacketSent(p.space, {
      pn: p.pn,
      timeSent: now,
      size: p.size,
      ackEliciting: p.ackEliciting,
      inFlight: p.inFlight,
      mtuProbe: p.mtuProbe === true,
      // The built packet has the SentInfo fields (records, keyGen, hasAck): no copy per packet.
      info: p,
    });
    if (p.inFlight) inFlight = true;
    if (p.ackEliciting) c.onAckElicitingSent(now);
    if (p.type === 'handshake') sentHandshake = true;
    if (p.type === '1rtt' && c.oneRtt?.onSealed()) c.keyUpdateRequested = true;
    c.qlog?.(qlogPacket('transport:packet_sent', now, p.type, p.pn, p.size, p.frames, p.mtuProbe));
  }
  c.path.amp.onSent(size);
  if (inFlight) c.pacer.onSend(now, size);
  // RFC 9001 §4.9.1: "a client MUST discard Initial keys when it first sends a Handshake packet".
  if (sentHandshake && c.role === 'client') discardSpace(c, PacketSpace.Initial, now);
}

/**
 * A datagram carrying CONNECTION_CLOSE in every space we have keys for (RFC 9000 §10.2.3). An
 * application close in Initial or Handshake packets becomes a transport close with
 * APPLICATION_ERROR and no reason, so nothing of the application leaks before authentication.
 */
function buildClose(c: ConnectionCore, b: DatagramBuilder, now: number): Transmit | undefined {
  const reason = c.closeReason;
  if (reason === undefined) return undefined;
  c.closePending = false;
  c.lastCloseSentAt = now;
  const limit = Math.min(c.maxUdpPayload, Math.floor(c.path.amp.remaining()));
  if (limit < MIN_USEFUL_ROOM) return undefined;
  b.reset(limit);
  const dcid = c.peerCids.current?.cid;
  if (dcid === undefined) return undefined;
  let hasInitial = false;
  for (let i = 0; i < 3; i++) {
    const space = i as PacketSpace;
    const s = c.spaces[space];
    if (s.discarded) continue;
    const one = space === PacketSpace.ApplicationData ? c.oneRtt : undefined;
    const protector = space === PacketSpace.ApplicationData ? one?.writer : s.writeKeys;
    if (protector === undefined) continue;
    // Once 1-RTT keys are confirmed, the close goes in 1-RTT only.
    if (space !== PacketSpace.ApplicationData && c.handshakeConfirmed) continue;
    const ok = b.start(headerSpec(c, space, dcid, protector));
    if (!ok) break;
    const app = reason.app && space === PacketSpace.ApplicationData;
    const text = reason.app && !app ? new Uint8Array(0) : encoder.encode(reason.reason);
    const maxText = Math.max(0, b.remaining() - 24);
    const frame: Frame = {
      kind: 'CONNECTION_CLOSE',
      application: app,
      errorCode: reason.app && !app ? TransportErrorCode.APPLICATION_ERROR : reason.errorCode,
      frameType: app ? 0 : reason.frameType,
      reason: text.length > maxText ? text.subarray(0, maxText) : text,
    };
    b.add(frame);
    s.nextPn++;
    if (space === PacketSpace.Initial) hasInitial = true;
  }
  if (hasInitial && c.role === 'client') b.padTo(MIN_INITIAL_DATAGRAM);
  const data = b.finish();
  if (data === undefined) return undefined;
  c.path.amp.onSent(data.length);
  return { data, to: c.path.remote };
}
