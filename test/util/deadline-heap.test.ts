import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../src/util/deadline-heap.js';

type Op =
  | { kind: 'set'; key: number; at: number | undefined }
  | { kind: 'delete'; key: number }
  | { kind: 'popDue'; now: number };

const KEYS = 12;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: KEYS - 1 }),
      // Small ranges so equal deadlines (ties) are common.
      at: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined, freq: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      key: fc.integer({ min: 0, max: KEYS - 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('popDue' as const),
      now: fc.integer({ min: -1, max: 45 }),
    }),
  },
);

/** The naive model: a Map scanned for its minimum. */
function modelMin(model: Map<number, number>): number | undefined {
  let min: number | undefined;
  for (const at of model.values()) if (min === undefined || at < min) min = at;
  return min;
}

describe('DeadlineHeap', () => {
  it('keeps the earliest deadline and pops due keys earliest first', () => {
    const h = new DeadlineHeap<string>();
    expect(h.peek()).toBeUndefined();
    expect(h.popDue(1e9)).toBeUndefined();
    h.set('idle', 30_000);
    h.set('pto', 300);
    h.set('ack', 25);
    expect(h.peek()).toBe(25);
    expect(h.peekKey()).toBe('ack');
    expect(h.popDue(24)).toBeUndefined();
    expect(h.popDue(400)).toBe('ack');
    expect(h.popDue(400)).toBe('pto');
    expect(h.popDue(400)).toBeUndefined();
    expect(h.peek()).toBe(30_000);
    h.set('idle', 1_000);
    expect(h.get('idle')).toBe(1_000);
    h.set('idle', undefined);
    expect(h.has('idle')).toBe(false);
    expect(h.size).toBe(0);
  });

  it('refuses NaN, which would break the ordering', () => {
    expect(() => new DeadlineHeap<number>().set(1, Number.NaN)).toThrow(RangeError);
  });

  it('matches a scanned Map under random set / delete / popDue sequences (seeded)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const h = new DeadlineHeap<number>();
        const model = new Map<number, number>();
        for (const op of ops) {
          if (op.kind === 'set') {
            h.set(op.key, op.at);
            if (op.at === undefined) model.delete(op.key);
            else model.set(op.key, op.at);
          } else if (op.kind === 'delete') {
            expect(h.delete(op.key)).toBe(model.delete(op.key));
          } else {
            // Pop every due key: the deadlines come out non-decreasing, and the set popped is
            // exactly the model's due set (ties may come out in any order).
            const popped: number[] = [];
            let last = Number.NEGATIVE_INFINITY;
            for (let k = h.popDue(op.now); k !== undefined; k = h.popDue(op.now)) {
              const at = model.get(k);
              expect(at).toBeDefined();
              expect(at as number).toBeGreaterThanOrEqual(last);
              expect(at as number).toBeLessThanOrEqual(op.now);
              last = at as number;
              popped.push(k);
            }
            const due = [...model].filter(([, at]) => at <= op.now).map(([k]) => k);
            expect(popped.sort((a, b) => a - b)).toEqual(due.sort((a, b) => a - b));
            for (const k of popped) model.delete(k);
          }
          expect(h.size).toBe(model.size);
          expect(h.peek()).toBe(modelMin(model));
          const top = h.peekKey();
          if (top !== undefined) expect(model.get(top)).toBe(modelMin(model));
          for (let k = 0; k < KEYS; k++) expect(h.get(k)).toBe(model.get(k));
        }
      }),
      { seed: 9_000, numRuns: 1_500 },
    );
  });

  it('holds 20,000 keys and pops them in order', () => {
    const h = new DeadlineHeap<number>();
    let x = 12345;
    const ats: number[] = [];
    for (let k = 0; k < 20_000; k++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      ats.push(x % 1_000_000);
      h.set(k, ats[k]);
    }
    for (let k = 0; k < 20_000; k += 2) h.set(k, ats[k] + 7);
    let last = -1;
    let n = 0;
    for (let k = h.popDue(2e6); k !== undefined; k = h.popDue(2e6)) {
      const at = k % 2 === 0 ? ats[k] + 7 : ats[k];
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
      n++;
    }
    expect(n).toBe(20_000);
  });
});
