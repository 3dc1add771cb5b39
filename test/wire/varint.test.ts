import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  CodecError,
  decodeVarint,
  decodeVarintBig,
  encodeVarint,
  fromHex,
  toHex,
  VARINT_MAX,
  varintLength,
} from '../../src/wire/index.js';

// RFC 9000 Appendix A.1 sample decodings.
const VECTORS: Array<[string, bigint]> = [
  ['c2197c5eff14e88c', 151288809941952652n],
  ['9d7f3e7d', 494878333n],
  ['7bbd', 15293n],
  ['25', 37n],
  ['4025', 37n],
];

describe('varint (RFC 9000 §16)', () => {
  it('decodes the RFC 9000 A.1 samples exactly as bigint', () => {
    for (const [hex, value] of VECTORS) {
      const r = decodeVarintBig(fromHex(hex), 0);
      expect(r.value).toBe(value);
      expect(r.next).toBe(hex.length / 2);
    }
  });

  it('decodes the safe samples as number and refuses the 2^53+ one', () => {
    for (const [hex, value] of VECTORS.slice(1)) {
      expect(decodeVarint(fromHex(hex), 0).value).toBe(Number(value));
    }
    expect(() => decodeVarint(fromHex('c2197c5eff14e88c'), 0)).toThrowError(CodecError);
    const r = new ByteReader(fromHex('c2197c5eff14e88c'));
    expect(r.varintClamped()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('varintClamped reads every length exactly (1-4 bytes without bigint, 8 with)', () => {
    // RFC 9000 §A.1 samples, then 2^61 - 1 in 8 bytes (clamped to 2^53 - 1).
    const r = new ByteReader(fromHex('259d7f3e7d7bbd4025dfffffffffffffff'));
    expect([r.varintClamped(), r.varintClamped(), r.varintClamped(), r.varintClamped()]).toEqual([
      37, 494878333, 15293, 37,
    ]);
    expect(r.varintClamped()).toBe(Number.MAX_SAFE_INTEGER);
    r.expectEnd();
    expect(() => new ByteReader(fromHex('9d7f')).varintClamped()).toThrowError(CodecError);
    expect(() => new ByteReader(new Uint8Array(0)).varintClamped()).toThrowError(CodecError);
  });

  it('encodes the samples minimally, and 37 in two bytes on request', () => {
    expect(toHex(new ByteWriter().varint(151288809941952652n).view())).toBe('c2197c5eff14e88c');
    expect(toHex(new ByteWriter().varint(494878333).view())).toBe('9d7f3e7d');
    expect(toHex(new ByteWriter().varint(15293).view())).toBe('7bbd');
    expect(toHex(new ByteWriter().varint(37).view())).toBe('25');
    expect(toHex(new ByteWriter().varint(37, 2).view())).toBe('4025');
  });

  it('rejects values outside 0..2^62-1 and lengths too short', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => varintLength(bad)).toThrowError(CodecError);
    }
    expect(() => varintLength(VARINT_MAX + 1n)).toThrowError(CodecError);
    expect(varintLength(VARINT_MAX)).toBe(8);
    expect(() => new ByteWriter().varint(300, 1)).toThrowError(CodecError);
  });

  it('boundaries between encodings', () => {
    const cases: Array<[number, number]> = [
      [63, 1],
      [64, 2],
      [16383, 2],
      [16384, 4],
      [2 ** 30 - 1, 4],
      [2 ** 30, 8],
      [Number.MAX_SAFE_INTEGER, 8],
    ];
    for (const [v, len] of cases) {
      expect(varintLength(v)).toBe(len);
      const buf = new Uint8Array(8);
      expect(encodeVarint(buf, 0, v)).toBe(len);
      expect(decodeVarint(buf, 0).value).toBe(v);
    }
  });

  it('every truncated prefix fails with TRUNCATED', () => {
    for (const [hex] of VECTORS) {
      const full = fromHex(hex);
      for (let n = 0; n < full.length; n++) {
        try {
          decodeVarintBig(full.subarray(0, n), 0);
          expect.unreachable();
        } catch (e) {
          expect((e as CodecError).code).toBe('TRUNCATED');
        }
      }
    }
  });

  it('round-trips any number and any bigint in range, at any forced length', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: VARINT_MAX }), (v) => {
        const w = new ByteWriter(8);
        w.varint(v);
        expect(decodeVarintBig(w.view(), 0).value).toBe(v);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(new ByteReader(w.view()).varint()).toBe(Number(v));
        }
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 - 1 }), fc.constantFrom(4, 8), (v, len) => {
        const w = new ByteWriter();
        w.varint(v, len as 4 | 8);
        expect(w.length).toBe(len);
        expect(new ByteReader(w.view()).varint()).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes decode or throw CodecError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), (bytes) => {
        try {
          new ByteReader(bytes).varint();
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
