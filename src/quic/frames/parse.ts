/**
 * Packet payload decoding (RFC 9000 §12.4): a sequence of frames, each checked against the
 * packet type that carries it. Every failure is a {@link TransportError}:
 * - badly formatted or unknown frame: FRAME_ENCODING_ERROR,
 * - frame not allowed in this packet type, empty payload, or over-long frame type encoding:
 *   PROTOCOL_VIOLATION.
 */
import { ByteReader, varintLength } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { parseAck } from './ack.js';
import { parseAckFrequency } from './ack-frequency.js';
import { parseConnectionClose } from './close.js';
import { parseNewConnectionId, parseRetireConnectionId } from './connection-ids.js';
import {
  parseDataBlocked,
  parseMaxData,
  parseMaxStreamData,
  parseNewToken,
  parsePathData,
  parseStreamCount,
  parseStreamDataBlocked,
} from './control.js';
import { parseDatagram } from './datagram.js';
import { parseCrypto, parseResetStream, parseStopSending, parseStream } from './stream.js';
import { type Frame, FrameType, frameTypeInfo, type PacketType, PacketTypeBit } from './types.js';

const PING: Frame = Object.freeze({ kind: 'PING' });
const HANDSHAKE_DONE: Frame = Object.freeze({ kind: 'HANDSHAKE_DONE' });
const IMMEDIATE_ACK: Frame = Object.freeze({ kind: 'IMMEDIATE_ACK' });

/**
 * Reads one frame at the reader's position, which must not be at the end. `packetType` decides
 * which frames are allowed (RFC 9000 §12.4 Table 3).
 */
export function readFrame(r: ByteReader, packetType: PacketType): Frame {
  let type = 0;
  try {
    const typeLength = r.peekVarintLength();
    type = r.varintClamped();
    const info = frameTypeInfo(type);
    // RFC 9000 §12.4: "An endpoint MUST treat the receipt of a frame of unknown type as a
    // connection error of type FRAME_ENCODING_ERROR."
    if (info === undefined) {
      throw new TransportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `unknown frame type 0x${type.toString(16)}`,
        type,
      );
    }
    // RFC 9000 §12.4: "a frame type MUST use the shortest possible encoding ... An endpoint MAY
    // treat the receipt of a frame type that uses a longer encoding than necessary as a
    // connection error of type PROTOCOL_VIOLATION." RFC 9000's types take one byte, ACK_FREQUENCY
    // (0xaf) two.
    if (typeLength !== 1 && typeLength !== varintLength(type)) {
      throw new TransportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `frame type 0x${type.toString(16)} encoded in ${typeLength} bytes`,
        type,
      );
    }
    // RFC 9000 §12.4: "An endpoint MUST treat receipt of a frame in a packet type that is not
    // permitted as a connection error of type PROTOCOL_VIOLATION."
    if ((info.packets & PacketTypeBit[packetType]) === 0) {
      throw new TransportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `${info.kind} frame (0x${type.toString(16)}) not allowed in packet type ${packetType}`,
        type,
      );
    }
    return readBody(r, type);
  } catch (err) {
    throw TransportError.fromCodec(err, type);
  }
}

function readBody(r: ByteReader, type: number): Frame {
  switch (type) {
    case FrameType.PADDING: {
      // Collapse the run of 0x00 bytes into one frame.
      let length = 1;
      while (!r.done && r.peekU8() === 0) {
        r.skip(1);
        length++;
      }
      return { kind: 'PADDING', length };
    }
    case FrameType.PING:
      return PING;
    case FrameType.ACK:
    case FrameType.ACK_ECN:
      return parseAck(r, type);
    case FrameType.RESET_STREAM:
      return parseResetStream(r);
    case FrameType.STOP_SENDING:
      return parseStopSending(r);
    case FrameType.CRYPTO:
      return parseCrypto(r, type);
    case FrameType.NEW_TOKEN:
      return parseNewToken(r, type);
    case FrameType.MAX_DATA:
      return parseMaxData(r);
    case FrameType.MAX_STREAM_DATA:
      return parseMaxStreamData(r);
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI:
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI:
      return parseStreamCount(r, type);
    case FrameType.DATA_BLOCKED:
      return parseDataBlocked(r);
    case FrameType.STREAM_DATA_BLOCKED:
      return parseStreamDataBlocked(r);
    case FrameType.NEW_CONNECTION_ID:
      return parseNewConnectionId(r, type);
    case FrameType.RETIRE_CONNECTION_ID:
      return parseRetireConnectionId(r);
    case FrameType.PATH_CHALLENGE:
    case FrameType.PATH_RESPONSE:
      return parsePathData(r, type);
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APP:
      return parseConnectionClose(r, type);
    case FrameType.HANDSHAKE_DONE:
      return HANDSHAKE_DONE;
    case FrameType.DATAGRAM:
    case FrameType.DATAGRAM_LEN:
      return parseDatagram(r, type);
    case FrameType.IMMEDIATE_ACK:
      return IMMEDIATE_ACK;
    case FrameType.ACK_FREQUENCY:
      return parseAckFrequency(r);
    default:
      // STREAM 0x08..0x0f: the only remaining known types.
      return parseStream(r, type);
  }
}

/**
 * Calls `visit` for each frame of a decrypted packet payload, in order. Frames are decoded as
 * they are visited, so frames before a malformed one have already been seen when it throws:
 * the caller must treat the whole packet as failed (the error closes the connection).
 */
export function forEachFrame(
  payload: Uint8Array,
  packetType: PacketType,
  visit: (frame: Frame) => void,
): void {
  // RFC 9000 §12.4: "An endpoint MUST treat receipt of a packet containing no frames as a
  // connection error of type PROTOCOL_VIOLATION."
  if (payload.length === 0) {
    throw new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet contains no frames');
  }
  const r = new ByteReader(payload);
  while (!r.done) visit(readFrame(r, packetType));
}

/** All frames of a decrypted packet payload, in order (see {@link forEachFrame}). */
export function parseFrames(payload: Uint8Array, packetType: PacketType): Frame[] {
  const frames: Frame[] = [];
  forEachFrame(payload, packetType, (f) => frames.push(f));
  return frames;
}
