import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DynamicTable,
  decodeFieldSection,
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  type FieldLine,
  QpackError,
  QpackErrorCode,
  readFieldLine,
  readFieldSectionPrefix,
  writeFieldLine,
  writeFieldSectionPrefix,
} from '../../src/qpack/index.js';
import { ByteReader, ByteWriter, CodecError, fromHex, toHex } from '../../src/wire/index.js';

const FAILED = QpackErrorCode.QPACK_DECOMPRESSION_FAILED;

function failure(fn: () => unknown): { code: number; cause?: string } | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof QpackError) {
      const cause = e.cause instanceof CodecError ? e.cause.code : undefined;
      return cause === undefined ? { code: e.code } : { code: e.code, cause };
    }
    if (e instanceof CodecError) return { code: -1, cause: e.code };
    throw e;
  }
}

/** A table with max capacity 220 (MaxEntries 6) holding entries 0..n-1 named n<i>, value v<i>. */
function tableWith(n: number, capacity = 220): DynamicTable {
  const t = new DynamicTable(220);
  t.setCapacity(capacity);
  for (let i = 0; i < n; i++) t.insert(`n${i}`, `v${i}`);
  return t;
}

function section(ric: number, base: number, lines: FieldLine[], maxEntries = 6): Uint8Array {
  const w = new ByteWriter(32);
  writeFieldSectionPrefix(w, { requiredInsertCount: ric, base }, maxEntries);
  for (const line of lines) writeFieldLine(w, line, 'never');
  return w.toBytes();
}

const latin1 = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1'));
const index = fc.oneof(fc.nat(80), fc.nat(100_000));
const fieldLine: fc.Arbitrary<FieldLine> = fc.oneof(
  fc.record({ kind: fc.constant('indexed' as const), isStatic: fc.boolean(), index }),
  fc.record({ kind: fc.constant('indexedPostBase' as const), index }),
  fc.record({
    kind: fc.constant('literalNameRef' as const),
    neverIndex: fc.boolean(),
    isStatic: fc.boolean(),
    nameIndex: index,
    value: latin1,
  }),
  fc.record({
    kind: fc.constant('literalPostBaseNameRef' as const),
    neverIndex: fc.boolean(),
    nameIndex: index,
    value: latin1,
  }),
  fc.record({
    kind: fc.constant('literalName' as const),
    neverIndex: fc.boolean(),
    name: latin1,
    value: latin1,
  }),
);

describe('Required Insert Count and Base (RFC 9204 §4.5.1)', () => {
  it('reproduces the §4.5.1.1 example: 100-byte table, 10 inserts, encoded 4 -> 9', () => {
    const maxEntries = Math.floor(100 / 32);
    expect(encodeRequiredInsertCount(9, maxEntries)).toBe(4);
    expect(decodeRequiredInsertCount(4, maxEntries, 10)).toBe(9);
    expect(encodeRequiredInsertCount(0, maxEntries)).toBe(0);
    expect(decodeRequiredInsertCount(0, maxEntries, 10)).toBe(0);
  });

  it('round-trips every Required Insert Count in the window a decoder can see', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.nat(100_000),
        fc.nat(1_000),
        (maxEntries, totalInserts, back) => {
          // Valid values lie in (totalInserts + maxEntries - 2 * maxEntries, totalInserts + maxEntries].
          const ric = totalInserts + maxEntries - (back % (2 * maxEntries));
          fc.pre(ric >= 1);
          const encoded = encodeRequiredInsertCount(ric, maxEntries);
          expect(encoded).toBeGreaterThan(0);
          expect(encoded).toBeLessThanOrEqual(2 * maxEntries);
          expect(decodeRequiredInsertCount(encoded, maxEntries, totalInserts)).toBe(ric);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rejects encoded values no conformant encoder produces', () => {
    expect(() => decodeRequiredInsertCount(7, 3, 10)).toThrow(CodecError); // > FullRange
    expect(() => decodeRequiredInsertCount(1, 0, 0)).toThrow(CodecError); // no dynamic table
    expect(() => decodeRequiredInsertCount(1, 3, 0)).toThrow(/0 encoded/); // ReqInsertCount 0
    expect(() => decodeRequiredInsertCount(5, 3, 0)).toThrow(/out of range/); // wraps below 0
    expect(() => encodeRequiredInsertCount(1, 0)).toThrow(CodecError);
  });

  it('reproduces the §4.5.1.2 example: RIC 9, sign 1, delta 2 -> Base 6', () => {
    const r = new ByteReader(fromHex('0a 82')); // 9 mod 12 + 1 = 10
    expect(readFieldSectionPrefix(r, 6, 9)).toEqual({ requiredInsertCount: 9, base: 6 });
    const w = new ByteWriter(4);
    writeFieldSectionPrefix(w, { requiredInsertCount: 9, base: 6 }, 6);
    expect(toHex(w.toBytes())).toBe('0a82');
    w.reset();
    writeFieldSectionPrefix(w, { requiredInsertCount: 9, base: 12 }, 6);
    expect(toHex(w.toBytes())).toBe('0a03');
    // §4.5.1.2: a Sign bit of 1 with Required Insert Count <= Delta Base is invalid.
    expect(() => readFieldSectionPrefix(new ByteReader(fromHex('0a 89')), 6, 9)).toThrow(
      /negative Base/,
    );
    expect(() => readFieldSectionPrefix(new ByteReader(fromHex('00 80')), 6, 9)).toThrow(
      /negative Base/,
    );
  });
});

describe('field line representations (RFC 9204 §4.5.2-§4.5.6)', () => {
  it('writes each representation with its bit pattern', () => {
    const hexOf = (line: FieldLine) => {
      const w = new ByteWriter(8);
      writeFieldLine(w, line, 'never');
      return toHex(w.toBytes());
    };
    expect(hexOf({ kind: 'indexed', isStatic: true, index: 1 })).toBe('c1');
    expect(hexOf({ kind: 'indexed', isStatic: false, index: 63 })).toBe('bf00');
    expect(hexOf({ kind: 'indexedPostBase', index: 15 })).toBe('1f00');
    expect(
      hexOf({
        kind: 'literalNameRef',
        neverIndex: true,
        isStatic: false,
        nameIndex: 2,
        value: 'x',
      }),
    ).toBe('620178');
    expect(
      hexOf({ kind: 'literalPostBaseNameRef', neverIndex: true, nameIndex: 7, value: '' }),
    ).toBe('0f0000');
    expect(hexOf({ kind: 'literalName', neverIndex: false, name: 'ab', value: 'c' })).toBe(
      '2261620163',
    );
    expect(hexOf({ kind: 'literalName', neverIndex: true, name: 'abcdefgh', value: '' })).toBe(
      '37016162636465666768' + '00',
    );
  });

  it('round-trips arbitrary field lines in every Huffman mode', () => {
    fc.assert(
      fc.property(
        fc.array(fieldLine, { maxLength: 8 }),
        fc.constantFrom('auto', 'always', 'never') as fc.Arbitrary<'auto' | 'always' | 'never'>,
        (lines, mode) => {
          const w = new ByteWriter(32);
          for (const line of lines) writeFieldLine(w, line, mode);
          const r = new ByteReader(w.toBytes());
          const back: FieldLine[] = [];
          while (!r.done) back.push(readFieldLine(r, 1000));
          expect(back).toEqual(lines);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('decoding a field section against a table', () => {
  it('resolves static, relative, post-Base and literal representations', () => {
    const t = tableWith(4);
    const block = section(4, 2, [
      { kind: 'indexed', isStatic: true, index: 17 },
      { kind: 'indexed', isStatic: false, index: 0 }, // abs 1
      { kind: 'indexedPostBase', index: 1 }, // abs 3
      { kind: 'literalNameRef', neverIndex: false, isStatic: true, nameIndex: 1, value: '/a' },
      { kind: 'literalNameRef', neverIndex: true, isStatic: false, nameIndex: 1, value: 'x' }, // abs 0
      { kind: 'literalPostBaseNameRef', neverIndex: false, nameIndex: 0, value: 'y' }, // abs 2
      { kind: 'literalName', neverIndex: true, name: 'k', value: 'v' },
    ]);
    expect(decodeFieldSection(block, t)).toEqual({
      status: 'decoded',
      fields: [
        [':method', 'GET'],
        ['n1', 'v1'],
        ['n3', 'v3'],
        [':path', '/a'],
        ['n0', 'x'],
        ['n2', 'y'],
        ['k', 'v'],
      ],
      neverIndexed: [4, 6],
      requiredInsertCount: 4,
    });
  });

  it('reports a section blocked when its Required Insert Count is not reached yet', () => {
    const t = tableWith(2);
    const block = section(3, 3, [{ kind: 'indexed', isStatic: false, index: 0 }]);
    expect(decodeFieldSection(block, t)).toEqual({ status: 'blocked', requiredInsertCount: 3 });
    t.insert('n2', 'v2');
    const result = decodeFieldSection(block, t);
    expect(result.status === 'decoded' && result.fields).toEqual([['n2', 'v2']]);
  });

  it('treats invalid references as QPACK_DECOMPRESSION_FAILED (§2.2.3, §3.1)', () => {
    const t = tableWith(6, 110); // capacity 110 keeps entries 3..5 (36 bytes each)
    const cases: Array<[string, Uint8Array]> = [
      ['static index 99', section(0, 0, [{ kind: 'indexed', isStatic: true, index: 99 }])],
      [
        'static name 99',
        section(0, 0, [
          { kind: 'literalNameRef', neverIndex: false, isStatic: true, nameIndex: 99, value: '' },
        ]),
      ],
      ['dynamic ref, RIC 0', section(0, 0, [{ kind: 'indexed', isStatic: false, index: 0 }])],
      ['relative at RIC', section(5, 6, [{ kind: 'indexed', isStatic: false, index: 0 }])],
      ['post-Base at RIC', section(6, 5, [{ kind: 'indexedPostBase', index: 1 }])],
      ['relative below 0', section(6, 6, [{ kind: 'indexed', isStatic: false, index: 6 }])],
      ['evicted entry', section(6, 6, [{ kind: 'indexed', isStatic: false, index: 3 }])],
      [
        'evicted name',
        section(6, 6, [
          { kind: 'literalNameRef', neverIndex: false, isStatic: false, nameIndex: 4, value: '' },
        ]),
      ],
      [
        'post-Base name at RIC',
        section(6, 6, [
          { kind: 'literalPostBaseNameRef', neverIndex: false, nameIndex: 0, value: '' },
        ]),
      ],
      ['bad encoded RIC', fromHex('0d00')],
      ['negative Base', fromHex('0281')],
      ['bad Huffman', fromHex('0000 5f01 81 ff')],
    ];
    for (const [what, block] of cases) {
      expect(failure(() => decodeFieldSection(block, t))?.code, what).toBe(FAILED);
    }
    // A valid reference to the live entries works.
    const ok = decodeFieldSection(
      section(6, 6, [{ kind: 'indexed', isStatic: false, index: 2 }]),
      t,
    );
    expect(ok.status === 'decoded' && ok.fields).toEqual([['n3', 'v3']]);
  });

  it('stops at the field section size limit (name + value + 32 per field)', () => {
    const t = tableWith(1);
    const lines: FieldLine[] = [
      { kind: 'indexed', isStatic: false, index: 0 }, // n0: v0 -> 36
      { kind: 'literalName', neverIndex: false, name: 'abc', value: 'de' }, // 37
    ];
    const block = section(1, 1, lines);
    expect(decodeFieldSection(block, t, 73).status).toBe('decoded');
    expect(decodeFieldSection(block, t, 72)).toEqual({
      status: 'tooLarge',
      requiredInsertCount: 1,
      size: 73,
    });
  });

  it('fails truncated sections with TRUNCATED, except at field line boundaries', () => {
    const t = tableWith(2);
    const lines: FieldLine[] = [
      { kind: 'literalName', neverIndex: false, name: 'custom-name', value: 'custom-value' },
      { kind: 'indexedPostBase', index: 0 },
      { kind: 'literalNameRef', neverIndex: false, isStatic: true, nameIndex: 44, value: 'text/x' },
      { kind: 'indexed', isStatic: true, index: 70 },
    ];
    const full = section(2, 1, lines);
    const boundaries = new Set<number>();
    let prefixLength = 0;
    for (let i = 0; i <= lines.length; i++) {
      const length = section(2, 1, lines.slice(0, i)).length;
      if (i === 0) prefixLength = length;
      boundaries.add(length);
    }
    for (let n = 0; n < full.length; n++) {
      const cut = full.subarray(0, n);
      if (boundaries.has(n)) {
        expect(decodeFieldSection(cut, t).status, `prefix ${n}`).toBe('decoded');
      } else {
        expect(
          failure(() => decodeFieldSection(cut, t)),
          `prefix ${n}`,
        ).toEqual({
          code: FAILED,
          cause: 'TRUNCATED',
        });
      }
    }
    expect(prefixLength).toBe(2);
  });

  it('decodes arbitrary bytes or throws QpackError(QPACK_DECOMPRESSION_FAILED), never else', () => {
    const t = tableWith(5);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (block) => {
        try {
          decodeFieldSection(block, t, 4096);
        } catch (e) {
          expect(e).toBeInstanceOf(QpackError);
          expect((e as QpackError).code).toBe(FAILED);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
