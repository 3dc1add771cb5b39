import { expect } from 'vitest';
import { TransportError } from '../../../src/quic/errors.js';
import type { StreamLimitParameters } from '../../../src/quic/streams/index.js';
import { SeededRandom } from '../../../src/util/random.js';

/** `n` deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  new SeededRandom(seed).fill(out);
  return out;
}

/** Runs `fn` and checks it throws a TransportError with `code` (and `frameType` when given). */
export function expectTransportError(fn: () => unknown, code: number, frameType?: number): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a TransportError').toBeInstanceOf(TransportError);
  const te = caught as TransportError;
  expect(te.code).toBe(code);
  if (frameType !== undefined) expect(te.frameType).toBe(frameType);
}

/** Stream limit parameters with every field set to `n` unless overridden. */
export function limits(
  n: number,
  overrides: Partial<StreamLimitParameters> = {},
): StreamLimitParameters {
  return {
    initialMaxData: n,
    initialMaxStreamDataBidiLocal: n,
    initialMaxStreamDataBidiRemote: n,
    initialMaxStreamDataUni: n,
    initialMaxStreamsBidi: n,
    initialMaxStreamsUni: n,
    ...overrides,
  };
}

/** Concatenates chunks. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** Fisher-Yates shuffle driven by a seeded generator. */
export function shuffle<T>(items: T[], rng: SeededRandom): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.nextU32() % (i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}
