import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecoderInstruction,
  DecoderStreamParser,
  type EncoderInstruction,
  EncoderStreamParser,
  QpackError,
  QpackErrorCode,
  readEncoderInstruction,
  writeDecoderInstruction,
  writeEncoderInstruction,
} from '../../src/qpack/index.js';
import { ByteReader, ByteWriter, type CodecError, fromHex, toHex } from '../../src/wire/index.js';

const ENC_ERR = QpackErrorCode.QPACK_ENCODER_STREAM_ERROR;
const DEC_ERR = QpackErrorCode.QPACK_DECODER_STREAM_ERROR;

function qpackCode(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof QpackError) return e.code;
    throw e;
  }
}

const latin1 = fc.uint8Array({ maxLength: 70 }).map((b) => Buffer.from(b).toString('latin1'));
const big = fc.oneof(fc.nat(100), fc.nat(1 << 20), fc.maxSafeNat());
const encoderInstruction: fc.Arbitrary<EncoderInstruction> = fc.oneof(
  fc.record({ type: fc.constant('setCapacity' as const), capacity: big }),
  fc.record({
    type: fc.constant('insertWithNameRef' as const),
    isStatic: fc.boolean(),
    nameIndex: big,
    value: latin1,
  }),
  fc.record({ type: fc.constant('insertWithLiteralName' as const), name: latin1, value: latin1 }),
  fc.record({ type: fc.constant('duplicate' as const), index: big }),
);
const decoderInstruction: fc.Arbitrary<DecoderInstruction> = fc.oneof(
  fc.record({ type: fc.constant('sectionAck' as const), streamId: big }),
  fc.record({ type: fc.constant('streamCancel' as const), streamId: big }),
  fc.record({ type: fc.constant('insertCountIncrement' as const), increment: big }),
);
const mode = fc.constantFrom('auto', 'always', 'never') as fc.Arbitrary<
  'auto' | 'always' | 'never'
>;

function encodeAll(list: EncoderInstruction[], huffman: 'auto' | 'always' | 'never'): Uint8Array {
  const w = new ByteWriter(64);
  for (const inst of list) writeEncoderInstruction(w, inst, huffman);
  return w.toBytes();
}

function decodeAll(list: DecoderInstruction[]): Uint8Array {
  const w = new ByteWriter(16);
  for (const inst of list) writeDecoderInstruction(w, inst);
  return w.toBytes();
}

/** Feeds `bytes` split at the given sorted cut points. */
function feed<T>(parser: { push(b: Uint8Array): T[] }, bytes: Uint8Array, cuts: number[]): T[] {
  const out: T[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.slice(at, cut)));
    at = cut;
  }
  return out;
}

/** Raw cut points, reduced modulo the input length and sorted. */
const rawCuts = fc.array(fc.nat(1 << 16), { maxLength: 12 });
const cutsFor = (raw: number[], length: number) =>
  raw.map((c) => c % (length + 1)).sort((x, y) => x - y);

describe('encoder instructions (RFC 9204 §4.3)', () => {
  it('parses the Appendix B encoder stream into its instructions', () => {
    const stream = fromHex(`3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468
      4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02 810d637573746f6d2d76616c756532`);
    const expected: EncoderInstruction[] = [
      { type: 'setCapacity', capacity: 220 },
      { type: 'insertWithNameRef', isStatic: true, nameIndex: 0, value: 'www.example.com' },
      { type: 'insertWithNameRef', isStatic: true, nameIndex: 1, value: '/sample/path' },
      { type: 'insertWithLiteralName', name: 'custom-key', value: 'custom-value' },
      { type: 'duplicate', index: 2 },
      { type: 'insertWithNameRef', isStatic: false, nameIndex: 1, value: 'custom-value2' },
    ];
    expect(new EncoderStreamParser(1000).push(stream)).toEqual(expected);
    expect(toHex(encodeAll(expected, 'never'))).toBe(toHex(stream));
  });

  it('writes Huffman names with H at 0x20 of the first byte', () => {
    const bytes = encodeAll(
      [{ type: 'insertWithLiteralName', name: 'custom-key', value: '' }],
      'always',
    );
    // 01 H=1 len 8 -> 0x68, then the C.4.3 Huffman string, then an empty value.
    expect(toHex(bytes)).toBe('6825a849e95ba97d7f00');
  });

  it('round-trips whole, one byte at a time, and at random splits', () => {
    fc.assert(
      fc.property(
        fc.array(encoderInstruction, { maxLength: 6 }),
        mode,
        rawCuts,
        (list, huffman, raw) => {
          const bytes = encodeAll(list, huffman);
          expect(new EncoderStreamParser(1000).push(bytes)).toEqual(list);
          const byByte = new EncoderStreamParser(1000);
          const got: EncoderInstruction[] = [];
          for (const b of bytes) got.push(...byByte.push(Uint8Array.of(b)));
          expect(got).toEqual(list);
          expect(byByte.buffered).toBe(0);
          const cuts = cutsFor(raw, bytes.length);
          expect(feed(new EncoderStreamParser(1000), bytes, cuts)).toEqual(list);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('waits on every proper prefix, and a reader on a prefix fails TRUNCATED', () => {
    const inst: EncoderInstruction = {
      type: 'insertWithLiteralName',
      name: 'a'.repeat(40),
      value: 'b'.repeat(200),
    };
    const bytes = encodeAll([inst], 'never');
    for (let n = 0; n < bytes.length; n++) {
      const parser = new EncoderStreamParser(1000);
      expect(parser.push(bytes.subarray(0, n))).toEqual([]);
      expect(parser.buffered).toBe(n);
      expect(parser.push(bytes.subarray(n))).toEqual([inst]);
      try {
        readEncoderInstruction(new ByteReader(bytes.subarray(0, n)), 1000);
        expect.unreachable();
      } catch (e) {
        expect((e as CodecError).code).toBe('TRUNCATED');
      }
    }
  });

  it('caps string lengths before buffering them (QPACK_ENCODER_STREAM_ERROR)', () => {
    // Insert With Literal Name declaring a 63-byte name, with a cap of 10: fails at the header.
    const parser = new EncoderStreamParser(10);
    expect(qpackCode(() => parser.push(fromHex('5f20')))).toBe(ENC_ERR);
    // The parser stays failed.
    expect(qpackCode(() => parser.push(fromHex('00')))).toBe(ENC_ERR);
    // Value length over the cap, with the name complete.
    expect(qpackCode(() => new EncoderStreamParser(10).push(fromHex('c0 7f00')))).toBe(ENC_ERR);
    // At the cap is fine.
    expect(new EncoderStreamParser(2).push(fromHex('4261620178'))).toEqual([
      { type: 'insertWithLiteralName', name: 'ab', value: 'x' },
    ]);
  });

  it('rejects malformed integers and Huffman strings with QPACK_ENCODER_STREAM_ERROR', () => {
    expect(
      qpackCode(() => new EncoderStreamParser(10).push(fromHex('3f ffffffffffffffffff01'))),
    ).toBe(ENC_ERR);
    expect(qpackCode(() => new EncoderStreamParser(10).push(fromHex('c0 81ff')))).toBe(ENC_ERR);
    expect(qpackCode(() => new EncoderStreamParser(10).push(fromHex('61ff00')))).toBe(ENC_ERR);
  });

  it('never throws anything but QpackError(QPACK_ENCODER_STREAM_ERROR) on arbitrary input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const parser = new EncoderStreamParser(40);
        try {
          for (const b of bytes) parser.push(Uint8Array.of(b));
        } catch (e) {
          expect(e).toBeInstanceOf(QpackError);
          expect((e as QpackError).code).toBe(ENC_ERR);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decoder instructions (RFC 9204 §4.4)', () => {
  it('writes and parses the Appendix B decoder stream bytes', () => {
    const list: DecoderInstruction[] = [
      { type: 'sectionAck', streamId: 4 },
      { type: 'insertCountIncrement', increment: 1 },
      { type: 'streamCancel', streamId: 8 },
    ];
    expect(toHex(decodeAll(list))).toBe('840148');
    expect(new DecoderStreamParser().push(fromHex('840148'))).toEqual(list);
    // Larger values continue past the prefix: stream 200 -> ff 49; cancel 100 -> 7f 25.
    expect(toHex(decodeAll([{ type: 'sectionAck', streamId: 200 }]))).toBe('ff49');
    expect(toHex(decodeAll([{ type: 'streamCancel', streamId: 100 }]))).toBe('7f25');
  });

  it('round-trips whole, one byte at a time, and at random splits', () => {
    fc.assert(
      fc.property(fc.array(decoderInstruction, { maxLength: 10 }), rawCuts, (list, raw) => {
        const bytes = decodeAll(list);
        expect(new DecoderStreamParser().push(bytes)).toEqual(list);
        const byByte = new DecoderStreamParser();
        const got: DecoderInstruction[] = [];
        for (const b of bytes) got.push(...byByte.push(Uint8Array.of(b)));
        expect(got).toEqual(list);
        const cuts = cutsFor(raw, bytes.length);
        expect(feed(new DecoderStreamParser(), bytes, cuts)).toEqual(list);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects overlong integers with QPACK_DECODER_STREAM_ERROR; arbitrary bytes fail only so', () => {
    expect(
      qpackCode(() => new DecoderStreamParser().push(fromHex('ff ffffffffffffffffff01'))),
    ).toBe(DEC_ERR);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
        try {
          new DecoderStreamParser().push(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(QpackError);
          expect((e as QpackError).code).toBe(DEC_ERR);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
