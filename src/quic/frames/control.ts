/**
 * Flow-control and path frames: MAX_DATA (RFC 9000 §19.9), MAX_STREAM_DATA (§19.10),
 * MAX_STREAMS (§19.11), DATA_BLOCKED (§19.12), STREAM_DATA_BLOCKED (§19.13),
 * STREAMS_BLOCKED (§19.14), NEW_TOKEN (§19.7), PATH_CHALLENGE / PATH_RESPONSE (§19.17-18).
 *
 * Byte limits are clamped reads (`Number.MAX_SAFE_INTEGER` = unlimited, see `limitOnWire`).
 */
import { type ByteReader, type ByteWriter, CodecError } from '../../wire/index.js';
import {
  checkSize,
  encodingError,
  limitOnWire,
  MAX_STREAM_COUNT,
  readStreamCount,
  vlen,
  writeLimit,
} from './codec.js';
import {
  type DataBlockedFrame,
  FrameType,
  type MaxDataFrame,
  type MaxStreamDataFrame,
  type MaxStreamsFrame,
  type NewTokenFrame,
  type PathChallengeFrame,
  type PathResponseFrame,
  type StreamDataBlockedFrame,
  type StreamsBlockedFrame,
} from './types.js';

/** Size of PATH_CHALLENGE / PATH_RESPONSE data (RFC 9000 §19.17: "Data (64)"). */
export const PATH_DATA_LENGTH = 8;

// MAX_DATA Frame { Type (i) = 0x10, Maximum Data (i) }
export function parseMaxData(r: ByteReader): MaxDataFrame {
  return { kind: 'MAX_DATA', maximum: r.varintClamped() };
}

// DATA_BLOCKED Frame { Type (i) = 0x14, Maximum Data (i) }
export function parseDataBlocked(r: ByteReader): DataBlockedFrame {
  return { kind: 'DATA_BLOCKED', maximum: r.varintClamped() };
}

export function writeConnectionLimit(w: ByteWriter, f: MaxDataFrame | DataBlockedFrame): void {
  w.u8(f.kind === 'MAX_DATA' ? FrameType.MAX_DATA : FrameType.DATA_BLOCKED);
  writeLimit(w, f.maximum);
}

export function connectionLimitLength(f: MaxDataFrame | DataBlockedFrame): number {
  return 1 + vlen(limitOnWire(f.maximum));
}

// MAX_STREAM_DATA Frame { Type (i) = 0x11, Stream ID (i), Maximum Stream Data (i) }
export function parseMaxStreamData(r: ByteReader): MaxStreamDataFrame {
  const streamId = r.varint();
  return { kind: 'MAX_STREAM_DATA', streamId, maximum: r.varintClamped() };
}

// STREAM_DATA_BLOCKED Frame { Type (i) = 0x15, Stream ID (i), Maximum Stream Data (i) }
export function parseStreamDataBlocked(r: ByteReader): StreamDataBlockedFrame {
  const streamId = r.varint();
  return { kind: 'STREAM_DATA_BLOCKED', streamId, maximum: r.varintClamped() };
}

export function writeStreamLimit(
  w: ByteWriter,
  f: MaxStreamDataFrame | StreamDataBlockedFrame,
): void {
  w.u8(f.kind === 'MAX_STREAM_DATA' ? FrameType.MAX_STREAM_DATA : FrameType.STREAM_DATA_BLOCKED);
  w.varint(f.streamId);
  writeLimit(w, f.maximum);
}

export function streamLimitLength(f: MaxStreamDataFrame | StreamDataBlockedFrame): number {
  return 1 + vlen(f.streamId) + vlen(limitOnWire(f.maximum));
}

// MAX_STREAMS Frame { Type (i) = 0x12..0x13, Maximum Streams (i) }
// STREAMS_BLOCKED Frame { Type (i) = 0x16..0x17, Maximum Streams (i) }
export function parseStreamCount(
  r: ByteReader,
  type: number,
): MaxStreamsFrame | StreamsBlockedFrame {
  const maximum = readStreamCount(r);
  // RFC 9000 §19.11: a limit above 2^60 "MUST be treated as a connection error of type
  // FRAME_ENCODING_ERROR"; §19.14 allows STREAM_LIMIT_ERROR or FRAME_ENCODING_ERROR.
  if (maximum < 0) throw encodingError(type, 'stream count above 2^60');
  const bidi = (type & 1) === 0;
  const isMax = type === FrameType.MAX_STREAMS_BIDI || type === FrameType.MAX_STREAMS_UNI;
  return { kind: isMax ? 'MAX_STREAMS' : 'STREAMS_BLOCKED', bidi, maximum };
}

export function streamCountFrameType(f: MaxStreamsFrame | StreamsBlockedFrame): number {
  if (f.kind === 'MAX_STREAMS')
    return f.bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI;
  return f.bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI;
}

export function writeStreamCount(w: ByteWriter, f: MaxStreamsFrame | StreamsBlockedFrame): void {
  w.u8(streamCountFrameType(f));
  writeLimit(w, f.maximum, MAX_STREAM_COUNT);
}

export function streamCountLength(f: MaxStreamsFrame | StreamsBlockedFrame): number {
  return 1 + vlen(limitOnWire(f.maximum, MAX_STREAM_COUNT));
}

// NEW_TOKEN Frame { Type (i) = 0x07, Token Length (i), Token (..) }
export function parseNewToken(r: ByteReader, type: number): NewTokenFrame {
  const token = r.bytes(r.varint());
  // RFC 9000 §19.7: "A client MUST treat receipt of a NEW_TOKEN frame with an empty Token field
  // as a connection error of type FRAME_ENCODING_ERROR."
  if (token.length === 0) throw encodingError(type, 'NEW_TOKEN with an empty token');
  return { kind: 'NEW_TOKEN', token };
}

export function writeNewToken(w: ByteWriter, f: NewTokenFrame): void {
  if (f.token.length === 0) throw new CodecError('MALFORMED', 'NEW_TOKEN token must not be empty');
  w.u8(FrameType.NEW_TOKEN).vecVarint(f.token);
}

export function newTokenLength(f: NewTokenFrame): number {
  return 1 + vlen(f.token.length) + f.token.length;
}

// PATH_CHALLENGE Frame { Type (i) = 0x1a, Data (64) }; PATH_RESPONSE likewise with 0x1b.
export function parsePathData(r: ByteReader, type: number): PathChallengeFrame | PathResponseFrame {
  const data = r.bytes(PATH_DATA_LENGTH);
  return { kind: type === FrameType.PATH_CHALLENGE ? 'PATH_CHALLENGE' : 'PATH_RESPONSE', data };
}

export function writePathData(w: ByteWriter, f: PathChallengeFrame | PathResponseFrame): void {
  checkSize(f.kind, f.data, PATH_DATA_LENGTH);
  w.u8(f.kind === 'PATH_CHALLENGE' ? FrameType.PATH_CHALLENGE : FrameType.PATH_RESPONSE);
  w.bytes(f.data);
}
