/**
 * Bridging TLS and QUIC (RFC 9001 §4): CRYPTO bytes in order to TLS, TLS output into CRYPTO
 * streams, secrets into packet protection, transport parameters in both directions (RFC 9000 §7.3,
 * §18), handshake completion and confirmation, and key discarding (RFC 9001 §4.9).
 */

import { QuicProtocolViolation } from '../../tls/quic.js';
import { bytesEqual } from '../../wire/index.js';
import { cryptoErrorCode, TransportError, TransportErrorCode } from '../errors.js';
import { PacketProtector } from '../protection/index.js';
import { PacketSpace } from '../recovery/index.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  resolveTransportParameters,
  type TransportParameters,
} from '../transport-params/index.js';
import { AckFrequencySender } from './ack-frequency.js';
import type { ConnectionCore } from './core.js';
import { OneRttKeys } from './one-rtt-keys.js';
import { startPmtud, syncPmtu } from './pmtu.js';
import { deliverStreamEvents } from './stream-events.js';
import { alertOf, SERVER_TLS_DONE, type TlsLevel } from './tls-adapter.js';

const LEVEL_SPACE: Record<TlsLevel, PacketSpace> = {
  initial: PacketSpace.Initial,
  handshake: PacketSpace.Handshake,
  application: PacketSpace.ApplicationData,
};

/** Our transport parameters (RFC 9000 §18.2) from the settings and the CIDs of the handshake. */
export function localTransportParameters(
  c: ConnectionCore,
  extra: Partial<TransportParameters> | undefined,
): Uint8Array {
  const s = c.settings;
  const p: TransportParameters = {
    ...extra,
    maxIdleTimeout: s.maxIdleTimeout,
    // RFC 9000 §18.2: "the maximum size of UDP payloads that the endpoint is willing to
    // receive" — our receive limit, not what we send (peers cap their packets to us by it).
    maxUdpPayloadSize: s.maxUdpPayloadSize,
    initialMaxData: s.initialMaxData,
    initialMaxStreamDataBidiLocal: s.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: s.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: s.initialMaxStreamDataUni,
    initialMaxStreamsBidi: s.initialMaxStreamsBidi,
    initialMaxStreamsUni: s.initialMaxStreamsUni,
    ackDelayExponent: s.ackDelayExponent,
    maxAckDelay: s.maxAckDelay,
    activeConnectionIdLimit: s.activeConnectionIdLimit,
    initialSourceConnectionId: c.localCids.initial.cid,
  };
  if (s.disableActiveMigration) p.disableActiveMigration = true;
  if (s.maxDatagramFrameSize > 0) p.maxDatagramFrameSize = s.maxDatagramFrameSize;
  if (s.minAckDelay > 0) p.minAckDelay = s.minAckDelay;
  if (c.role === 'server') {
    // RFC 9000 §7.3: the server always sends original_destination_connection_id, and
    // retry_source_connection_id after a Retry; stateless_reset_token for its handshake CID.
    p.originalDestinationConnectionId = c.originalDcid;
    if (c.retrySourceCid !== undefined) p.retrySourceConnectionId = c.retrySourceCid;
    p.statelessResetToken = c.localCids.initial.resetToken;
  }
  return encodeTransportParameters(p);
}

/**
 * Decodes, validates and applies the peer's transport parameters. RFC 9000 §7.3: a missing or
 * mismatched connection ID parameter "MUST [be treated] as a connection error of type
 * TRANSPORT_PARAMETER_ERROR".
 */
export function applyPeerTransportParameters(c: ConnectionCore, raw: Uint8Array): void {
  if (c.peerParams !== undefined) return;
  const peerRole = c.role === 'client' ? 'server' : 'client';
  const p = decodeTransportParameters(raw, peerRole);
  const bad = (reason: string): TransportError =>
    new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
  const peerScid = c.peerInitialScid;
  if (p.initialSourceConnectionId === undefined) throw bad('initial_source_connection_id missing');
  if (peerScid !== undefined && !bytesEqual(p.initialSourceConnectionId, peerScid)) {
    throw bad('initial_source_connection_id does not match the Source Connection ID');
  }
  if (c.role === 'client') {
    if (p.originalDestinationConnectionId === undefined) {
      throw bad('original_destination_connection_id missing');
    }
    if (!bytesEqual(p.originalDestinationConnectionId, c.originalDcid)) {
      throw bad('original_destination_connection_id does not match our first DCID');
    }
    if (c.retrySourceCid !== undefined) {
      if (
        p.retrySourceConnectionId === undefined ||
        !bytesEqual(p.retrySourceConnectionId, c.retrySourceCid)
      ) {
        throw bad('retry_source_connection_id does not match the Retry');
      }
    } else if (p.retrySourceConnectionId !== undefined) {
      throw bad('retry_source_connection_id without a Retry');
    }
  }
  const r = resolveTransportParameters(p);
  // RFC 9000 §18.2 value ranges the decoder leaves to us.
  if (r.maxUdpPayloadSize < 1200) throw bad('max_udp_payload_size below 1200');
  if (r.ackDelayExponent > 20) throw bad('ack_delay_exponent above 20');
  if (r.maxAckDelay >= 2 ** 14) throw bad('max_ack_delay of 2^14 or more');
  const supportsAckFrequency = c.settings.minAckDelay > 0 || c.ackFrequencyPolicy !== false;
  // draft-ietf-quic-ack-frequency-14 §3: "Endpoints that support this extension MUST treat
  // receipt of a min_ack_delay that is greater than the max_ack_delay as a connection error of
  // type TRANSPORT_PARAMETER_ERROR" (microseconds against milliseconds).
  if (supportsAckFrequency && r.minAckDelay !== undefined && r.minAckDelay > r.maxAckDelay * 1000) {
    throw bad(`min_ack_delay ${r.minAckDelay} us above max_ack_delay ${r.maxAckDelay} ms`);
  }
  c.localCids.setPeerLimit(r.activeConnectionIdLimit);
  c.peerParams = r;
  c.streams.setPeerParameters(r);
  c.rtt.maxAckDelay = r.maxAckDelay;
  if (r.minAckDelay !== undefined && c.ackFrequencyPolicy !== false) {
    c.ackFrequency = new AckFrequencySender(r.minAckDelay, r.maxAckDelay, c.ackFrequencyPolicy);
  }
  c.applyPeerIdleTimeout(r.maxIdleTimeout);
  // RFC 9000 §14: the peer's max_udp_payload_size is "an additional limit on the maximum
  // datagram size": it caps PMTU discovery.
  c.limitPmtuCeiling(r.maxUdpPayloadSize);
  syncPmtu(c, c.lastNow);
  if (c.role === 'client' && r.statelessResetToken !== undefined) {
    c.peerCids.setInitialResetToken(r.statelessResetToken);
  }
}

/** Feeds newly contiguous CRYPTO bytes of `space` to TLS, then handles what TLS produced. */
export function feedCrypto(c: ConnectionCore, space: PacketSpace, now: number): void {
  const level: TlsLevel =
    space === PacketSpace.Initial
      ? 'initial'
      : space === PacketSpace.Handshake
        ? 'handshake'
        : 'application';
  const crypto = c.spaces[space].crypto;
  for (let data = crypto.read(); data !== null; data = crypto.read()) {
    tlsCall(() => c.tls.receive(level, data, now));
  }
  pumpTls(c, now);
}

/**
 * Runs a TLS call, turning a TLS alert into CRYPTO_ERROR (RFC 9001 §4.8) and TLS's
 * `QuicProtocolViolation` into PROTOCOL_VIOLATION.
 */
export function tlsCall(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof QuicProtocolViolation) {
      throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, err.message, 0, {
        cause: err,
      });
    }
    const alert = alertOf(err);
    if (alert !== undefined && !(err instanceof TransportError)) {
      throw new TransportError(cryptoErrorCode(alert), (err as Error).message, 0, { cause: err });
    }
    throw err;
  }
}

/** Applies every pending TLS event. */
export function pumpTls(c: ConnectionCore, now: number): void {
  for (let ev = c.tls.poll(); ev !== undefined; ev = c.tls.poll()) {
    switch (ev.kind) {
      case 'send':
        c.spaces[LEVEL_SPACE[ev.level]].crypto.write(ev.data);
        break;
      case 'keys':
        installKeys(c, ev.level, ev.direction, ev.suite, ev.secret);
        break;
      case 'complete':
        onComplete(c, ev.alpn, ev.peerTransportParams, ev.resumed, now);
        break;
      case 'ticket':
        c.ticket = ev.ticket;
        break;
      case 'keylog':
        c.keylog?.(ev.line);
        break;
    }
  }
  // Every event of the server's last flight is applied: its TLS session has nothing left to do.
  if (c.role === 'server' && c.handshakeComplete) c.tls = SERVER_TLS_DONE;
}

function installKeys(
  c: ConnectionCore,
  level: 'handshake' | 'application' | 'early',
  direction: 'read' | 'write',
  suite: Parameters<typeof PacketProtector.fromSecret>[0],
  secret: Uint8Array,
): void {
  if (level === 'early') return; // 0-RTT is not supported.
  if (level === 'handshake') {
    const space = c.handshakeSpace;
    if (space.discarded) return;
    const keys = PacketProtector.fromSecret(suite, secret);
    if (direction === 'read') space.readKeys = keys;
    else space.writeKeys = keys;
    if (c.role === 'client') c.loss.setHasHandshakeKeys();
    return;
  }
  if (direction === 'read') c.pendingRead1Rtt = { suite, secret };
  else c.pendingWrite1Rtt = { suite, secret };
  const r = c.pendingRead1Rtt;
  const w = c.pendingWrite1Rtt;
  if (r !== undefined && w !== undefined && c.oneRtt === undefined) {
    c.oneRtt = new OneRttKeys(r.suite, r.secret, w.secret, c.aeadLimits);
    c.pendingRead1Rtt = undefined;
    c.pendingWrite1Rtt = undefined;
  }
}

function onComplete(
  c: ConnectionCore,
  alpn: string,
  peerParams: Uint8Array,
  resumed: boolean,
  now: number,
): void {
  applyPeerTransportParameters(c, peerParams);
  c.handshakeComplete = true;
  c.alpn = alpn;
  c.resumed = resumed;
  if (c.state === 'handshaking') c.state = 'established';
  // Announce extra CIDs (RFC 9000 §5.1.1) once 1-RTT keys exist.
  issueCids(c);
  if (c.role === 'server') {
    // RFC 9001 §4.1.2: "the TLS handshake is considered confirmed at the server when the
    // handshake completes"; the server MUST send HANDSHAKE_DONE.
    c.handshakeDonePending = true;
    confirmHandshake(c, now);
  }
  c.emit({ type: 'handshake-complete', alpn, resumed });
  // The peer's limits opened streams: report streams-available after handshake-complete.
  deliverStreamEvents(c);
}

/** Issues CIDs up to the peer's limit and queues NEW_CONNECTION_ID frames for them. */
export function issueCids(c: ConnectionCore): void {
  if (c.peerParams === undefined) return;
  for (const e of c.localCids.issue()) c.newCidQueue.push(e.seq);
  c.drainCidEvents();
}

/**
 * The handshake is confirmed (RFC 9001 §4.1.2): Handshake keys are discarded (§4.9.2), ACK delays
 * are capped, and the Application space's PTO may be armed.
 */
export function confirmHandshake(c: ConnectionCore, now: number): void {
  if (c.handshakeConfirmed) return;
  c.handshakeConfirmed = true;
  discardSpace(c, PacketSpace.Initial, now);
  discardSpace(c, PacketSpace.Handshake, now);
  c.loss.setHandshakeConfirmed(now);
  // A confirmed handshake proves the client owns its address (RFC 9000 §8.1).
  c.path.amp.setValidated();
  // RFC 9000 §14.3.1: DPLPMTUD may enter its BASE state once the handshake is done.
  startPmtud(c, now);
}

/** Discards the keys and state of the Initial or Handshake space (RFC 9001 §4.9). */
export function discardSpace(c: ConnectionCore, space: PacketSpace, now: number): void {
  const s = c.spaces[space];
  if (s.discarded) return;
  s.discard();
  c.loss.discardSpace(space, now);
}
