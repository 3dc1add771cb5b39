/**
 * Staggered connection attempts (attempts.ts, RFC 8305 §5), driven by a hand-held clock: the
 * next attempt starts after the Connection Attempt Delay or at once on a failure, the first
 * success wins, a late success is closed, and all failing rejects with the last error.
 */
import { describe, expect, it } from 'vitest';
import { CONNECTION_ATTEMPT_DELAY_MS, raceAttempts } from '../../src/client/attempts.js';

/** An attempt the test settles by hand. */
function deferred() {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A clock whose delays fire when the test says. */
function handClock() {
  const waiting: Array<{ ms: number; fire: () => void }> = [];
  return {
    wait: (ms: number) => new Promise<void>((fire) => waiting.push({ ms, fire })),
    fireNext: () => waiting.shift()?.fire(),
    waiting,
  };
}

/** An attempt that records its start in `log` and then is `p`. */
function recorded(log: string[], name: string, p: () => Promise<string>) {
  return () => {
    log.push(name);
    return p();
  };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('raceAttempts', () => {
  it('uses the 250 ms of RFC 8305 §8', () => {
    expect(CONNECTION_ATTEMPT_DELAY_MS).toBe(250);
  });

  it('the next attempt waits for the delay; the first to succeed wins; the late one is closed', async () => {
    const clock = handClock();
    const [v6, v4] = [deferred(), deferred()];
    const started: string[] = [];
    const disposed: string[] = [];
    const result = raceAttempts(
      [recorded(started, 'v6', () => v6.promise), recorded(started, 'v4', () => v4.promise)],
      { delayMs: 250, dispose: (l) => disposed.push(l), wait: clock.wait },
    );
    await flush();
    expect(started).toEqual(['v6']);
    expect(clock.waiting.map((w) => w.ms)).toEqual([250]);
    clock.fireNext();
    await flush();
    expect(started).toEqual(['v6', 'v4']);
    v4.resolve('v4 link');
    expect(await result).toBe('v4 link');
    v6.resolve('v6 link');
    await flush();
    expect(disposed).toEqual(['v6 link']);
  });

  it('a success within the delay starts nothing else', async () => {
    const clock = handClock();
    const v6 = deferred();
    const started: string[] = [];
    const result = raceAttempts(
      [
        recorded(started, 'v6', () => v6.promise),
        recorded(started, 'v4', () => Promise.resolve('x')),
      ],
      { delayMs: 250, dispose: () => {}, wait: clock.wait },
    );
    v6.resolve('v6 link');
    expect(await result).toBe('v6 link');
    clock.fireNext();
    await flush();
    expect(started).toEqual(['v6']);
  });

  it('a failure starts the next attempt at once, without waiting for the delay', async () => {
    const clock = handClock();
    const [v6, v4] = [deferred(), deferred()];
    const started: string[] = [];
    const result = raceAttempts(
      [recorded(started, 'v6', () => v6.promise), recorded(started, 'v4', () => v4.promise)],
      { delayMs: 250, dispose: () => {}, wait: clock.wait },
    );
    v6.reject(new Error('ENETUNREACH'));
    await flush();
    expect(started).toEqual(['v6', 'v4']);
    v4.resolve('v4 link');
    expect(await result).toBe('v4 link');
  });

  it('every attempt failing rejects with the last error', async () => {
    const clock = handClock();
    const result = raceAttempts(
      [() => Promise.reject(new Error('first')), () => Promise.reject(new Error('last'))],
      { delayMs: 250, dispose: () => {}, wait: clock.wait },
    );
    await expect(result).rejects.toThrow('last');
    await expect(raceAttempts([], { delayMs: 1, dispose: () => {} })).rejects.toThrow(
      'no connection attempt',
    );
  });
});
