import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';

describe('ManualClock', () => {
  it('fires timers at their deadlines, earliest first, ties in scheduling order', () => {
    const clock = new ManualClock(100);
    const fired: Array<[string, number]> = [];
    const at = (name: string) => () => fired.push([name, clock.now()]);
    clock.schedule(30, at('c'));
    clock.schedule(10, at('a'));
    clock.schedule(10, at('b'));
    clock.schedule(50, at('late'));
    clock.advance(29);
    expect(fired).toEqual([
      ['a', 110],
      ['b', 110],
    ]);
    expect(clock.now()).toBe(129);
    clock.advance(1);
    expect(fired.at(-1)).toEqual(['c', 130]);
    expect(clock.pending).toBe(1);
  });

  it('cancelled timers never fire; timers scheduled by callbacks fire when due', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const t = clock.schedule(5, () => fired.push('cancelled'));
    clock.schedule(5, () => {
      fired.push('first');
      clock.schedule(5, () => fired.push(`second@${clock.now()}`));
    });
    t.cancel();
    t.cancel();
    clock.advance(20);
    expect(fired).toEqual(['first', 'second@10']);
    expect(clock.pending).toBe(0);
    expect(clock.now()).toBe(20);
  });
});
