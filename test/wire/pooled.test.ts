import { describe, expect, it } from 'vitest';
import { pooledBytes, pooledCopy } from '../../src/wire/index.js';

describe('pooled copies (wire/pooled.ts)', () => {
  it('copies a window and owns it: later changes to the source or to other copies do not show', () => {
    const src = Uint8Array.from({ length: 100 }, (_, i) => i);
    const a = pooledCopy(src, 10, 20);
    const b = pooledCopy(src);
    expect(Array.from(a)).toEqual(Array.from(src.subarray(10, 20)));
    expect(b.length).toBe(100);
    src.fill(0xee);
    b.fill(0x11);
    expect(Array.from(a)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(a).not.toBeInstanceOf(Buffer); // a Buffer's slice() would not copy
  });

  it('never hands out overlapping bytes, across slabs, and gives large copies their own buffer', () => {
    const seen: Uint8Array[] = [];
    // 3 slabs' worth of 1,201-byte copies (odd sizes exercise the alignment).
    for (let i = 0; i < 170; i++) {
      const c = pooledBytes(1201);
      expect(c.every((x) => x === 0)).toBe(true);
      expect(c.byteOffset % 8).toBe(0);
      c.fill(i & 0xff);
      seen.push(c);
    }
    seen.forEach((c, i) => {
      expect(c.every((x) => x === (i & 0xff))).toBe(true);
    });
    const big = pooledBytes(5000);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(5000);
    expect(pooledBytes(0).length).toBe(0);
  });
});
