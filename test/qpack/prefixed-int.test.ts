import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_CONTINUATION_BYTES,
  prefixedIntLength,
  readPrefixedInt,
  readStringLiteral,
  stringLiteralLength,
  writePrefixedInt,
  writeStringLiteral,
} from '../../src/qpack/index.js';
import { ByteReader, ByteWriter, CodecError, fromHex, toHex } from '../../src/wire/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
}

function int(flags: number, prefix: number, value: number): Uint8Array {
  const w = new ByteWriter(4);
  writePrefixedInt(w, flags, prefix, value);
  return w.toBytes();
}

describe('prefixed integers (RFC 7541 §5.1)', () => {
  it('reproduces the RFC 7541 C.1 examples', () => {
    // C.1.1: 10 with a 5-bit prefix (the three high bits belong to the caller).
    expect(toHex(int(0xe0, 5, 10))).toBe('ea');
    // C.1.2: 1337 with a 5-bit prefix -> 31, 154, 10.
    expect(toHex(int(0x00, 5, 1337))).toBe('1f9a0a');
    // C.1.3: 42 on an octet boundary (8-bit prefix).
    expect(toHex(int(0x00, 8, 42))).toBe('2a');
    expect(readPrefixedInt(new ByteReader(fromHex('ea')), 5)).toBe(10);
    expect(readPrefixedInt(new ByteReader(fromHex('ff9a0a')), 5)).toBe(1337);
    expect(readPrefixedInt(new ByteReader(fromHex('2a')), 8)).toBe(42);
  });

  it('round-trips every prefix size 1-8 and keeps the flag bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(
          fc.integer({ min: 0, max: 300 }),
          fc.integer({ min: 0, max: 2 ** 32 }),
          fc.maxSafeNat(),
        ),
        fc.integer({ min: 0, max: 255 }),
        (prefix, value, rawFlags) => {
          const flags = rawFlags & ~((1 << prefix) - 1) & 0xff;
          const encoded = int(flags, prefix, value);
          expect(encoded.length).toBe(prefixedIntLength(prefix, value));
          expect(encoded[0] & ~((1 << prefix) - 1) & 0xff).toBe(flags);
          const r = new ByteReader(encoded);
          expect(readPrefixedInt(r, prefix)).toBe(value);
          expect(r.done).toBe(true);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('decodes 2^53 - 1 and rejects anything larger, or overlong encodings, as VARINT_RANGE', () => {
    const max = int(0, 8, Number.MAX_SAFE_INTEGER);
    expect(readPrefixedInt(new ByteReader(max), 8)).toBe(Number.MAX_SAFE_INTEGER);
    // 2^53 with an 8-bit prefix: the same bytes with the last group one larger.
    const over = max.slice();
    over[over.length - 1]++;
    expect(codeOf(() => readPrefixedInt(new ByteReader(over), 8))).toBe('VARINT_RANGE');
    // A 62-bit value (the QUIC varint maximum) is beyond our documented limit.
    expect(codeOf(() => readPrefixedInt(new ByteReader(fromHex('ff ffffffffffffffff3f')), 8))).toBe(
      'VARINT_RANGE',
    );
    // Zero padding is tolerated up to the continuation limit, not beyond.
    const padded = (n: number) => Uint8Array.from([0x1f, ...new Array(n).fill(0x80), 0x00]);
    expect(readPrefixedInt(new ByteReader(padded(MAX_CONTINUATION_BYTES - 1)), 5)).toBe(31);
    expect(codeOf(() => readPrefixedInt(new ByteReader(padded(MAX_CONTINUATION_BYTES)), 5))).toBe(
      'VARINT_RANGE',
    );
    expect(codeOf(() => int(0, 5, -1))).toBe('VARINT_RANGE');
    expect(codeOf(() => int(0, 5, 2 ** 53))).toBe('VARINT_RANGE');
  });

  it('fails every proper prefix of an encoding with TRUNCATED', () => {
    for (const [prefix, value] of [
      [5, 1337],
      [8, Number.MAX_SAFE_INTEGER],
      [1, 1],
      [3, 2 ** 40],
    ]) {
      const encoded = int(0, prefix, value);
      for (let n = 0; n < encoded.length; n++) {
        const cut = encoded.subarray(0, n);
        expect(codeOf(() => readPrefixedInt(new ByteReader(cut), prefix))).toBe('TRUNCATED');
      }
    }
  });

  it('never throws anything but CodecError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 16 }), fc.integer({ min: 1, max: 8 }), (b, p) => {
        const code = codeOf(() => readPrefixedInt(new ByteReader(b), p));
        expect(code === undefined || code === 'TRUNCATED' || code === 'VARINT_RANGE').toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('string literals (RFC 7541 §5.2, RFC 9204 §4.1.2)', () => {
  it('writes the H bit at the top of an N-bit prefix', () => {
    const w = new ByteWriter(16);
    // 8-bit prefix, Huffman: C.4.1 "www.example.com" -> 8c f1e3...
    writeStringLiteral(w, 0, 8, Uint8Array.from(Buffer.from('www.example.com')), 'always');
    expect(toHex(w.toBytes())).toBe('8cf1e3c2e5f23a6ba0ab90f4ff');
    w.reset();
    // 4-bit prefix (QPACK literal name) with flags 0010: H is 0x08, length in 3 bits.
    writeStringLiteral(w, 0x20, 4, Uint8Array.from(Buffer.from('ab')), 'never');
    expect(toHex(w.toBytes())).toBe('226162');
  });

  it('round-trips with every prefix 2-8 and every Huffman mode', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('auto', 'always', 'never') as fc.Arbitrary<'auto' | 'always' | 'never'>,
        (prefix, data, mode) => {
          const w = new ByteWriter(16);
          writeStringLiteral(w, 0, prefix, data, mode);
          const encoded = w.toBytes();
          expect(encoded.length).toBe(stringLiteralLength(prefix, data, mode));
          if (mode === 'auto') expect(encoded.length).toBeLessThanOrEqual(data.length + 6);
          const r = new ByteReader(encoded);
          expect(toHex(readStringLiteral(r, prefix, 1000))).toBe(toHex(data));
          expect(r.done).toBe(true);
          for (let n = 0; n < encoded.length; n++) {
            const cut = new ByteReader(encoded.subarray(0, n));
            expect(codeOf(() => readStringLiteral(cut, prefix, 1000))).toBe('TRUNCATED');
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('caps the declared length before reading the data', () => {
    // Declares 1000 bytes but carries 2: the cap fails first, with TOO_LARGE.
    const r = new ByteReader(fromHex('7f e9 06 6162'));
    expect(codeOf(() => readStringLiteral(r, 8, 999))).toBe('TOO_LARGE');
  });
});
