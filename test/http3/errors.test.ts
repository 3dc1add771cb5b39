import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  H3Error,
  H3ErrorCode,
  h3ErrorName,
  isH3Error,
  isReservedCodePoint,
  isReservedErrorCode,
  RESERVED_N_MAX,
  randomReservedCodePoint,
  reservedCodePoint,
  reservedErrorCode,
} from '../../src/http3/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { CodecError, VARINT_MAX } from '../../src/wire/index.js';

describe('HTTP/3 error codes (RFC 9114 §8.1, RFC 9204 §6, RFC 9297 §5)', () => {
  it('has every registered code with its exact value', () => {
    expect(H3ErrorCode).toEqual({
      H3_DATAGRAM_ERROR: 0x33,
      H3_NO_ERROR: 0x100,
      H3_GENERAL_PROTOCOL_ERROR: 0x101,
      H3_INTERNAL_ERROR: 0x102,
      H3_STREAM_CREATION_ERROR: 0x103,
      H3_CLOSED_CRITICAL_STREAM: 0x104,
      H3_FRAME_UNEXPECTED: 0x105,
      H3_FRAME_ERROR: 0x106,
      H3_EXCESSIVE_LOAD: 0x107,
      H3_ID_ERROR: 0x108,
      H3_SETTINGS_ERROR: 0x109,
      H3_MISSING_SETTINGS: 0x10a,
      H3_REQUEST_REJECTED: 0x10b,
      H3_REQUEST_CANCELLED: 0x10c,
      H3_REQUEST_INCOMPLETE: 0x10d,
      H3_MESSAGE_ERROR: 0x10e,
      H3_CONNECT_ERROR: 0x10f,
      H3_VERSION_FALLBACK: 0x110,
      QPACK_DECOMPRESSION_FAILED: 0x200,
      QPACK_ENCODER_STREAM_ERROR: 0x201,
      QPACK_DECODER_STREAM_ERROR: 0x202,
    });
  });

  it('names known, reserved and unknown codes', () => {
    expect(h3ErrorName(0x10a)).toBe('H3_MISSING_SETTINGS');
    expect(h3ErrorName(0x202n)).toBe('QPACK_DECODER_STREAM_ERROR');
    expect(h3ErrorName(0x21)).toBe('RESERVED(0x21)');
    expect(h3ErrorName(0x3ffffffffffffffen)).toBe('RESERVED(0x3ffffffffffffffe)');
    expect(h3ErrorName(0x111)).toBe('0x111');
    // A bigint far above 2^53 whose Number() rounds near nothing registered stays hex.
    expect(h3ErrorName((1n << 60n) + 0x100n)).toBe('0x1000000000000100');
  });

  it('H3Error carries code, scope (connection by default) and name', () => {
    const e = new H3Error(H3ErrorCode.H3_FRAME_ERROR, 'bad');
    expect(e).toBeInstanceOf(Error);
    expect(isH3Error(e)).toBe(true);
    expect(e.code).toBe(0x106);
    expect(e.scope).toBe('connection');
    expect(e.codeName).toBe('H3_FRAME_ERROR');
    expect(e.name).toBe('H3Error');
    expect(new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, 'm', 'stream').scope).toBe('stream');
  });

  it('fromCodec wraps CodecError as H3_FRAME_ERROR and passes other errors through', () => {
    const cause = new CodecError('TRUNCATED', 'short');
    const wrapped = H3Error.fromCodec(cause, 'GOAWAY') as H3Error;
    expect(wrapped).toBeInstanceOf(H3Error);
    expect(wrapped.code).toBe(H3ErrorCode.H3_FRAME_ERROR);
    expect(wrapped.cause).toBe(cause);
    const other = new TypeError('x');
    expect(H3Error.fromCodec(other, 'GOAWAY')).toBe(other);
  });
});

describe('reserved code points 0x1f * N + 0x21 (RFC 9114 §7.2.8, §8.1, §11.2)', () => {
  it('computes the first values and the last one listed in §11.2', () => {
    expect(reservedCodePoint(0)).toBe(0x21n);
    expect(reservedCodePoint(1)).toBe(0x40n);
    expect(reservedCodePoint(2n)).toBe(0x5fn);
    expect(reservedCodePoint(RESERVED_N_MAX)).toBe(0x3ffffffffffffffen);
    expect(reservedErrorCode(1)).toBe(0x40n);
  });

  it('rejects N outside the varint range with a CodecError', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => reservedCodePoint(bad)).toThrowError(CodecError);
    }
    expect(() => reservedCodePoint(RESERVED_N_MAX + 1n)).toThrowError(CodecError);
    expect(() => reservedCodePoint(-1n)).toThrowError(CodecError);
  });

  it('recognizes reserved values exactly, including above 2^53', () => {
    expect(isReservedCodePoint(0x21)).toBe(true);
    expect(isReservedCodePoint(0x20)).toBe(false);
    expect(isReservedCodePoint(0x22)).toBe(false);
    expect(isReservedCodePoint(0)).toBe(false);
    expect(isReservedCodePoint(-0x21)).toBe(false);
    expect(isReservedCodePoint(0x3ffffffffffffffen)).toBe(true);
    expect(isReservedCodePoint(0x3ffffffffffffffdn)).toBe(false);
    expect(isReservedCodePoint(VARINT_MAX + 0x1fn)).toBe(false);
    expect(isReservedErrorCode(0x100)).toBe(false);
  });

  it('every reservedCodePoint(N) is recognized, and its neighbours are not', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: RESERVED_N_MAX }), (n) => {
        const v = reservedCodePoint(n);
        expect(isReservedCodePoint(v)).toBe(true);
        expect(isReservedCodePoint(v + 1n)).toBe(false);
        expect(isReservedCodePoint(v - 1n)).toBe(false);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(isReservedCodePoint(Number(v))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('randomReservedCodePoint is reproducible from a seeded Random', () => {
    const a = [
      randomReservedCodePoint(new SeededRandom(7)),
      randomReservedCodePoint(new SeededRandom(7)),
    ];
    expect(a[0]).toBe(a[1]);
    expect(isReservedCodePoint(a[0])).toBe(true);
    expect(a[0] < 0x1fn * 0x1_0000_0000n + 0x21n).toBe(true);
  });
});
