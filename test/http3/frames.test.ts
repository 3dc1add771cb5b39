import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkFrameAllowed,
  encodeDataFrameHeader,
  encodeFrame,
  encodeHeadersFrameHeader,
  FRAME_RULES,
  frameHeaderLength,
  frameLength,
  frameTypeName,
  H3Error,
  H3ErrorCode,
  type H3Frame,
  H3FrameType,
  HTTP2_ONLY_FRAME_TYPES,
  isHttp2OnlyFrameType,
  isReservedFrameType,
  readFrame,
  readFrames,
  reservedFrameType,
  writeFrame,
} from '../../src/http3/index.js';
import {
  ByteReader,
  ByteWriter,
  CodecError,
  fromHex,
  toHex,
  VARINT_MAX,
} from '../../src/wire/index.js';
import { frameArb } from './arbitraries.js';

function h3Error(fn: () => unknown): H3Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    return err as H3Error;
  }
  throw new Error('expected an H3Error');
}

const FS = fromHex('0000d1'); // a QPACK field section: prefix 0000, static index 17 (:method GET)

// Hand-built from the layouts of RFC 9114 §7.2 (Type (i), Length (i), payload).
const VECTORS: Array<[H3Frame, string]> = [
  [{ kind: 'DATA', payload: fromHex('68656c6c6f') }, '00 05 68656c6c6f'],
  [{ kind: 'DATA', payload: new Uint8Array(0) }, '00 00'],
  [{ kind: 'HEADERS', fieldSection: FS }, '01 03 0000d1'],
  [{ kind: 'CANCEL_PUSH', pushId: 5n }, '03 01 05'],
  [{ kind: 'SETTINGS', settings: { maxFieldSectionSize: 1024 } }, '04 03 064400'],
  [{ kind: 'SETTINGS', settings: {} }, '04 00'],
  [{ kind: 'PUSH_PROMISE', pushId: 2n, fieldSection: FS }, '05 04 02 0000d1'],
  [{ kind: 'GOAWAY', id: 4n }, '07 01 04'],
  [{ kind: 'GOAWAY', id: VARINT_MAX }, '07 08 ffffffffffffffff'],
  [{ kind: 'MAX_PUSH_ID', pushId: 16384n }, '0d 04 80004000'],
  [{ kind: 'UNKNOWN', type: 0x21n, payload: fromHex('abcd') }, '21 02 abcd'],
  [{ kind: 'UNKNOWN', type: 0x3ffffffffffffffen, payload: fromHex('') }, 'fffffffffffffffe 00'],
];

describe('frame types (RFC 9114 §7.2, §11.2.1)', () => {
  it('has the registered values, the HTTP/2-only ones and Table 1', () => {
    expect(H3FrameType).toEqual({
      DATA: 0,
      HEADERS: 1,
      CANCEL_PUSH: 3,
      SETTINGS: 4,
      PUSH_PROMISE: 5,
      GOAWAY: 7,
      MAX_PUSH_ID: 0xd,
    });
    expect(HTTP2_ONLY_FRAME_TYPES).toEqual([2, 6, 8, 9]);
    for (const t of [2, 6, 8, 9, 2n, 9n]) expect(isHttp2OnlyFrameType(t)).toBe(true);
    for (const t of [0, 1, 3, 4, 5, 7, 0xd, 0x21, 0x102n])
      expect(isHttp2OnlyFrameType(t)).toBe(false);
    const table = Object.fromEntries(
      Object.entries(FRAME_RULES).map(([t, r]) => [
        frameTypeName(Number(t)),
        [r.control, r.request, r.push],
      ]),
    );
    expect(table).toEqual({
      DATA: [false, true, true],
      HEADERS: [false, true, true],
      CANCEL_PUSH: [true, false, false],
      SETTINGS: [true, false, false],
      PUSH_PROMISE: [false, true, false],
      GOAWAY: [true, false, false],
      MAX_PUSH_ID: [true, false, false],
    });
  });

  it('recognizes and names reserved types (§7.2.8)', () => {
    expect(isReservedFrameType(0x21)).toBe(true);
    expect(isReservedFrameType(reservedFrameType(1000n))).toBe(true);
    expect(isReservedFrameType(0x0d)).toBe(false);
    expect(frameTypeName(0x40)).toBe('RESERVED(0x40)');
    expect(frameTypeName(6)).toBe('HTTP2(0x6)');
    expect(frameTypeName(0x1234)).toBe('0x1234');
    expect(frameTypeName(4)).toBe('SETTINGS');
  });
});

describe('frame codecs (RFC 9114 §7)', () => {
  it('encodes and decodes the hand-built vectors byte for byte', () => {
    for (const [frame, hex] of VECTORS) {
      const bytes = encodeFrame(frame);
      expect(toHex(bytes)).toBe(hex.replace(/ /g, ''));
      expect(frameLength(frame)).toBe(bytes.length);
      expect(readFrames(bytes)).toEqual([frame]);
    }
  });

  it('header-only encoders match the start of the full frame (DATA and HEADERS)', () => {
    expect(toHex(encodeDataFrameHeader(5))).toBe('0005');
    expect(toHex(encodeHeadersFrameHeader(3))).toBe('0103');
    // A 2^40-byte DATA frame header: 8-byte length 11000000 ... 01 00 00 00 00 00.
    expect(toHex(encodeDataFrameHeader(2 ** 40))).toBe('00c000010000000000');
    expect(frameHeaderLength(0, 2 ** 40)).toBe(9);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20_000 }), (payload) => {
        const full = encodeFrame({ kind: 'DATA', payload });
        const head = encodeDataFrameHeader(payload.length);
        expect(toHex(full.subarray(0, head.length))).toBe(toHex(head));
        expect(full.length).toBe(head.length + payload.length);
        const h = encodeHeadersFrameHeader(payload.length);
        expect(
          toHex(encodeFrame({ kind: 'HEADERS', fieldSection: payload }).subarray(0, h.length)),
        ).toBe(toHex(h));
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips every frame kind, and frameLength equals the bytes written', () => {
    fc.assert(
      fc.property(frameArb(), (frame) => {
        const bytes = encodeFrame(frame);
        expect(frameLength(frame)).toBe(bytes.length);
        expect(readFrame(new ByteReader(bytes))).toEqual(frame);
        // Writes into an exactly-sized fixed buffer too.
        const fixed = new Uint8Array(bytes.length);
        writeFrame(ByteWriter.into(fixed), frame);
        expect(toHex(fixed)).toBe(toHex(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('every proper prefix of a frame fails with H3_FRAME_ERROR caused by TRUNCATED', () => {
    fc.assert(
      fc.property(frameArb(), (frame) => {
        const bytes = encodeFrame(frame);
        for (let cut = 0; cut < bytes.length; cut++) {
          const e = h3Error(() => readFrame(new ByteReader(bytes.subarray(0, cut))));
          expect(e.code).toBe(H3ErrorCode.H3_FRAME_ERROR);
          expect((e.cause as CodecError).code).toBe('TRUNCATED');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('accepts non-minimal varint encodings of type and length (RFC 9000 §16)', () => {
    expect(readFrames(fromHex('4000 4001 aa'))).toEqual([{ kind: 'DATA', payload: fromHex('aa') }]);
    expect(readFrames(fromHex('80000007 02 4004'))).toEqual([{ kind: 'GOAWAY', id: 4n }]);
  });

  it('a payload longer or shorter than its fields is H3_FRAME_ERROR (§7.1)', () => {
    const bad = [
      '07 02 0400', // GOAWAY with a trailing byte
      '07 00', // GOAWAY without its ID
      '07 01 40', // GOAWAY whose 2-byte varint is cut by the frame length
      '03 02 0500', // CANCEL_PUSH with a trailing byte
      '03 00',
      '0d 09 c0000000000000 0000', // MAX_PUSH_ID of 9 bytes
      '0d 00',
      '05 00', // PUSH_PROMISE without a Push ID
      '05 01 40', // PUSH_PROMISE whose Push ID is cut
      '04 01 06', // SETTINGS with an identifier but no value
      '04 02 0644 00', // SETTINGS whose 2-byte value is cut by the frame length
    ];
    for (const hex of bad) {
      expect(h3Error(() => readFrames(fromHex(hex))).code, hex).toBe(H3ErrorCode.H3_FRAME_ERROR);
    }
    // PUSH_PROMISE with an empty field section is well-formed at this layer (QPACK judges it).
    expect(readFrames(fromHex('05 01 07'))).toEqual([
      { kind: 'PUSH_PROMISE', pushId: 7n, fieldSection: new Uint8Array(0) },
    ]);
  });

  it('HTTP/2-only frame types are H3_FRAME_UNEXPECTED (§7.2.8)', () => {
    for (const hex of ['02 00', '06 08 0000000000000000', '08 04 00000001', '09 00', '4009 00']) {
      expect(h3Error(() => readFrames(fromHex(hex))).code, hex).toBe(
        H3ErrorCode.H3_FRAME_UNEXPECTED,
      );
    }
  });

  it('SETTINGS errors inside a frame keep their code', () => {
    expect(h3Error(() => readFrames(fromHex('04 02 0802'))).code).toBe(
      H3ErrorCode.H3_SETTINGS_ERROR,
    );
    expect(h3Error(() => readFrames(fromHex('04 04 0201 0601'))).code).toBe(
      H3ErrorCode.H3_SETTINGS_ERROR,
    );
  });

  it('refuses to encode an UNKNOWN frame with a registered or HTTP/2-only type', () => {
    for (const type of [0n, 4n, 0xdn, 2n, 9n]) {
      expect(() => encodeFrame({ kind: 'UNKNOWN', type, payload: new Uint8Array(0) })).toThrowError(
        CodecError,
      );
    }
    expect(() => encodeFrame({ kind: 'GOAWAY', id: VARINT_MAX + 1n })).toThrowError(CodecError);
  });

  it('decoding arbitrary bytes yields frames or an H3Error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          readFrames(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('checkFrameAllowed (RFC 9114 §6.2.1, §7.2 Table 1)', () => {
  const code = (type: number, ctx: Parameters<typeof checkFrameAllowed>[1]): number | undefined => {
    try {
      checkFrameAllowed(type, ctx);
      return undefined;
    } catch (err) {
      return (err as H3Error).code;
    }
  };
  const { H3_FRAME_UNEXPECTED: UNEXPECTED, H3_MISSING_SETTINGS: MISSING } = H3ErrorCode;

  it('control stream: SETTINGS first, exactly once; unknown first is H3_MISSING_SETTINGS', () => {
    expect(code(4, { stream: 'control', first: true })).toBeUndefined();
    expect(code(4, { stream: 'control', first: false })).toBe(UNEXPECTED);
    expect(code(7, { stream: 'control', first: true })).toBe(MISSING);
    expect(code(0x21, { stream: 'control', first: true })).toBe(MISSING);
    expect(code(0, { stream: 'control', first: true })).toBe(MISSING);
    for (const t of [3, 7, 0xd, 0x21, 0x1234])
      expect(code(t, { stream: 'control', first: false })).toBeUndefined();
    for (const t of [0, 1, 5])
      expect(code(t, { stream: 'control', first: false })).toBe(UNEXPECTED);
  });

  it('request and push streams follow Table 1; sender restrictions when the role is known', () => {
    for (const t of [0, 1, 5, 0x21])
      expect(code(t, { stream: 'request', first: false })).toBeUndefined();
    for (const t of [3, 4, 7, 0xd])
      expect(code(t, { stream: 'request', first: true })).toBe(UNEXPECTED);
    for (const t of [0, 1, 0x40]) expect(code(t, { stream: 'push', first: true })).toBeUndefined();
    for (const t of [3, 4, 5, 7, 0xd])
      expect(code(t, { stream: 'push', first: false })).toBe(UNEXPECTED);
    expect(code(5, { stream: 'request', first: false, sender: 'client' })).toBe(UNEXPECTED);
    expect(code(5, { stream: 'request', first: false, sender: 'server' })).toBeUndefined();
    expect(code(0xd, { stream: 'control', first: false, sender: 'server' })).toBe(UNEXPECTED);
    expect(code(0xd, { stream: 'control', first: false, sender: 'client' })).toBeUndefined();
    for (const t of HTTP2_ONLY_FRAME_TYPES) {
      for (const stream of ['control', 'request', 'push'] as const) {
        expect(code(t, { stream, first: false })).toBe(UNEXPECTED);
      }
    }
  });
});
