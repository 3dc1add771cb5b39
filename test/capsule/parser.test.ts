import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCapsule } from '../../src/capsule/capsules.js';
import { CapsuleError } from '../../src/capsule/errors.js';
import {
  CapsuleParser,
  type CapsuleParserOptions,
  DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH,
  parseCapsules,
} from '../../src/capsule/parser.js';
import {
  type Capsule,
  GREASE_CAPSULE_MAX_N,
  greaseCapsuleType,
  isGreaseCapsuleType,
} from '../../src/capsule/types.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/index.js';
import { varintLength } from '../../src/wire/varint.js';
import { bytesArb, reasonOf, splitAt, succeedsOrCapsuleError, varintBytes } from './helpers.js';

const KNOWN_CAP = 64;
const DATAGRAM_CAP = 48;
const OPTIONS: CapsuleParserOptions = {
  known: [
    [0x11, KNOWN_CAP],
    [0xffe600, KNOWN_CAP],
  ],
  maxDatagramLength: DATAGRAM_CAP,
};
const KNOWN = new Set([0n, 0x11n, 0xffe600n]);

interface Spec {
  type: bigint;
  value: Uint8Array;
  typeLen: 1 | 2 | 4 | 8;
  lenLen: 1 | 2 | 4 | 8;
}

function widen(value: bigint | number, forced: 1 | 2 | 4 | 8): 1 | 2 | 4 | 8 {
  return Math.max(varintLength(value), forced) as 1 | 2 | 4 | 8;
}

const lenArb = fc.constantFrom<1 | 2 | 4 | 8>(1, 1, 1, 2, 4, 8);
const typeArb = fc.oneof(
  fc.constantFrom(...KNOWN),
  fc.bigInt({ min: 0n, max: GREASE_CAPSULE_MAX_N }).map(greaseCapsuleType),
  fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }).filter((t) => !KNOWN.has(t)),
  fc.bigInt({ min: 0n, max: 0xffen }).filter((t) => !KNOWN.has(t)),
);
const specArb: fc.Arbitrary<Spec> = fc
  .record({
    type: typeArb,
    value: fc.oneof(bytesArb(0, 0), bytesArb(KNOWN_CAP)),
    typeLen: lenArb,
    lenLen: lenArb,
  })
  .map((s) => ({
    ...s,
    typeLen: widen(s.type, s.typeLen),
    lenLen: widen(s.value.length, s.lenLen),
  }));

function encodeSpec(s: Spec): Uint8Array {
  return concatBytes(
    varintBytes(s.type, s.typeLen),
    varintBytes(s.value.length, s.lenLen),
    s.value,
  );
}

/** What a parser with OPTIONS must emit for `specs`: an oracle independent of the parser. */
function expected(specs: Spec[]): { capsules: string[]; skipped: number; dropped: number } {
  const capsules: string[] = [];
  let skipped = 0;
  let dropped = 0;
  for (const s of specs) {
    if (!KNOWN.has(s.type)) skipped++;
    else if (s.type === 0n && s.value.length > DATAGRAM_CAP) dropped++;
    else capsules.push(`${s.type}:${toHex(s.value)}`);
  }
  return { capsules, skipped, dropped };
}

function feed(chunks: Uint8Array[], options = OPTIONS) {
  const parser = new CapsuleParser(options);
  const out: Capsule[] = [];
  for (const c of chunks) parser.push(c, (cap) => out.push(cap));
  parser.end();
  return {
    capsules: out.map((c) => `${c.type}:${toHex(c.value)}`),
    skipped: parser.skippedCapsules,
    dropped: parser.droppedDatagrams,
  };
}

function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

describe('CapsuleParser (RFC 9297 §3.2)', () => {
  it('parses a hand-built stream: DATAGRAM, grease, known, zero-length, unknown 8-byte type', () => {
    const stream = fromHex(
      [
        '00 03 aabbcc', // DATAGRAM, 3 bytes
        '17 02 0102', // grease type 0x17 (N = 0), skipped
        '11 02 0203', // type 0x11
        '00 00', // empty DATAGRAM
        'ffffffffffffffff 01 ff', // type 2^62 - 1: unknown, skipped
        '80ffe600 40 01 ee', // type 0xffe600, 1-byte value with a 2-byte length encoding
      ].join(''),
    );
    const got = parseCapsules(stream, OPTIONS);
    expect(got.map((c) => [c.type, toHex(c.value)])).toEqual([
      [0x00, 'aabbcc'],
      [0x11, '0203'],
      [0x00, ''],
      [0xffe600, 'ee'],
    ]);
    expect(feed(oneByteChunks(stream)).skipped).toBe(2);
  });

  it('gives the same capsules whole, one byte at a time and at random split points', () => {
    fc.assert(
      fc.property(
        fc.array(specArb, { maxLength: 12 }),
        fc.array(fc.nat(2000), { maxLength: 20 }),
        (specs, cuts) => {
          const stream = concatBytes(...specs.map(encodeSpec));
          const want = expected(specs);
          expect(feed([stream])).toEqual(want);
          expect(feed(oneByteChunks(stream))).toEqual(want);
          expect(feed(splitAt(stream, cuts))).toEqual(want);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('handles splits inside the type and length varints of 8-byte encodings', () => {
    const c = concatBytes(varintBytes(0x11, 8), varintBytes(2, 8), fromHex('abcd'));
    for (let a = 0; a <= c.length; a++) {
      for (let b = a; b <= c.length; b++) {
        expect(feed([c.subarray(0, a), c.subarray(a, b), c.subarray(b)]).capsules).toEqual([
          '17:abcd',
        ]);
      }
    }
  });

  it('returns zero-copy views for capsules inside one chunk and owned buffers otherwise', () => {
    const stream = fromHex('11 02 0102 11 02 0304');
    const out: Capsule[] = [];
    const parser = new CapsuleParser(OPTIONS);
    parser.push(stream.subarray(0, 6), (c) => out.push(c));
    parser.push(stream.subarray(6), (c) => out.push(c));
    expect(out[0].value.buffer).toBe(stream.buffer);
    expect(out[1].value.buffer).not.toBe(stream.buffer);
    expect(toHex(out[1].value)).toBe('0304');
  });

  it('skips unknown capsules without buffering, even huge ones', () => {
    const parser = new CapsuleParser(OPTIONS);
    const out: Capsule[] = [];
    // Unknown type 0x3fff (2-byte), length 1 MiB, fed in 4 KiB chunks.
    parser.push(concatBytes(varintBytes(0x3fff), varintBytes(1 << 20)), (c) => out.push(c));
    const block = new Uint8Array(4096).fill(0x11);
    for (let i = 0; i < 256; i++) {
      parser.push(block, (c) => out.push(c));
      expect(parser.buffered).toBe(0);
    }
    parser.push(fromHex('11 01 aa'), (c) => out.push(c));
    parser.end();
    expect(out.map((c) => toHex(c.value))).toEqual(['aa']);
    expect(parser.skippedCapsules).toBe(1);
  });

  it('enforces the cap as soon as the length is known, before buffering', () => {
    for (const [type, len] of [
      [0x11, KNOWN_CAP + 1],
      [0xffe600, 1_000_000],
      [0x11, 1n << 53n], // clamped varint
      [0x11, (1n << 62n) - 1n],
    ] as const) {
      const parser = new CapsuleParser(OPTIONS);
      // Only the header arrives: the parser must refuse without waiting for the value.
      const header = concatBytes(varintBytes(type), varintBytes(len));
      for (let i = 0; i < header.length - 1; i++) {
        parser.push(header.subarray(i, i + 1), () => {});
      }
      expect(reasonOf(() => parser.push(header.subarray(header.length - 1), () => {}))).toBe(
        'TOO_LARGE',
      );
      expect(parser.buffered).toBeLessThan(16);
      // The parser stays failed.
      expect(reasonOf(() => parser.push(fromHex('00 00'), () => {}))).toBe('TOO_LARGE');
      expect(reasonOf(() => parser.end())).toBe('TOO_LARGE');
    }
    // At the cap is fine; the value buffer is allocated only then.
    const parser = new CapsuleParser(OPTIONS);
    parser.push(concatBytes(varintBytes(0x11), varintBytes(KNOWN_CAP)), () => {});
    expect(parser.buffered).toBe(KNOWN_CAP);
  });

  it('drops oversize DATAGRAM capsules unbuffered by default (RFC 9297 §3.5)', () => {
    const parser = new CapsuleParser();
    const out: Capsule[] = [];
    const len = DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH + 1;
    parser.push(concatBytes(varintBytes(0), varintBytes(len)), (c) => out.push(c));
    expect(parser.buffered).toBe(0);
    parser.push(new Uint8Array(len), (c) => out.push(c));
    parser.push(fromHex('00 01 07'), (c) => out.push(c));
    parser.end();
    expect(parser.droppedDatagrams).toBe(1);
    expect(out.map((c) => toHex(c.value))).toEqual(['07']);
    // At the default cap it is delivered.
    const atCap = parseCapsules(
      concatBytes(varintBytes(0), varintBytes(len - 1), new Uint8Array(len - 1)),
    );
    expect(atCap[0].value.length).toBe(65_554);
  });

  it("treats an oversize DATAGRAM as an error with oversizeDatagram: 'error'", () => {
    const parser = new CapsuleParser({ maxDatagramLength: 10, oversizeDatagram: 'error' });
    expect(reasonOf(() => parser.push(fromHex('00 0b'), () => {}))).toBe('TOO_LARGE');
  });

  it('reports the end of the stream inside a capsule as INCOMPLETE (RFC 9297 §3.3)', () => {
    const stream = fromHex('00 02 aabb 17 03 010203 11 00 80ffe600 01 ff');
    const boundaries = new Set([0, 4, 9, 11, 17]);
    for (let n = 0; n <= stream.length; n++) {
      const parser = new CapsuleParser(OPTIONS);
      parser.push(stream.subarray(0, n), () => {});
      expect(parser.atBoundary).toBe(boundaries.has(n));
      expect(reasonOf(() => parser.end())).toBe(boundaries.has(n) ? undefined : 'INCOMPLETE');
      expect(reasonOf(() => parseCapsules(stream.subarray(0, n), OPTIONS))).toBe(
        boundaries.has(n) ? undefined : 'INCOMPLETE',
      );
    }
  });

  it('every proper prefix of a random stream ending mid-capsule fails with INCOMPLETE', () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 1, maxLength: 6 }), (specs) => {
        const parts = specs.map(encodeSpec);
        const stream = concatBytes(...parts);
        const boundaries = new Set<number>([0]);
        let at = 0;
        for (const p of parts) {
          at += p.length;
          boundaries.add(at);
        }
        for (let n = 0; n < stream.length; n++) {
          const r = reasonOf(() => parseCapsules(stream.subarray(0, n), OPTIONS));
          expect(r).toBe(boundaries.has(n) ? undefined : 'INCOMPLETE');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary bytes either parse or throw CapsuleError, whole or split', () => {
    const tight: CapsuleParserOptions = {
      known: [
        [0x01, 4],
        [0x02, 0],
        [0x11, 27],
      ],
      maxDatagramLength: 16,
      oversizeDatagram: 'error',
    };
    fc.assert(
      fc.property(bytesArb(200), fc.array(fc.nat(200), { maxLength: 8 }), (bytes, cuts) => {
        succeedsOrCapsuleError(() => parseCapsules(bytes, tight));
        succeedsOrCapsuleError(() => feed(splitAt(bytes, cuts), tight));
        succeedsOrCapsuleError(() => parseCapsules(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects invalid registrations of known types', () => {
    expect(() => new CapsuleParser({ known: [[0, 5]] })).toThrow(RangeError);
    expect(() => new CapsuleParser({ known: [[Number.MAX_SAFE_INTEGER, 5]] })).toThrow(RangeError);
    expect(() => new CapsuleParser({ known: [[0x11, -1]] })).toThrow(RangeError);
  });

  it('round-trips capsules built with encodeCapsule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0x00, 0x11, 0xffe600), bytesArb(KNOWN_CAP)), {
          maxLength: 8,
        }),
        (list) => {
          const kept = list.filter(([t, v]) => t !== 0 || v.length <= DATAGRAM_CAP);
          const got = parseCapsules(
            concatBytes(...list.map(([t, v]) => encodeCapsule(t, v))),
            OPTIONS,
          );
          expect(got.map((c) => [c.type, toHex(c.value)])).toEqual(
            kept.map(([t, v]) => [t, toHex(v)]),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('grease capsule types (RFC 9297 §5.4)', () => {
  it('are 0x29 * N + 0x17', () => {
    expect(greaseCapsuleType(0)).toBe(0x17n);
    expect(greaseCapsuleType(1)).toBe(0x40n);
    expect(greaseCapsuleType(GREASE_CAPSULE_MAX_N) <= (1n << 62n) - 1n).toBe(true);
    expect(() => greaseCapsuleType(GREASE_CAPSULE_MAX_N + 1n)).toThrow(RangeError);
    expect(isGreaseCapsuleType(0x17)).toBe(true);
    expect(isGreaseCapsuleType(0x40)).toBe(true);
    expect(isGreaseCapsuleType(0x41)).toBe(false);
    expect(isGreaseCapsuleType(0x00)).toBe(false);
    expect(isGreaseCapsuleType(0x11)).toBe(false);
    expect(isGreaseCapsuleType(0xffe600)).toBe(false);
  });

  it('are always skipped, whatever their value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: GREASE_CAPSULE_MAX_N }), bytesArb(300), (n, v) => {
        const parser = new CapsuleParser(OPTIONS);
        const out: Capsule[] = [];
        parser.push(encodeCapsule(greaseCapsuleType(n), v), (c) => out.push(c));
        parser.end();
        expect(out).toEqual([]);
        expect(parser.skippedCapsules).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('CapsuleError', () => {
  it('carries H3_DATAGRAM_ERROR (0x33)', () => {
    const e = new CapsuleError('x');
    expect(e.code).toBe(0x33);
    expect(e.reason).toBe('MALFORMED');
    expect(e.scope).toBe('stream');
    expect(e).toBeInstanceOf(Error);
  });
});
