/**
 * Time as state machines above the transport see it: a reading and one-shot timers. The Node
 * runtime's clock (`src/runtime/clock.ts`) is monotonic milliseconds with `setTimeout` beneath;
 * {@link ManualClock} is virtual time for tests and simulations, advanced by hand.
 */

/** A scheduled callback; `cancel` is idempotent. */
export interface ScheduledTimer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on this clock (monotonic). */
  now(): number;
  /**
   * Calls `cb` once, `delayMs` from now (at the earliest). The timer never keeps a process alive
   * by itself: a clock owns no work of its own.
   */
  schedule(delayMs: number, cb: () => void): ScheduledTimer;
}

interface Entry {
  at: number;
  seq: number;
  cb: () => void;
  cancelled: boolean;
}

/** Virtual time: timers fire only inside {@link ManualClock.advance}, in deadline order. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Entry[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, cb: () => void): ScheduledTimer {
    const entry: Entry = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      cb,
      cancelled: false,
    };
    this.#pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pending(): number {
    return this.#pending.filter((e) => !e.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way at its own deadline (earliest
   * first, ties in scheduling order); timers scheduled by callbacks fire too if due.
   */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#pending = this.#pending.filter((e) => !e.cancelled);
      let next: Entry | undefined;
      for (const e of this.#pending) {
        if (
          e.at <= end &&
          (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))
        ) {
          next = e;
        }
      }
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.cb();
    }
    this.#now = end;
  }
}
