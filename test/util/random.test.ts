import { describe, expect, it } from 'vitest';
import {
  randomBytes,
  randomFloat,
  randomInt,
  SeededRandom,
  systemRandom,
} from '../../src/util/random.js';

describe('Random', () => {
  it('SeededRandom is reproducible and seed-dependent', () => {
    const a = randomBytes(new SeededRandom(42), 64);
    const b = randomBytes(new SeededRandom(42), 64);
    const c = randomBytes(new SeededRandom(43), 64);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('randomInt stays in bounds and covers the range roughly evenly', () => {
    const rng = new SeededRandom(7);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const v = randomInt(rng, 10);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(10);
      counts[v]++;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const f = randomFloat(rng);
    expect(f >= 0 && f < 1).toBe(true);
    expect(() => randomInt(rng, 0)).toThrow();
  });

  it('systemRandom fills buffers', () => {
    const buf = new Uint8Array(32);
    systemRandom.fill(buf);
    expect(buf.some((b) => b !== 0)).toBe(true);
  });

  it('systemRandom never hands out the same pooled bytes twice, across pool refills', () => {
    // 3,000 requests of 16 bytes span several 8 KiB pool refills; 128-bit values never repeat.
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(16);
      systemRandom.fill(b);
      seen.add(Buffer.from(b).toString('hex'));
    }
    expect(seen.size).toBe(3000);
    // Large requests bypass the pool; sizes around the pool's edge are filled completely.
    for (const n of [255, 256, 257, 5000]) {
      const b = new Uint8Array(n);
      systemRandom.fill(b);
      expect(b.subarray(n - 16).some((x) => x !== 0)).toBe(true);
    }
  });
});
