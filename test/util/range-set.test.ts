import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../src/util/range-set.js';

type Op = { kind: 'add' | 'remove' | 'removeBelow'; start: number; len: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('add', 'add', 'add', 'remove', 'removeBelow') as fc.Arbitrary<Op['kind']>,
  start: fc.integer({ min: 0, max: 200 }),
  len: fc.integer({ min: 0, max: 20 }),
});

function members(s: RangeSet): number[] {
  const out: number[] = [];
  for (const [a, b] of s.ascending()) for (let i = a; i < b; i++) out.push(i);
  return out;
}

describe('RangeSet', () => {
  it('matches a plain Set under random add/remove sequences, staying canonical', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const rs = new RangeSet();
        const model = new Set<number>();
        for (const op of ops) {
          const end = op.start + op.len;
          if (op.kind === 'add') {
            let fresh = 0;
            for (let i = op.start; i < end; i++) if (!model.has(i)) fresh++;
            for (let i = op.start; i < end; i++) model.add(i);
            expect(rs.add(op.start, end)).toBe(fresh);
          } else if (op.kind === 'remove') {
            for (let i = op.start; i < end; i++) model.delete(i);
            rs.remove(op.start, end);
          } else {
            for (const v of [...model]) if (v < op.start) model.delete(v);
            rs.removeBelow(op.start);
          }
        }
        const sorted = [...model].sort((a, b) => a - b);
        expect(members(rs)).toEqual(sorted);
        // Canonical: disjoint, non-adjacent, non-empty.
        let prevEnd = -2;
        for (const [a, b] of rs.ascending()) {
          expect(b).toBeGreaterThan(a);
          expect(a).toBeGreaterThan(prevEnd);
          prevEnd = b;
        }
        for (let v = 0; v < 230; v++) expect(rs.has(v)).toBe(model.has(v));
        expect(rs.min).toBe(sorted[0]);
        expect(rs.max).toBe(sorted[sorted.length - 1]);
      }),
      { numRuns: 2000 },
    );
  });

  it('covers, contiguousEnd, descending order and keepHighest', () => {
    const rs = new RangeSet();
    rs.add(0, 5);
    rs.add(10, 12);
    rs.add(5, 7);
    expect([...rs.ascending()]).toEqual([
      [0, 7],
      [10, 12],
    ]);
    expect([...rs.descending()]).toEqual([
      [10, 12],
      [0, 7],
    ]);
    expect(rs.covers(2, 7)).toBe(true);
    expect(rs.covers(2, 8)).toBe(false);
    expect(rs.contiguousEnd(0)).toBe(7);
    expect(rs.contiguousEnd(8)).toBe(8);
    rs.keepHighest(1);
    expect([...rs.ascending()]).toEqual([[10, 12]]);
  });
});
