import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrames,
  type Frame,
  frameLength,
  parseFrames,
  streamDataCapacity,
  writeFrame,
} from '../../../src/quic/frames/index.js';
import { ByteWriter } from '../../../src/wire/index.js';
import { framesPayload } from './arbitraries.js';

const RUNS = { numRuns: 2000 };

describe('payloads of several frames', () => {
  it('decode to the same frames in order, with a fixed-size writer', () => {
    fc.assert(
      fc.property(framesPayload(), (frames) => {
        const bytes = encodeFrames(frames);
        let total = 0;
        for (const f of frames) total += frameLength(f);
        expect(bytes.length).toBe(total);
        expect(parseFrames(bytes, '1')).toEqual(frames);
      }),
      RUNS,
    );
  });

  it('decode from a view into a larger buffer (byteOffset honoured)', () => {
    fc.assert(
      fc.property(framesPayload(), fc.nat(40), (frames, pad) => {
        const bytes = encodeFrames(frames);
        const big = new Uint8Array(pad + bytes.length + 7).fill(0xee);
        big.set(bytes, pad);
        expect(parseFrames(big.subarray(pad, pad + bytes.length), '1')).toEqual(frames);
      }),
      { numRuns: 500 },
    );
  });

  it('byte fields are zero-copy views into the payload', () => {
    const bytes = encodeFrames([
      { kind: 'STREAM', streamId: 4, offset: 0, data: Uint8Array.of(1, 2, 3), fin: false },
    ]);
    const [f] = parseFrames(bytes, '1');
    expect(f.kind === 'STREAM' && f.data.buffer).toBe(bytes.buffer);
  });
});

describe('streamDataCapacity', () => {
  it('is the largest data length whose STREAM frame fits the space', () => {
    fc.assert(
      fc.property(
        fc.nat(2 ** 40),
        fc.oneof(fc.constant(0), fc.nat(2 ** 40)),
        fc.integer({ min: 0, max: 20_000 }),
        (streamId, offset, space) => {
          const n = streamDataCapacity(streamId, offset, space);
          const len = (k: number): number =>
            frameLength({ kind: 'STREAM', streamId, offset, data: new Uint8Array(k), fin: false });
          if (n > 0) expect(len(n)).toBeLessThanOrEqual(space);
          expect(len(n + 1)).toBeGreaterThan(space);
        },
      ),
      RUNS,
    );
  });
});

describe('clamped limits', () => {
  it('MAX_DATA of 2^62-1 reads as MAX_SAFE_INTEGER and re-encodes to the same bytes', () => {
    const bytes = Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    const frames = parseFrames(bytes, '1');
    expect(frames).toEqual([{ kind: 'MAX_DATA', maximum: Number.MAX_SAFE_INTEGER }]);
    expect(encodeFrames(frames)).toEqual(bytes);
  });

  it('MAX_STREAMS of 2^60 reads as MAX_SAFE_INTEGER and re-encodes as 2^60', () => {
    const bytes = Uint8Array.of(0x13, 0xd0, 0, 0, 0, 0, 0, 0, 0);
    const frames = parseFrames(bytes, '1');
    expect(frames).toEqual([
      { kind: 'MAX_STREAMS', bidi: false, maximum: Number.MAX_SAFE_INTEGER },
    ]);
    expect(encodeFrames(frames)).toEqual(bytes);
  });

  it('error codes above 2^53 read as MAX_SAFE_INTEGER (CONNECTION_CLOSE, RESET_STREAM)', () => {
    const max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const close = parseFrames(Uint8Array.of(0x1d, ...max, 0), '1');
    expect(close).toEqual([
      {
        kind: 'CONNECTION_CLOSE',
        application: true,
        errorCode: Number.MAX_SAFE_INTEGER,
        frameType: 0,
        reason: new Uint8Array(0),
      },
    ]);
    const reset = parseFrames(Uint8Array.of(0x04, 1, ...max, 7), '1');
    expect(reset).toEqual([
      { kind: 'RESET_STREAM', streamId: 1, errorCode: Number.MAX_SAFE_INTEGER, finalSize: 7 },
    ]);
  });
});

describe('writers reject frames that cannot be encoded', () => {
  const bad: [string, Frame][] = [
    ['ACK without ranges', { kind: 'ACK', ranges: [], ackDelay: 0, ecn: null }],
    [
      'ACK ascending',
      {
        kind: 'ACK',
        ranges: [
          [0, 1],
          [5, 6],
        ],
        ackDelay: 0,
        ecn: null,
      },
    ],
    [
      'ACK adjacent',
      {
        kind: 'ACK',
        ranges: [
          [2, 5],
          [0, 1],
        ],
        ackDelay: 0,
        ecn: null,
      },
    ],
    ['ACK lo > hi', { kind: 'ACK', ranges: [[5, 3]], ackDelay: 0, ecn: null }],
    ['NEW_TOKEN empty', { kind: 'NEW_TOKEN', token: new Uint8Array(0) }],
    [
      'NEW_CONNECTION_ID 21-byte CID',
      {
        kind: 'NEW_CONNECTION_ID',
        sequenceNumber: 1,
        retirePriorTo: 0,
        connectionId: new Uint8Array(21),
        statelessResetToken: new Uint8Array(16),
      },
    ],
    [
      'NEW_CONNECTION_ID retire > sequence',
      {
        kind: 'NEW_CONNECTION_ID',
        sequenceNumber: 1,
        retirePriorTo: 2,
        connectionId: new Uint8Array(4),
        statelessResetToken: new Uint8Array(16),
      },
    ],
    ['PATH_CHALLENGE 7 bytes', { kind: 'PATH_CHALLENGE', data: new Uint8Array(7) }],
    [
      'STREAM beyond 2^53-1',
      {
        kind: 'STREAM',
        streamId: 0,
        offset: Number.MAX_SAFE_INTEGER,
        data: new Uint8Array(1),
        fin: false,
      },
    ],
    ['PADDING of 0', { kind: 'PADDING', length: 0 }],
    ['negative stream id', { kind: 'RETIRE_CONNECTION_ID', sequenceNumber: -1 }],
  ];
  for (const [name, frame] of bad) {
    it(name, () => {
      expect(() => writeFrame(new ByteWriter(), frame)).toThrow(
        expect.objectContaining({ name: 'CodecError' }),
      );
    });
  }
});

describe('encodeFrames', () => {
  it('rejects a frame without a Length field before the last position', () => {
    const dgram: Frame = { kind: 'DATAGRAM', data: Uint8Array.of(1), implicitLength: true };
    expect(() => encodeFrames([dgram, { kind: 'PING' }])).toThrow(/must be the last frame/);
    expect(parseFrames(encodeFrames([{ kind: 'PING' }, dgram]), '1')).toHaveLength(2);
  });
});
