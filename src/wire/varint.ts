/**
 * QUIC variable-length integers (RFC 9000 §16), as free functions for hot paths that work on a
 * raw buffer and offset. {@link ByteReader} and {@link ByteWriter} build on these.
 *
 * Number policy (decided once, for the whole code base):
 * - `number` wherever a value is exact: decoders return `number` and throw
 *   `CodecError('VARINT_RANGE')` for values above `Number.MAX_SAFE_INTEGER` (2^53 - 1).
 * - `bigint` through the `*Big` variants where a value may legitimately reach 2^62 - 1 and must
 *   stay exact (RFC 9000 §A.1's 151288809941952652, grease identifiers compared for duplicates).
 * - `clamped` reads (`decodeVarintClamped`) for values whose only meaning beyond 2^53 is "huge"
 *   (flow-control limits) or "unknown" (error codes, types to skip): they saturate at
 *   `Number.MAX_SAFE_INTEGER`, which no registered code point uses.
 * - Writers accept `number` or `bigint` and reject negatives, non-integers and values >= 2^62.
 */
import { CodecError } from './errors.js';

/** 2^62 - 1, the largest value a QUIC varint can carry. */
export const VARINT_MAX = (1n << 62n) - 1n;
const TWO_POW_32 = 0x1_0000_0000;

/** Bytes needed to encode `value` minimally (1, 2, 4 or 8). Throws VARINT_RANGE when out of range. */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof value === 'bigint') {
    if (value < 0n || value > VARINT_MAX) throw rangeError(value);
    if (value < 0x40n) return 1;
    if (value < 0x4000n) return 2;
    if (value < 0x4000_0000n) return 4;
    return 8;
  }
  if (!Number.isSafeInteger(value) || value < 0) throw rangeError(value);
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x4000_0000) return 4;
  return 8;
}

/** The encoded length announced by a varint's first byte (its two high bits). */
export function varintLengthFromFirstByte(first: number): 1 | 2 | 4 | 8 {
  return (1 << (first >> 6)) as 1 | 2 | 4 | 8;
}

/**
 * Writes `value` at `offset` using `length` bytes (the minimal length when omitted) and returns
 * the offset after it. A longer-than-minimal length is allowed (RFC 9000 §16 permits it; QUIC
 * uses it to reserve a fixed-size Length field before the payload is known).
 */
export function encodeVarint(
  buf: Uint8Array,
  offset: number,
  value: number | bigint,
  length?: 1 | 2 | 4 | 8,
): number {
  const min = varintLength(value);
  const len = length ?? min;
  if (len < min)
    throw new CodecError('VARINT_RANGE', `value ${value} does not fit in ${len} bytes`);
  if (offset + len > buf.length) {
    throw new CodecError('TOO_LARGE', `no room for a ${len}-byte varint at offset ${offset}`);
  }
  if (len === 8) {
    const big = typeof value === 'bigint' ? value : BigInt(value);
    const hi = Number(big >> 32n);
    const lo = Number(big & 0xffff_ffffn);
    buf[offset] = 0xc0 | (hi >>> 24);
    buf[offset + 1] = hi >>> 16;
    buf[offset + 2] = hi >>> 8;
    buf[offset + 3] = hi;
    buf[offset + 4] = lo >>> 24;
    buf[offset + 5] = lo >>> 16;
    buf[offset + 6] = lo >>> 8;
    buf[offset + 7] = lo;
    return offset + 8;
  }
  const v = Number(value);
  switch (len) {
    case 1:
      // 1-byte encoding: 00xxxxxx
      buf[offset] = v;
      return offset + 1;
    case 2:
      // 2-byte encoding: 01xxxxxx xxxxxxxx
      buf[offset] = 0x40 | (v >>> 8);
      buf[offset + 1] = v;
      return offset + 2;
    default:
      // 4-byte encoding: 10xxxxxx + 3 bytes
      buf[offset] = 0x80 | (v >>> 24);
      buf[offset + 1] = v >>> 16;
      buf[offset + 2] = v >>> 8;
      buf[offset + 3] = v;
      return offset + 4;
  }
}

/** Result slot reused by {@link decodeVarint} so hot paths allocate nothing. */
export interface VarintResult {
  value: number;
  /** Offset just past the varint. */
  next: number;
}

/**
 * Decodes a varint at `offset`, exact as a `number`. Throws TRUNCATED when the buffer ends first
 * and VARINT_RANGE when the value exceeds 2^53 - 1. Writes into `out` when given.
 */
export function decodeVarint(
  buf: Uint8Array,
  offset: number,
  end: number = buf.length,
  out: VarintResult = { value: 0, next: 0 },
): VarintResult {
  if (offset >= end) throw truncated(offset);
  const first = buf[offset];
  const len = varintLengthFromFirstByte(first);
  if (offset + len > end) throw truncated(offset);
  let value: number;
  switch (len) {
    case 1:
      value = first;
      break;
    case 2:
      value = ((first & 0x3f) << 8) | buf[offset + 1];
      break;
    case 4:
      value =
        ((first & 0x3f) * 0x100_0000 +
          (buf[offset + 1] << 16) +
          (buf[offset + 2] << 8) +
          buf[offset + 3]) >>>
        0;
      break;
    default: {
      const hi =
        (first & 0x3f) * 0x100_0000 +
        (buf[offset + 1] << 16) +
        (buf[offset + 2] << 8) +
        buf[offset + 3];
      if (hi > 0x1f_ffff) {
        throw new CodecError('VARINT_RANGE', `varint at offset ${offset} exceeds 2^53 - 1`);
      }
      const lo =
        buf[offset + 4] * 0x100_0000 +
        (buf[offset + 5] << 16) +
        (buf[offset + 6] << 8) +
        buf[offset + 7];
      value = hi * TWO_POW_32 + lo;
    }
  }
  out.value = value;
  out.next = offset + len;
  return out;
}

/** Decodes a varint as an exact `bigint` (any value up to 2^62 - 1). */
export function decodeVarintBig(
  buf: Uint8Array,
  offset: number,
  end: number = buf.length,
): { value: bigint; next: number } {
  if (offset >= end) throw truncated(offset);
  const len = varintLengthFromFirstByte(buf[offset]);
  if (offset + len > end) throw truncated(offset);
  let value = BigInt(buf[offset] & 0x3f);
  for (let i = 1; i < len; i++) value = (value << 8n) | BigInt(buf[offset + i]);
  return { value, next: offset + len };
}

function truncated(offset: number): CodecError {
  return new CodecError('TRUNCATED', `varint truncated at offset ${offset}`);
}

function rangeError(value: number | bigint): CodecError {
  return new CodecError('VARINT_RANGE', `${value} is not a varint value (0 to 2^62 - 1)`);
}
