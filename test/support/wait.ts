/**
 * Waiting in tests for what we expect to happen, instead of sleeping a fixed time and hoping it
 * happened: a loaded machine makes any fixed sleep too short some day, and an idle one makes it
 * too long every day. The deadlines here only turn a hang into a readable failure.
 */
import type { EventEmitter } from 'node:events';

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up (reject) after this long. Default 10 s (a hang guard, generous for loaded machines). */
  timeoutMs?: number;
  /** Poll period. Default 5 ms. */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/**
 * Resolves as soon as `cond()` holds (it may be async), checking it now and then every
 * `intervalMs`; rejects once `timeoutMs` passed without it holding.
 */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 5, what = 'condition' } = options;
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Settles like `p`, or rejects once `timeoutMs` passed first. */
export function within<T>(p: Promise<T>, timeoutMs: number, what = 'promise'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` that `emitter` emits (rejects after `timeoutMs`). */
export function once<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'once' | 'off'>,
  event: string,
  timeoutMs = 10_000,
): Promise<A> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const fired = new Promise<A>((resolve) => {
    listener = (...args: unknown[]) => resolve(args as A);
    emitter.once(event, listener);
  });
  return within(fired, timeoutMs, `event ${event}`).finally(() => {
    if (listener) emitter.off(event, listener);
  });
}

/**
 * Lets a fixed time pass. Only for "nothing more arrives" checks, where no event can say that
 * nothing happened: the caller asserts the absence after it and says so in a comment. Never use it
 * to wait for something to happen (use {@link waitFor}).
 */
export function settle(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
