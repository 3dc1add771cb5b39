import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import {
  encodeFrames,
  forEachFrame,
  KNOWN_FRAME_TYPES,
  type PacketType,
  parseFrames,
} from '../../../src/quic/frames/index.js';
import { framesPayload } from './arbitraries.js';

const packetType = fc.constantFrom<PacketType>('I', '0', 'H', '1');
const CODES = new Set<number>([
  TransportErrorCode.FRAME_ENCODING_ERROR,
  TransportErrorCode.PROTOCOL_VIOLATION,
]);

/** Parses and accepts either success or a TransportError with a frame-level code. */
function parseOrTransportError(bytes: Uint8Array, packet: PacketType): void {
  try {
    parseFrames(bytes, packet);
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    expect(CODES.has(err.code)).toBe(true);
  }
}

// Bytes biased toward known frame types, so the fuzzer reaches the frame bodies.
const framey = fc
  .array(
    fc.oneof(
      fc.constantFrom(...KNOWN_FRAME_TYPES).map((t) => [t]),
      fc.uint8Array({ maxLength: 10 }).map((b) => [...b]),
      fc.constantFrom([0x40], [0x80], [0xc0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ),
    { maxLength: 20 },
  )
  .map((parts) => Uint8Array.from(parts.flat()));

// Valid payloads with a few bytes overwritten.
const mutated = fc
  .tuple(framesPayload(), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }))
  .map(([frames, edits]) => {
    const bytes = encodeFrames(frames).slice();
    for (const [at, v] of edits) if (bytes.length > 0) bytes[at % bytes.length] = v;
    return bytes;
  });

describe('arbitrary bytes into parseFrames: success or TransportError, never anything else', () => {
  it('uniform random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), packetType, parseOrTransportError), {
      numRuns: 5000,
    });
  });

  it('byte strings made of frame types and random fields', () => {
    fc.assert(fc.property(framey, packetType, parseOrTransportError), { numRuns: 5000 });
  });

  it('mutated valid payloads', () => {
    fc.assert(fc.property(mutated, packetType, parseOrTransportError), { numRuns: 5000 });
  });

  it('forEachFrame visits the same frames that parseFrames returns', () => {
    fc.assert(
      fc.property(framesPayload(), (frames) => {
        const seen: unknown[] = [];
        forEachFrame(encodeFrames(frames), '1', (f) => seen.push(f));
        expect(seen).toEqual(frames);
      }),
      { numRuns: 500 },
    );
  });
});
