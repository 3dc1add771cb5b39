import { describe, expect, it } from 'vitest';
import { TimerTable } from '../../src/util/timers.js';

describe('TimerTable', () => {
  it('exposes the earliest deadline and expires due timers in order', () => {
    const t = new TimerTable<'idle' | 'pto' | 'ack'>();
    expect(t.next()).toBeUndefined();
    t.set('idle', 30_000);
    t.set('pto', 300);
    t.set('ack', 25);
    expect(t.next()).toBe(25);
    expect(t.expire(24)).toEqual([]);
    expect(t.expire(400)).toEqual(['ack', 'pto']);
    expect(t.next()).toBe(30_000);
    t.set('idle', 1_000);
    expect(t.get('idle')).toBe(1_000);
    t.clear('idle');
    expect(t.next()).toBeUndefined();
  });
});
