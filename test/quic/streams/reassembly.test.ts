import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReassemblyBuffer, RecvStream, RecvStreamState } from '../../../src/quic/streams/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual } from '../../../src/wire/index.js';
import { bytes, concat, shuffle } from './helpers.js';

/** A byte string cut into segments, plus overlapping duplicates, in a random order. */
const scenarioArb = fc
  .record({
    length: fc.integer({ min: 0, max: 1500 }),
    cuts: fc.array(fc.integer({ min: 1, max: 1499 }), { maxLength: 40 }),
    extras: fc.array(fc.tuple(fc.nat(1500), fc.integer({ min: 0, max: 300 })), { maxLength: 15 }),
    seed: fc.integer(),
    readMax: fc.integer({ min: 1, max: 400 }),
    readEvery: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ length, cuts, extras, seed, readMax, readEvery }) => {
    const points = [...new Set(cuts.filter((c) => c < length))].sort((a, b) => a - b);
    const bounds = [0, ...points, length];
    const segments: Array<[number, number]> = [];
    for (let i = 0; i + 1 < bounds.length; i++) segments.push([bounds[i], bounds[i + 1]]);
    if (length === 0) segments.push([0, 0]);
    for (const [start, len] of extras) {
      const s = Math.min(start, length);
      segments.push([s, Math.min(length, s + len)]);
    }
    shuffle(segments, new SeededRandom(seed));
    return { data: bytes(length, seed), segments, readMax, readEvery };
  });

describe('ReassemblyBuffer', () => {
  it('reassembles any segmentation, reordering and duplication exactly', () => {
    fc.assert(
      fc.property(scenarioArb, ({ data, segments, readMax, readEvery }) => {
        const buf = new ReassemblyBuffer();
        const out: Uint8Array[] = [];
        let step = 0;
        for (const [s, e] of segments) {
          buf.insert(s, data.subarray(s, e));
          if (buf.buffered < buf.readable) return false;
          if (++step % readEvery === 0) {
            const c = buf.read(readMax);
            if (c) {
              if (c.length > readMax) return false;
              out.push(c);
            }
          }
        }
        for (let c = buf.read(readMax); c; c = buf.read(readMax)) out.push(c);
        return (
          bytesEqual(concat(out), data) && buf.buffered === 0 && buf.readOffset === data.length
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('stores each byte once and counts only new bytes', () => {
    const buf = new ReassemblyBuffer();
    const data = bytes(100);
    expect(buf.insert(10, data.subarray(10, 20))).toBe(10);
    expect(buf.insert(15, data.subarray(15, 30))).toBe(10);
    expect(buf.insert(0, data.subarray(0, 40))).toBe(20);
    expect(buf.insert(5, data.subarray(5, 25))).toBe(0);
    expect(buf.buffered).toBe(40);
    expect(buf.readable).toBe(40);
  });

  it('copies new bytes, so the caller may reuse its packet buffer at once', () => {
    const buf = new ReassemblyBuffer();
    const packet = Uint8Array.of(1, 2, 3, 4);
    buf.insert(2, packet.subarray(0, 2));
    packet.fill(9);
    buf.insert(0, Uint8Array.of(7, 8));
    expect(buf.read()).toEqual(Uint8Array.of(7, 8));
    expect(buf.read()).toEqual(Uint8Array.of(1, 2));
  });

  it('fed one byte at a time in reverse order, delivers nothing until the gap closes', () => {
    const data = bytes(64, 7);
    const buf = new ReassemblyBuffer();
    for (let i = data.length - 1; i > 0; i--) {
      buf.insert(i, data.subarray(i, i + 1));
      expect(buf.read()).toBeNull();
      expect(buf.outOfOrder).toBe(data.length - i);
    }
    buf.insert(0, data.subarray(0, 1));
    expect(buf.readable).toBe(64);
    const out: Uint8Array[] = [];
    for (let c = buf.read(); c; c = buf.read()) out.push(c);
    expect(concat(out)).toEqual(data);
  });

  it('discard() drops held bytes and moves the read offset', () => {
    const buf = new ReassemblyBuffer();
    buf.insert(0, bytes(10));
    buf.insert(20, bytes(5));
    buf.discard(25);
    expect(buf.buffered).toBe(0);
    expect(buf.readOffset).toBe(25);
    expect(buf.insert(20, bytes(10))).toBe(5);
    expect(buf.read()?.length).toBe(5);
  });
});

describe('RecvStream reassembly', () => {
  it('random segmentation/reordering/duplication through RecvStream reassembles exactly', () => {
    fc.assert(
      fc.property(scenarioArb, ({ data, segments, readMax, readEvery }) => {
        const rs = new RecvStream(0, data.length);
        const out: Uint8Array[] = [];
        let step = 0;
        let credited = 0;
        for (const [s, e] of segments) {
          credited += rs.onData(s, data.subarray(s, e), e === data.length);
          if (++step % readEvery === 0) {
            const c = rs.read(readMax);
            if (c) out.push(c);
          }
        }
        for (let c = rs.read(readMax); c; c = rs.read(readMax)) out.push(c);
        rs.read();
        // Highest-offset growth summed over all frames is exactly the final size.
        return (
          bytesEqual(concat(out), data) &&
          rs.state === RecvStreamState.DataRead &&
          rs.finished &&
          credited === data.length
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('a stream fed one byte per STREAM frame at random split points reads back intact', () => {
    const data = bytes(300, 3);
    const rs = new RecvStream(4, 300);
    const out: Uint8Array[] = [];
    for (let i = 0; i < data.length; i++) {
      rs.onData(i, data.subarray(i, i + 1), i === data.length - 1);
      if (i % 7 === 0) {
        const c = rs.read(3);
        if (c) out.push(c);
      }
    }
    for (let c = rs.read(); c; c = rs.read()) out.push(c);
    expect(concat(out)).toEqual(data);
    expect(rs.finished).toBe(true);
  });
});
