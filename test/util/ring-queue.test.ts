import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingQueue } from '../../src/util/ring-queue.js';

type Op =
  | { kind: 'push'; value: number }
  | { kind: 'shift' }
  | { kind: 'rotate' }
  | { kind: 'clear' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('shift' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rotate' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('RingQueue', () => {
  it('is first in, first out across growth', () => {
    const q = new RingQueue<number>(2);
    expect(q.shift()).toBeUndefined();
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.shift()).toBe(0);
    q.push(5);
    expect(q.peek()).toBe(1);
    expect([0, 1, 2, 3, 4].map((i) => q.at(i))).toEqual([1, 2, 3, 4, 5]);
    expect(q.at(5)).toBeUndefined();
    expect(q.size).toBe(5);
  });

  it('matches an array under random push / shift / rotate / clear (seeded)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(opArb, { maxLength: 150 }),
        (cap, ops) => {
          const q = new RingQueue<number>(cap);
          const model: number[] = [];
          for (const op of ops) {
            if (op.kind === 'push') {
              q.push(op.value);
              model.push(op.value);
            } else if (op.kind === 'shift') {
              expect(q.shift()).toBe(model.shift());
            } else if (op.kind === 'rotate') {
              const v = q.shift();
              expect(v).toBe(model.shift());
              if (v !== undefined) {
                q.push(v);
                model.push(v);
              }
            } else {
              q.clear();
              model.length = 0;
            }
            expect(q.size).toBe(model.length);
            expect(q.peek()).toBe(model[0]);
            for (let i = 0; i < model.length; i++) expect(q.at(i)).toBe(model[i]);
          }
        },
      ),
      { seed: 9_001, numRuns: 1_000 },
    );
  });
});
