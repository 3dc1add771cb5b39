/**
 * Every fast-check property runs from a fixed seed, so the suite generates the same inputs on
 * every run and every machine (vitest loads this file before each test file: `setupFiles` in
 * vitest.config.ts).
 *
 * MASQUE_FC_SEED: set it to an integer to run the properties from another seed, e.g. to explore
 * (`MASQUE_FC_SEED=$RANDOM npx vitest run test/qpack`) or to replay a failure. A failing property
 * reports the seed and the path of its counterexample ("seed: 1835103089, path: ..."); the same
 * seed reproduces it, and passing `{ seed, path }` to that one `fc.assert` replays it directly.
 * A property that passes its own `seed` keeps it.
 */
import fc from 'fast-check';

/** "masq" in ASCII: the seed used when MASQUE_FC_SEED is not set. */
export const DEFAULT_FC_SEED = 0x6d617371;

function seedFromEnv(): number {
  const raw = process.env.MASQUE_FC_SEED;
  if (raw === undefined || raw.trim() === '') return DEFAULT_FC_SEED;
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`MASQUE_FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  }
  return seed;
}

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: seedFromEnv() });
