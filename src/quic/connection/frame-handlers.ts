/**
 * Routes each received frame to the module that owns it (RFC 9000 §19): ACK to recovery, CRYPTO to
 * TLS, stream frames to the stream manager, CID frames to the CID managers, PATH_* to path
 * validation, CONNECTION_CLOSE to the close logic. Table 3 packet-type rules were already
 * enforced by the frame parser.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { type Frame, FrameType } from '../frames/index.js';
import type { PacketSpace } from '../recovery/index.js';
import { onAckFrequencyFrame, onImmediateAckFrame } from './ack-frequency.js';
import { onAckFrame } from './ack-handler.js';
import { enterDraining } from './close.js';
import type { ConnectionCore } from './core.js';
import { confirmHandshake, feedCrypto, issueCids } from './handshake.js';
import { startPmtud } from './pmtu.js';
import { deliverStreamEvents } from './stream-events.js';

/** What a frame handler knows about the packet that carried the frame. */
export interface PacketContext {
  space: PacketSpace;
  /** Destination Connection ID of the packet (RETIRE_CONNECTION_ID check, §19.16). */
  dcid: Uint8Array;
  now: number;
}

const decoder = new TextDecoder();

export function handleFrame(c: ConnectionCore, f: Frame, ctx: PacketContext): void {
  const now = ctx.now;
  switch (f.kind) {
    case 'PADDING':
    case 'PING':
      return;
    case 'IMMEDIATE_ACK':
      onImmediateAckFrame(c, c.spaces[ctx.space].received);
      return;
    case 'ACK_FREQUENCY':
      onAckFrequencyFrame(c, f, now);
      return;
    case 'ACK':
      onAckFrame(c, ctx.space, f, now);
      return;
    case 'CRYPTO': {
      const s = c.spaces[ctx.space];
      s.crypto.onData(f.offset, f.data);
      if (s.crypto.readable > 0) feedCrypto(c, ctx.space, now);
      return;
    }
    case 'NEW_TOKEN':
      // RFC 9000 §19.7: "A server MUST treat receipt of a NEW_TOKEN frame as a connection error
      // of type PROTOCOL_VIOLATION."
      if (c.role === 'server') {
        throw new TransportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'NEW_TOKEN sent by a client',
          FrameType.NEW_TOKEN,
        );
      }
      c.receivedTokens.push(f.token.slice());
      if (c.receivedTokens.length > 4) c.receivedTokens.shift();
      return;
    case 'STREAM':
      c.streams.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
      deliverStreamEvents(c);
      return;
    case 'RESET_STREAM':
      c.streams.onResetStream(f.streamId, f.errorCode, f.finalSize);
      deliverStreamEvents(c);
      return;
    case 'STOP_SENDING':
      c.streams.onStopSending(f.streamId, f.errorCode);
      deliverStreamEvents(c);
      return;
    case 'MAX_DATA':
      c.streams.onMaxData(f.maximum);
      deliverStreamEvents(c);
      return;
    case 'MAX_STREAM_DATA':
      c.streams.onMaxStreamData(f.streamId, f.maximum);
      deliverStreamEvents(c);
      return;
    case 'MAX_STREAMS':
      c.streams.onMaxStreams(f.bidi, f.maximum);
      deliverStreamEvents(c);
      return;
    case 'DATA_BLOCKED':
      c.streams.onDataBlocked(f.maximum);
      return;
    case 'STREAM_DATA_BLOCKED':
      c.streams.onStreamDataBlocked(f.streamId, f.maximum);
      return;
    case 'STREAMS_BLOCKED':
      c.streams.onStreamsBlocked(f.bidi, f.maximum);
      return;
    case 'NEW_CONNECTION_ID':
      c.peerCids.onNewConnectionId(
        f.sequenceNumber,
        f.retirePriorTo,
        f.connectionId,
        f.statelessResetToken,
      );
      return;
    case 'RETIRE_CONNECTION_ID':
      c.localCids.onRetire(f.sequenceNumber, ctx.dcid);
      c.drainCidEvents();
      // RFC 9000 §5.1.1: replace the retired CID so the peer keeps spares.
      issueCids(c);
      return;
    case 'PATH_CHALLENGE':
      c.responder.onChallenge(f.data, c.rxRemote, c.rxDatagramSize);
      return;
    case 'PATH_RESPONSE':
      onPathResponse(c, f.data, now);
      return;
    case 'CONNECTION_CLOSE':
      enterDraining(
        c,
        {
          errorCode: f.errorCode,
          frameType: f.frameType,
          reason: decoder.decode(f.reason),
          app: f.application,
        },
        now,
      );
      return;
    case 'HANDSHAKE_DONE':
      // RFC 9000 §19.20: "A server MUST treat receipt of a HANDSHAKE_DONE frame as a connection
      // error of type PROTOCOL_VIOLATION."
      if (c.role === 'server') {
        throw new TransportError(
          TransportErrorCode.PROTOCOL_VIOLATION,
          'HANDSHAKE_DONE sent by a client',
          FrameType.HANDSHAKE_DONE,
        );
      }
      // RFC 9001 §4.1.2: at the client the handshake is confirmed on HANDSHAKE_DONE.
      confirmHandshake(c, now);
      return;
    case 'DATAGRAM':
      onDatagram(c, f.data, f.implicitLength === true);
      return;
  }
}

function onPathResponse(c: ConnectionCore, data: Uint8Array, now: number): void {
  const path = c.path;
  const v = path.validator;
  if (v === undefined) return;
  const result = v.onResponse(data);
  if (result === 'no-match') return;
  // RFC 9000 §9.3: the new path is validated; the old one is no longer needed.
  path.amp.setValidated();
  c.previousPath = undefined;
  if (result === 'validated-mtu-unverified' && !path.mtuRecheck) {
    // RFC 9000 §8.2.1: the challenge could not be expanded to 1200 bytes, so the endpoint "MUST
    // perform a second path validation" with a datagram of at least 1200 bytes.
    path.mtuRecheck = true;
    v.start(now, c.pto());
    return;
  }
  path.validator = undefined;
  // The new path has its own PMTU (RFC 9000 §14.2): discovery starts there from BASE_PLPMTU.
  startPmtud(c, now);
}

function onDatagram(c: ConnectionCore, data: Uint8Array, implicitLength: boolean): void {
  const max = c.settings.maxDatagramFrameSize;
  // RFC 9221 §3: a DATAGRAM frame when we did not advertise support, or one "larger than the
  // value it sent in its max_datagram_frame_size transport parameter MUST [be treated as a
  // connection error] of type PROTOCOL_VIOLATION". The frame size counts the type and length.
  const size = 1 + (implicitLength ? 0 : varintSize(data.length)) + data.length;
  if (max === 0 || size > max) {
    throw new TransportError(
      TransportErrorCode.PROTOCOL_VIOLATION,
      max === 0
        ? 'DATAGRAM frames were not negotiated'
        : `DATAGRAM frame of ${size} bytes exceeds ${max}`,
      implicitLength ? FrameType.DATAGRAM : FrameType.DATAGRAM_LEN,
    );
  }
  // A view of the received datagram, which the connection was handed (`receive`): no copy. The
  // frame's bytes are not touched again (decryption was in place, before the frames were read).
  c.emit({ type: 'datagram', data });
}

function varintSize(n: number): number {
  return n < 64 ? 1 : n < 16384 ? 2 : n < 1073741824 ? 4 : 8;
}
