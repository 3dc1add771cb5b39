import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameLength, parseFrames, writeFrame } from '../../../src/quic/frames/index.js';
import { ByteWriter } from '../../../src/wire/index.js';
import { frameArbs } from './arbitraries.js';

const RUNS = { numRuns: 2000 };

describe('every frame kind round-trips and frameLength equals the bytes written', () => {
  for (const [kind, arb] of Object.entries(frameArbs)) {
    it(kind, () => {
      fc.assert(
        fc.property(arb, (frame) => {
          const w = new ByteWriter(16);
          writeFrame(w, frame);
          expect(w.length).toBe(frameLength(frame));
          const decoded = parseFrames(w.view(), '1');
          expect(decoded).toEqual([frame]);
          expect(decoded[0].kind).toBe(kind);
        }),
        RUNS,
      );
    });
  }
});
