/**
 * The receive path (RFC 9000 §12.2, §17, RFC 9001 §5): a datagram is split into its coalesced
 * packets; each is matched to its keys, header protection is removed, the packet number expanded,
 * the payload opened (failure: dropped silently and counted), duplicates dropped, reserved bits
 * checked, and its frames handed to `frame-handlers.ts`. Retry and Version Negotiation are handled
 * here for the client; stateless resets are recognised on datagrams that fail to decrypt.
 *
 * Packet protection works in place: the caller's datagram buffer is modified. Frame payloads handed
 * on are views into it; whatever is kept is copied by its owner.
 */
import { AeadError, CryptoError } from '../../crypto/errors.js';
import { ByteReader, bytesEqual } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { type PacketType, readFrame } from '../frames/index.js';
import {
  type CoalescedPacket,
  keyPhaseOf,
  type LongHeader,
  LongPacketType,
  longHeaderReservedBits,
  QUIC_V1,
  type RetryHeader,
  shortHeaderReservedBits,
  splitDatagram,
  type VersionNegotiationHeader,
} from '../packet/index.js';
import { STATELESS_RESET_TOKEN_LENGTH } from '../path/index.js';
import { initialKeys, PacketProtector, verifyRetryTag } from '../protection/index.js';
import { PacketSpace } from '../recovery/index.js';
import { onStatelessReset } from './close.js';
import type { ConnectionCore } from './core.js';
import { handleFrame, type PacketContext } from './frame-handlers.js';
import { discardSpace } from './handshake.js';
import { onPathChange } from './migration.js';
import { type QlogFrame, qlogFrame, qlogPacket } from './qlog.js';

/** Packets kept while their keys are not available yet (RFC 9001 §5.7 allows buffering). */
const MAX_BUFFERED = 8;

/** Per-datagram result of one packet: processed (or a duplicate), dropped, kept for later. */
const Outcome = { Processed: 0, Dropped: 1, Buffered: 2 } as const;
type Outcome = (typeof Outcome)[keyof typeof Outcome];

export function receiveDatagram(
  c: ConnectionCore,
  datagram: Uint8Array,
  remote: string,
  now: number,
): void {
  if (remote === c.path.remote) {
    c.path.amp.onReceived(datagram.length);
    // RFC 9002 §6.2.2.1: new credit lifts a server's amplification block; the PTO re-arms.
    if (c.role === 'server' && c.path.amp.remaining() >= 64)
      c.loss.setAmplificationBlocked(false, now);
  }
  const n = c.cidLength;
  if ((datagram[0] & 0x80) === 0 && datagram.length > n + 1) {
    // The common case without the split: a short header (a DCID of our length and at least a
    // Packet Number byte) takes the whole datagram (RFC 9000 §12.2), so it is its only packet.
    if (c.terminated) return;
    const dcid = datagram.subarray(1, 1 + n);
    const outcome = receiveShort(c, datagram, 1 + n, dcid, remote, datagram.length, now);
    if (outcome === Outcome.Processed) retryBuffered(c, now);
    else if (outcome === Outcome.Dropped && !c.terminated) checkStatelessReset(c, datagram, now);
    return;
  }
  const split = splitDatagram(datagram, n);
  let processed = false;
  let lastShortFailed = false;
  for (const p of split.packets) {
    if (c.terminated) return;
    if (p.dcidMismatch) continue;
    const outcome = receivePacket(c, p, remote, datagram.length, now);
    if (outcome === Outcome.Processed) processed = true;
    lastShortFailed = p.header.kind === 'short' && outcome === Outcome.Dropped;
  }
  // RFC 9000 §10.3.1: a datagram that cannot be processed and ends in a reset token of the peer
  // is a Stateless Reset.
  if (!processed && (lastShortFailed || split.error !== undefined) && !c.terminated) {
    if (checkStatelessReset(c, datagram, now)) return;
  }
  if (processed) retryBuffered(c, now);
}

/** True (and the connection reset) when `datagram` ends in a reset token of the peer. */
function checkStatelessReset(c: ConnectionCore, datagram: Uint8Array, now: number): boolean {
  if (datagram.length < 21) return false;
  const tail = datagram.subarray(datagram.length - STATELESS_RESET_TOKEN_LENGTH);
  if (!c.peerCids.isStatelessReset(tail)) return false;
  onStatelessReset(c, now);
  return true;
}

function receivePacket(
  c: ConnectionCore,
  p: CoalescedPacket,
  remote: string,
  datagramSize: number,
  now: number,
): Outcome {
  const h = p.header;
  switch (h.kind) {
    case 'long':
      return receiveLong(c, h, p.bytes, remote, now);
    case 'short':
      return receiveShort(c, p.bytes, h.pnOffset - h.start, h.dcid, remote, datagramSize, now);
    case 'retry':
      onRetry(c, h, p.bytes, now);
      return Outcome.Dropped;
    case 'version-negotiation':
      onVersionNegotiation(c, h);
      return Outcome.Dropped;
    default:
      return Outcome.Dropped;
  }
}

function receiveLong(
  c: ConnectionCore,
  h: LongHeader,
  pkt: Uint8Array,
  remote: string,
  now: number,
): Outcome {
  if (h.type === LongPacketType.ZeroRtt) return Outcome.Dropped; // 0-RTT is not supported.
  const spaceId = h.type === LongPacketType.Initial ? PacketSpace.Initial : PacketSpace.Handshake;
  const s = c.spaces[spaceId];
  if (s.discarded) return Outcome.Dropped;
  if (c.role === 'client' && h.type === LongPacketType.Initial && c.peerInitialScid !== undefined) {
    // RFC 9000 §7.2: after the first Initial from the server, packets with another SCID are
    // discarded.
    if (!bytesEqual(h.scid, c.peerInitialScid)) return Outcome.Dropped;
  }
  const keys = s.readKeys;
  if (keys === undefined) return buffer(c, pkt, remote);
  let pn: number;
  let payload: Uint8Array;
  try {
    const o = keys.open(pkt, h.pnOffset - h.start, s.received.largestReceived);
    pn = o.pn;
    payload = pkt.subarray(o.payloadOffset, o.payloadOffset + o.payloadLength);
  } catch (err) {
    if (err instanceof CryptoError) {
      c.undecryptable++;
      return Outcome.Dropped;
    }
    throw err;
  }
  // RFC 9000 §17.2: reserved bits non-zero after removing protection "MUST [be treated] as a
  // connection error of type PROTOCOL_VIOLATION".
  if (longHeaderReservedBits(pkt[0]) !== 0) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      'reserved bits set in a long header',
    );
  }
  if (s.received.isDuplicate(pn)) return Outcome.Processed;
  if (c.role === 'client' && c.peerInitialScid === undefined) {
    // RFC 9000 §7.2: the client switches to the server's chosen connection ID.
    c.peerInitialScid = h.scid.slice();
    c.peerCids.replaceInitial(h.scid);
  }
  const type = spaceId === PacketSpace.Initial ? 'initial' : 'handshake';
  if (c.qlog !== undefined) logReceived(c, type, pn, pkt.length, payload, now);
  const ackEliciting = processFrames(
    c,
    payload,
    spaceId === PacketSpace.Initial ? 'I' : 'H',
    spaceId,
    h.dcid,
    now,
  );
  if (c.spaces[spaceId].discarded) return Outcome.Processed;
  s.received.onPacketReceived(pn, ackEliciting, now);
  if (c.role === 'server' && spaceId === PacketSpace.Handshake) {
    // RFC 9000 §8.1: a Handshake packet proves the client received our Initial: its address is
    // validated. RFC 9001 §4.9.1: the server discards Initial keys on its first Handshake packet.
    c.path.amp.setValidated();
    c.loss.setAmplificationBlocked(false, now);
    discardSpace(c, PacketSpace.Initial, now);
  }
  c.onPacketProcessed(now);
  return Outcome.Processed;
}

function receiveShort(
  c: ConnectionCore,
  pkt: Uint8Array,
  pnOffset: number,
  dcid: Uint8Array,
  remote: string,
  datagramSize: number,
  now: number,
): Outcome {
  const keys = c.oneRtt;
  // RFC 9001 §5.7: a server MUST NOT process 1-RTT packets before the handshake completes.
  if (keys === undefined || (c.role === 'server' && !c.handshakeComplete)) {
    return buffer(c, pkt, remote);
  }
  const app = c.appSpace;
  let pn: number;
  let pnLength: number;
  let payloadLength: number;
  let choice: ReturnType<typeof keys.readKeysFor>['choice'];
  try {
    const hdr = keys.headerKeys.unprotectHeader(pkt, pnOffset, app.received.largestReceived);
    pn = hdr.pn;
    pnLength = hdr.pnLength;
    const pick = keys.readKeysFor(keyPhaseOf(pkt[0]), pn);
    choice = pick.choice;
    payloadLength = pick.keys.decrypt(pkt, pnOffset, pnLength, pn);
  } catch (err) {
    if (!(err instanceof CryptoError)) throw err;
    c.undecryptable++;
    // RFC 9001 §6.6: past the integrity limit "the endpoint MUST immediately close the connection
    // with a connection error of type AEAD_LIMIT_REACHED".
    if (err instanceof AeadError && keys.onAuthFailure()) {
      throw new TransportError(
        TransportErrorCode.AEAD_LIMIT_REACHED,
        'AEAD integrity limit reached',
      );
    }
    return Outcome.Dropped;
  }
  // RFC 9000 §17.3.1: non-zero reserved bits are a PROTOCOL_VIOLATION.
  if (shortHeaderReservedBits(pkt[0]) !== 0) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      'reserved bits set in a short header',
    );
  }
  if (app.received.isDuplicate(pn)) return Outcome.Processed;
  keys.onOpened(choice, pn, now, c.pto());
  const largestBefore = app.received.largestReceived;
  const payloadOffset = pnOffset + pnLength;
  const payload = pkt.subarray(payloadOffset, payloadOffset + payloadLength);
  c.nonProbing = false;
  c.rxRemote = remote;
  c.rxDatagramSize = datagramSize;
  if (c.qlog !== undefined) logReceived(c, '1rtt', pn, pkt.length, payload, now);
  const ackEliciting = processFrames(c, payload, '1', PacketSpace.ApplicationData, dcid, now);
  app.received.onPacketReceived(pn, ackEliciting, now);
  // RFC 9000 §9.3: a non-probing packet with the largest packet number so far from a new address
  // moves the connection there.
  if (remote !== c.path.remote && c.nonProbing && pn > largestBefore && !c.terminated) {
    onPathChange(c, remote, datagramSize, now);
  }
  c.onPacketProcessed(now);
  return Outcome.Processed;
}

/**
 * Processes every frame of a payload and returns whether the packet is ack-eliciting. Sets
 * `c.nonProbing` when a frame other than PATH_CHALLENGE, PATH_RESPONSE, NEW_CONNECTION_ID and
 * PADDING is seen (RFC 9000 §9.1).
 */
function processFrames(
  c: ConnectionCore,
  payload: Uint8Array,
  type: PacketType,
  space: PacketSpace,
  dcid: Uint8Array,
  now: number,
): boolean {
  // RFC 9000 §12.4: "An endpoint MUST treat receipt of a packet containing no frames as a
  // connection error of type PROTOCOL_VIOLATION."
  if (payload.length === 0) {
    throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet contains no frames');
  }
  const ctx: PacketContext = { space, dcid, now };
  const r = new ByteReader(payload);
  let ackEliciting = false;
  while (!r.done) {
    const f = readFrame(r, type);
    const k = f.kind;
    if (k !== 'ACK' && k !== 'PADDING' && k !== 'CONNECTION_CLOSE') ackEliciting = true;
    if (
      k !== 'PATH_CHALLENGE' &&
      k !== 'PATH_RESPONSE' &&
      k !== 'NEW_CONNECTION_ID' &&
      k !== 'PADDING'
    ) {
      c.nonProbing = true;
    }
    handleFrame(c, f, ctx);
    if (c.terminated) break;
  }
  return ackEliciting;
}

/** qlog `transport:packet_received` with a frame summary (only when a qlog sink is set). */
function logReceived(
  c: ConnectionCore,
  type: string,
  pn: number,
  size: number,
  payload: Uint8Array,
  now: number,
): void {
  const frames: QlogFrame[] = [];
  try {
    const r = new ByteReader(payload);
    while (!r.done)
      frames.push(qlogFrame(readFrame(r, type === '1rtt' ? '1' : type === 'initial' ? 'I' : 'H')));
  } catch {
    frames.push({ frame_type: '(invalid)' });
  }
  c.qlog?.(qlogPacket('transport:packet_received', now, type, pn, size, frames));
}

function buffer(c: ConnectionCore, pkt: Uint8Array, remote: string): Outcome {
  if (c.buffered.length < MAX_BUFFERED) c.buffered.push({ bytes: pkt.slice(), remote });
  return Outcome.Buffered;
}

/** Retries packets that were waiting for keys (new keys may have been installed). */
function retryBuffered(c: ConnectionCore, now: number): void {
  if (c.buffered.length === 0) return;
  const ready = c.handshakeSpace.readKeys !== undefined || c.oneRtt !== undefined;
  if (!ready) return;
  const list = c.buffered.splice(0);
  for (const b of list) {
    if (c.terminated) return;
    const split = splitDatagram(b.bytes, c.cidLength);
    for (const p of split.packets) receivePacket(c, p, b.remote, b.bytes.length, now);
  }
}

/** RFC 9000 §17.2.5.2: the client accepts one valid Retry before any server Initial. */
function onRetry(c: ConnectionCore, h: RetryHeader, pkt: Uint8Array, now: number): void {
  if (c.role !== 'client' || c.retrySourceCid !== undefined || c.peerInitialScid !== undefined)
    return;
  if (h.token.length === 0) return;
  if (bytesEqual(h.scid, c.originalDcid)) return;
  if (!verifyRetryTag(c.originalDcid, pkt)) return;
  c.retrySourceCid = h.scid.slice();
  c.initialToken = h.token.slice();
  c.peerCids.replaceInitial(h.scid);
  // New Initial keys from the Retry's SCID (RFC 9001 §5.2); packet numbers continue (RFC 9000
  // §17.2.5.3), and everything sent in Initial packets is sent again.
  const keys = initialKeys(h.scid);
  const s = c.initialSpace;
  s.writeKeys = PacketProtector.fromKeys(0x1301, keys.client);
  s.readKeys = PacketProtector.fromKeys(0x1301, keys.server);
  c.loss.discardPacketsBelow(PacketSpace.Initial, s.nextPn, now);
  s.crypto.retransmitAll();
}

/**
 * RFC 9000 §6.2: a client that receives Version Negotiation listing no version it supports
 * abandons the attempt; one that lists the version in use is ignored.
 */
function onVersionNegotiation(c: ConnectionCore, h: VersionNegotiationHeader): void {
  if (c.role !== 'client' || c.peerInitialScid !== undefined || c.state !== 'handshaking') return;
  if (h.versions.includes(QUIC_V1)) return;
  // It must echo our connection IDs (RFC 9000 §17.2.1).
  if (!bytesEqual(h.dcid, c.localCids.initial.cid) || !bytesEqual(h.scid, c.originalDcid)) return;
  c.finish({
    errorCode: 0,
    reason: `version negotiation: server supports ${h.versions.map((v) => `0x${v.toString(16)}`).join(', ')}`,
    app: false,
    byPeer: true,
    cause: 'close',
  });
}
