import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Field,
  QpackDecoder,
  QpackEncoder,
  QpackError,
  QpackErrorCode,
  readFieldLine,
  readFieldSectionPrefix,
} from '../../src/qpack/index.js';
import { ByteReader, concatBytes, fromHex, toHex } from '../../src/wire/index.js';

const { QPACK_DECOMPRESSION_FAILED, QPACK_ENCODER_STREAM_ERROR, QPACK_DECODER_STREAM_ERROR } =
  QpackErrorCode;

function qpackCode(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof QpackError) return e.code;
    throw e;
  }
}

const NAMES = [':path', ':authority', 'user-agent', 'x-a', 'x-b', 'x-trace', 'cookie', 'accept'];
const VALUES = [
  '',
  '1',
  '/',
  '/index.html',
  'gzip',
  'text/plain',
  'example.com',
  '\u00e9\u00ff\u0001',
];
const value = fc.oneof(
  fc.constantFrom(...VALUES),
  fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1')),
);
const field: fc.Arbitrary<Field> = fc.tuple(
  fc.oneof(
    fc.constantFrom(...NAMES),
    fc.nat(0xffff).map((n) => `x-${n.toString(36)}`),
  ),
  value,
);
const step = fc.record({
  streamId: fc.constantFrom(0, 4, 8, 12, 16),
  fields: fc.array(field, { maxLength: 8 }),
  deliverEncoderStream: fc.boolean(),
  deliverDecoderStream: fc.boolean(),
});

/** Delivers `bytes` to `sink` split at the raw cut points. */
function deliver(bytes: Uint8Array, raw: number[], sink: (b: Uint8Array) => unknown): void {
  const cuts = raw.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    sink(bytes.subarray(at, cut));
    at = cut;
  }
}

/** Dynamic references (Required Insert Count) of an encoded section. */
function requiredInsertCount(block: Uint8Array, maxEntries: number, inserts: number): number {
  return readFieldSectionPrefix(new ByteReader(block), maxEntries, inserts).requiredInsertCount;
}

describe('QPACK encoder -> decoder', () => {
  it('round-trips random field sections with the static table only', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 12 }), (fields) => {
        const encoder = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
        const decoder = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
        const block = encoder.encode(0, fields, { shouldInsert: () => true });
        expect(encoder.takeEncoderStreamData().length).toBe(0);
        expect(toHex(block.subarray(0, 2))).toBe('0000');
        const result = decoder.decodeFieldSection(0, block);
        expect(result.status === 'decoded' && result.fields).toEqual(fields);
        expect(decoder.takeDecoderStreamData().length).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips sequences of sections with the dynamic table, reordering and late acks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(64, 220, 4096),
        fc.constantFrom(0, 1, 3),
        fc.boolean(),
        fc.array(step, { minLength: 1, maxLength: 14 }),
        fc.array(fc.nat(1 << 16), { maxLength: 6 }),
        (maxTableCapacity, maxBlockedStreams, insertAlways, steps, cuts) => {
          const encoder = new QpackEncoder({
            maxTableCapacity,
            maxBlockedStreams,
            ...(insertAlways ? { shouldInsert: () => true } : {}),
          });
          const decoder = new QpackDecoder({ maxTableCapacity, maxBlockedStreams });
          let encoderStream: Uint8Array[] = [];
          let decoderStream: Uint8Array[] = [];
          const flushEncoderStream = () => {
            const unblocked: number[] = [];
            deliver(concatBytes(...encoderStream), cuts, (b) =>
              unblocked.push(...decoder.receiveEncoderStream(b)),
            );
            encoderStream = [];
            return unblocked;
          };
          for (const s of steps) {
            const blockedBefore = encoder.blockedStreamCount;
            const block = encoder.encode(s.streamId, s.fields);
            encoderStream.push(encoder.takeEncoderStreamData());
            expect(encoder.blockedStreamCount).toBeLessThanOrEqual(
              Math.max(maxBlockedStreams, blockedBefore),
            );
            if (s.deliverEncoderStream) flushEncoderStream();
            let result = decoder.decodeFieldSection(s.streamId, block);
            if (result.status === 'blocked') {
              // Only sections referencing unacknowledged entries may block, within the limit.
              expect(maxBlockedStreams).toBeGreaterThan(0);
              expect(flushEncoderStream()).toContain(s.streamId);
              result = decoder.decodeFieldSection(s.streamId, block);
            }
            expect(result.status === 'decoded' && result.fields).toEqual(s.fields);
            decoderStream.push(decoder.takeDecoderStreamData());
            if (s.deliverDecoderStream) {
              deliver(concatBytes(...decoderStream), cuts, (b) => encoder.receiveDecoderStream(b));
              decoderStream = [];
            }
          }
          flushEncoderStream();
          encoder.receiveDecoderStream(concatBytes(...decoderStream));
          encoder.receiveDecoderStream(decoder.takeDecoderStreamData());
          // Both sides hold the same table; every section is acknowledged.
          const strip = (rows: Array<{ absolute: number; name: string; value: string }>) =>
            rows.map((e) => [e.absolute, e.name, e.value]);
          expect(strip(decoder.tableSnapshot())).toEqual(strip(encoder.tableSnapshot()));
          expect(encoder.tableSnapshot().every((e) => e.refs === 0)).toBe(true);
          expect(encoder.knownReceivedCount).toBe(encoder.insertCount);
          expect(encoder.blockedStreamCount).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('uses the dynamic table for repeated fields and gets smaller', () => {
    const encoder = new QpackEncoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
    const decoder = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
    const fields: Field[] = [
      [':authority', 'proxy.example.net'],
      ['user-agent', 'masque-client/0.1'],
      ['x-custom', 'abcdefghijklmnop'],
    ];
    const first = encoder.encode(0, fields);
    const second = encoder.encode(4, fields); // inserted now, but unacknowledged: literals
    expect(second.length).toBe(first.length);
    decoder.receiveEncoderStream(encoder.takeEncoderStreamData());
    encoder.receiveDecoderStream(decoder.takeDecoderStreamData()); // Insert Count Increment
    const third = encoder.encode(8, fields);
    expect(toHex(third)).toBe('0400828180'); // RIC 3, Base 3, three relative indices
    const result = decoder.decodeFieldSection(8, third);
    expect(result.status === 'decoded' && result.fields).toEqual(fields);
    for (const [id, block] of [
      [0, first],
      [4, second],
    ] as const) {
      const r = decoder.decodeFieldSection(id, block);
      expect(r.status === 'decoded' && r.fields).toEqual(fields);
    }
  });

  it('never blocks more streams than SETTINGS_QPACK_BLOCKED_STREAMS allows (§2.1.2)', () => {
    const encoder = new QpackEncoder({
      maxTableCapacity: 1000,
      maxBlockedStreams: 2,
      shouldInsert: () => true,
    });
    const maxEntries = Math.floor(1000 / 32);
    const rics = [0, 4, 8, 12].map((id) =>
      requiredInsertCount(encoder.encode(id, [[`x-${id}`, 'v']]), maxEntries, encoder.insertCount),
    );
    // Streams 0 and 4 may block; 8 and 12 must only use acknowledged entries (none): literals.
    expect(rics).toEqual([1, 2, 0, 0]);
    expect(encoder.blockedStreamCount).toBe(2);
    // A stream that may already block can reference more unacknowledged entries.
    const again = encoder.encode(4, [['x-12', 'v']]);
    expect(requiredInsertCount(again, maxEntries, encoder.insertCount)).toBe(4);
    expect(encoder.blockedStreamCount).toBe(2);
  });

  it('sends sensitive fields as never-indexed literals, and the decoder reports them', () => {
    const encoder = new QpackEncoder({
      maxTableCapacity: 1000,
      maxBlockedStreams: 10,
      shouldInsert: () => true,
    });
    const decoder = new QpackDecoder({ maxTableCapacity: 1000, maxBlockedStreams: 10 });
    const fields: Field[] = [
      ['authorization', 'Bearer secret'],
      ['x-secret', 'hush'],
      ['x-open', 'fine'],
    ];
    const block = encoder.encode(0, fields, { neverIndex: (n) => n !== 'x-open' });
    // Only x-open was inserted; authorization uses its static name with the N bit.
    expect(encoder.tableSnapshot().map((e) => e.name)).toEqual(['x-open']);
    const r = new ByteReader(block);
    readFieldSectionPrefix(r, 31, 1);
    expect(readFieldLine(r, 100)).toMatchObject({
      kind: 'literalNameRef',
      neverIndex: true,
      isStatic: true,
      nameIndex: 84,
    });
    expect(readFieldLine(r, 100)).toMatchObject({ kind: 'literalName', neverIndex: true });
    decoder.receiveEncoderStream(encoder.takeEncoderStreamData());
    const result = decoder.decodeFieldSection(0, block);
    expect(result.status === 'decoded' && result.neverIndexed).toEqual([0, 1]);
    expect(result.status === 'decoded' && result.fields).toEqual(fields);
  });

  it('Huffman-encodes literals only where shorter, per the huffman option', () => {
    const auto = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    // C.4.1: ":authority: www.example.com" -> static name 0, Huffman value.
    expect(toHex(auto.encode(0, [[':authority', 'www.example.com']]))).toBe(
      '0000508cf1e3c2e5f23a6ba0ab90f4ff',
    );
    // Octets that Huffman would lengthen stay raw.
    expect(toHex(auto.encode(0, [[':authority', '\u0000\u0001']]))).toBe('000050020001');
    const never = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0, huffman: 'never' });
    expect(toHex(never.encode(0, [[':authority', 'a']]))).toBe('0000500161');
  });

  it('rejects field strings that are not one octet per character', () => {
    const encoder = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    expect(() => encoder.encode(0, [['x', '\u20ac']])).toThrow(TypeError);
  });

  it('never evicts referenced or unacknowledged entries, under pressure from a small table', () => {
    const encoder = new QpackEncoder({
      maxTableCapacity: 128,
      maxBlockedStreams: 4,
      shouldInsert: () => true,
    });
    const decoder = new QpackDecoder({ maxTableCapacity: 128, maxBlockedStreams: 4 });
    const sections: Array<[number, Uint8Array, Field[]]> = [];
    for (let i = 0; i < 40; i++) {
      const fields: Field[] = [
        [`x-${i % 7}`, `${i % 3}`],
        ['x-k', `${i}`],
      ];
      sections.push([i * 4, encoder.encode(i * 4, fields), fields]);
      // Acknowledge only every fifth round, so many entries stay pinned meanwhile.
      if (i % 5 === 4) {
        decoder.receiveEncoderStream(encoder.takeEncoderStreamData());
        for (const [id, block, expected] of sections.splice(0)) {
          const r = decoder.decodeFieldSection(id, block);
          expect(r.status === 'decoded' && r.fields).toEqual(expected);
        }
        encoder.receiveDecoderStream(decoder.takeDecoderStreamData());
      }
    }
    expect(encoder.insertCount).toBeGreaterThan(4);
  });
});

describe('QPACK decoder errors', () => {
  const decoder = () => new QpackDecoder({ maxTableCapacity: 100, maxBlockedStreams: 1 });

  it('rejects invalid encoder instructions with QPACK_ENCODER_STREAM_ERROR', () => {
    // Capacity 101 above the maximum 100 (§4.3.1).
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('3f46')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    // Static name index 99 (§3.1).
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('3f45 ff24 00')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    // Dynamic name reference into an empty table, and Duplicate of nothing (§2.2.3).
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('3f45 80 00')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('3f45 00')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    // Entry of 34 bytes with capacity 0 (§3.2.2), and with capacity 33.
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('41 61 01 62')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('3f02 41 61 01 62')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
    // A string longer than anything that could fit the maximum capacity: rejected at its header.
    expect(qpackCode(() => decoder().receiveEncoderStream(fromHex('c0 7f ff 02')))).toBe(
      QPACK_ENCODER_STREAM_ERROR,
    );
  });

  it('treats more blocked streams than allowed as QPACK_DECOMPRESSION_FAILED (§2.1.2)', () => {
    const d = decoder();
    d.receiveEncoderStream(fromHex('3f45')); // capacity 100: MaxEntries 3
    // RIC 1 (encoded 2), Base 1, relative index 0.
    expect(d.decodeFieldSection(0, fromHex('020080')).status).toBe('blocked');
    expect(d.decodeFieldSection(0, fromHex('020080')).status).toBe('blocked'); // same stream
    expect(qpackCode(() => d.decodeFieldSection(4, fromHex('020080')))).toBe(
      QPACK_DECOMPRESSION_FAILED,
    );
  });

  it('acknowledges a section refused as too large, and cancels streams', () => {
    const d = new QpackDecoder({
      maxTableCapacity: 100,
      maxBlockedStreams: 1,
      maxFieldSectionSize: 40,
    });
    d.receiveEncoderStream(fromHex('3f45 41 61 01 62')); // a: b
    expect(toHex(d.takeDecoderStreamData())).toBe('01');
    const tooLarge = d.decodeFieldSection(4, fromHex('0200 80 80')); // a: b twice = 68 bytes
    expect(tooLarge).toEqual({ status: 'tooLarge', requiredInsertCount: 1, size: 68 });
    d.cancelStream(4);
    expect(toHex(d.takeDecoderStreamData())).toBe('8444');
    // With a maximum capacity of 0, Stream Cancellation is omitted (§2.2.2.2 MAY).
    const none = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
    none.cancelStream(4);
    expect(none.takeDecoderStreamData().length).toBe(0);
  });
});

describe('QPACK encoder errors', () => {
  const encoder = () => {
    const e = new QpackEncoder({ maxTableCapacity: 100, maxBlockedStreams: 1 });
    e.insert('a', 'b'); // insert count 1, unacknowledged
    return e;
  };

  it('rejects invalid decoder instructions with QPACK_DECODER_STREAM_ERROR', () => {
    // Section Acknowledgment for a stream without unacknowledged sections (§4.4.1).
    expect(qpackCode(() => encoder().receiveDecoderStream(fromHex('84')))).toBe(
      QPACK_DECODER_STREAM_ERROR,
    );
    // Insert Count Increment of 0, and beyond what was sent (§4.4.3).
    expect(qpackCode(() => encoder().receiveDecoderStream(fromHex('00')))).toBe(
      QPACK_DECODER_STREAM_ERROR,
    );
    expect(qpackCode(() => encoder().receiveDecoderStream(fromHex('02')))).toBe(
      QPACK_DECODER_STREAM_ERROR,
    );
    // A second acknowledgment of a stream's only section.
    const e = encoder();
    e.encode(4, [['a', 'b']]);
    e.receiveDecoderStream(fromHex('84'));
    expect(qpackCode(() => e.receiveDecoderStream(fromHex('84')))).toBe(QPACK_DECODER_STREAM_ERROR);
    // Stream Cancellation of an unknown stream is harmless.
    e.receiveDecoderStream(fromHex('7f00'));
  });

  it('sends no encoder instructions when the peer allows no dynamic table (§3.2.3)', () => {
    const e = new QpackEncoder({
      maxTableCapacity: 0,
      maxBlockedStreams: 100,
      shouldInsert: () => true,
    });
    e.setCapacity(0);
    expect(e.insert('a', 'b')).toBeUndefined();
    e.encode(0, [['x', 'y']]);
    expect(e.takeEncoderStreamData().length).toBe(0);
    expect(() => e.setCapacity(1)).toThrow(RangeError);
  });
});
