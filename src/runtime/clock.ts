/** The Node runtime's {@link Clock}: `performance.now()` and unref'd `setTimeout`. */
import { performance } from 'node:perf_hooks';
import type { Clock, ScheduledTimer } from '../util/clock.js';

export const nodeClock: Clock = {
  now: () => performance.now(),
  schedule(delayMs: number, cb: () => void): ScheduledTimer {
    // Node timers have 1 ms granularity: round up so the deadline has passed when it fires.
    const t = setTimeout(cb, Math.max(1, Math.ceil(delayMs)));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
