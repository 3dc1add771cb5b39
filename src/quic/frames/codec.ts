/**
 * Field helpers shared by the frame codecs: validation errors, stream/crypto end offsets and
 * the "limit" fields whose clamped reads mean "unlimited".
 */
import {
  type ByteReader,
  type ByteWriter,
  CodecError,
  VARINT_MAX,
  varintLength,
} from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';

/** 2^60: the largest stream count MAX_STREAMS / STREAMS_BLOCKED may carry (RFC 9000 §19.11). */
export const MAX_STREAM_COUNT = 1n << 60n;

/** A badly formatted frame (RFC 9000 §12.4): FRAME_ENCODING_ERROR naming the frame type. */
export function encodingError(frameType: number, reason: string): TransportError {
  return new TransportError(TransportErrorCode.FRAME_ENCODING_ERROR, reason, frameType);
}

/**
 * Checks that data at `offset` of `length` bytes ends at a representable offset.
 * RFC 9000 §19.6 / §19.8: the end "cannot exceed 2^62-1 ... MUST be treated as a connection error
 * of type FRAME_ENCODING_ERROR". Offsets are `number`s here (project number policy), so the end
 * must also stay within 2^53 - 1; a larger offset already fails its varint read.
 */
export function checkDataEnd(frameType: number, offset: number, length: number): void {
  if (offset + length > Number.MAX_SAFE_INTEGER) {
    throw encodingError(frameType, `data ends at ${offset} + ${length}, beyond 2^53 - 1`);
  }
}

/** Writer-side twin of {@link checkDataEnd}: a codec error for our own bad input. */
export function checkDataEndForWrite(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > Number.MAX_SAFE_INTEGER) {
    throw new CodecError('VARINT_RANGE', `data end ${offset} + ${length} is not representable`);
  }
}

/**
 * Reads a stream count (MAX_STREAMS, STREAMS_BLOCKED, initial_max_streams_*): exact up to 2^60,
 * clamped to `Number.MAX_SAFE_INTEGER` above 2^53 - 1. Returns -1 when above 2^60 so that each
 * caller raises its own error code.
 */
export function readStreamCount(r: ByteReader): number {
  const v = r.varintBig();
  if (v > MAX_STREAM_COUNT) return -1;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * Limits use `Number.MAX_SAFE_INTEGER` for "unlimited" (that is what a clamped read of anything
 * larger gives). On the wire, unlimited is written as the largest legal value, `max`
 * (2^62 - 1 for byte counts, 2^60 for stream counts), so a decoded limit re-encodes to the bytes
 * a peer most likely sent. Both encodings take 8 bytes, so lengths do not change.
 */
export function limitOnWire(value: number, max: bigint = VARINT_MAX): number | bigint {
  return value === Number.MAX_SAFE_INTEGER ? max : value;
}

export function writeLimit(w: ByteWriter, value: number, max: bigint = VARINT_MAX): void {
  w.varint(limitOnWire(value, max));
}

/** Encoded length of a varint (throws VARINT_RANGE like the writer would). */
export const vlen = varintLength;

/** Fixed-size byte field check for writers (tokens, path data). */
export function checkSize(what: string, bytes: Uint8Array, size: number): void {
  if (bytes.length !== size) {
    throw new CodecError('MALFORMED', `${what} must be ${size} bytes, got ${bytes.length}`);
  }
}
