/**
 * Worker marks in connection IDs (src/quic/cid/steering.ts): every CID a worker makes steers to
 * it, the marked byte takes every value congruent to the worker (it stays as random as it can),
 * the other bytes are untouched, and bad worker numbers are refused.
 */
import { describe, expect, it } from 'vitest';
import { CidSteering } from '../../../src/quic/cid/steering.js';
import { SeededRandom } from '../../../src/util/random.js';

describe('CidSteering', () => {
  it('every CID a worker makes steers back to it, for 1..256 workers', () => {
    const random = new SeededRandom(7);
    for (const workers of [1, 2, 3, 7, 16, 100, 255, 256]) {
      for (const worker of new Set([0, 1 % workers, workers - 1, Math.floor(workers / 2)])) {
        const s = new CidSteering(worker, workers);
        for (let n = 0; n < 50; n++) {
          const cid = s.next(random, 1 + (n % 20));
          expect(CidSteering.workerOf(cid, workers)).toBe(worker);
        }
      }
    }
  });

  it('the marked byte covers every value congruent to the worker; the rest is left alone', () => {
    const s = new CidSteering(2, 5);
    const seen = new Set<number>();
    for (let b = 0; b < 256; b++) {
      const cid = Uint8Array.of(0xaa, 0xbb, b);
      s.mark(cid);
      expect(cid.subarray(0, 2)).toEqual(Uint8Array.of(0xaa, 0xbb));
      seen.add(cid[2]);
    }
    const congruent = Array.from({ length: 256 }, (_, v) => v).filter((v) => v % 5 === 2);
    expect([...seen].sort((x, y) => x - y)).toEqual(congruent);
  });

  it('an empty CID stays empty and steers nowhere', () => {
    expect(new CidSteering(0, 2).mark(new Uint8Array(0))).toHaveLength(0);
    expect(CidSteering.workerOf(new Uint8Array(0), 2)).toBeUndefined();
  });

  it('refuses worker numbers outside 0..N-1 and N outside 1..256', () => {
    expect(() => new CidSteering(2, 2)).toThrow(RangeError);
    expect(() => new CidSteering(-1, 2)).toThrow(RangeError);
    expect(() => new CidSteering(0, 0)).toThrow(RangeError);
    expect(() => new CidSteering(0, 257)).toThrow(RangeError);
    expect(() => new CidSteering(0.5, 2)).toThrow(RangeError);
  });
});
