import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { encodeFrames, frameTypeOf, parseFrames } from '../../../src/quic/frames/index.js';
import { varintLength } from '../../../src/wire/index.js';
import { explicit, frameArbs } from './arbitraries.js';
import { causeCode, transportError } from './helpers.js';

// PADDING prefixes are shorter PADDING; PING, HANDSHAKE_DONE and IMMEDIATE_ACK are one byte.
const SKIP = new Set(['PADDING', 'PING', 'HANDSHAKE_DONE', 'IMMEDIATE_ACK']);

describe('every proper prefix of a frame fails with FRAME_ENCODING_ERROR caused by TRUNCATED', () => {
  for (const [kind, arb] of Object.entries(frameArbs)) {
    if (SKIP.has(kind)) continue;
    it(kind, () => {
      fc.assert(
        fc.property(arb, (frame) => {
          const f = explicit(frame);
          const bytes = encodeFrames([f]);
          for (let n = 1; n < bytes.length; n++) {
            const err = transportError(() => parseFrames(bytes.subarray(0, n), '1'));
            expect(err.code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
            // A cut inside a two-byte type (ACK_FREQUENCY, 0xaf) leaves the type unknown: 0.
            const type = frameTypeOf(f);
            expect(err.frameType).toBe(n < varintLength(type) ? 0 : type);
            expect(causeCode(err)).toBe('TRUNCATED');
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it('the empty prefix is PROTOCOL_VIOLATION (no frames)', () => {
    const err = transportError(() => parseFrames(new Uint8Array(0), '1'));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('implicit-length frames: every prefix that keeps the header is a shorter frame', () => {
    const bytes = encodeFrames([
      { kind: 'DATAGRAM', data: Uint8Array.of(1, 2, 3), implicitLength: true },
    ]);
    for (let n = 1; n <= bytes.length; n++) {
      expect(parseFrames(bytes.subarray(0, n), '1')).toEqual([
        { kind: 'DATAGRAM', data: bytes.subarray(1, n), implicitLength: true },
      ]);
    }
  });
});
