/**
 * Reserved ("grease") code points of HTTP/3: `0x1f * N + 0x21` for non-negative `N`. The same
 * formula reserves frame types (RFC 9114 §7.2.8), setting identifiers (§7.2.4.1), error codes
 * (§8.1) and unidirectional stream types (§6.2.3), so that peers keep ignoring unknown values.
 *
 * The largest reserved value is 0x3ffffffffffffffe (§11.2), far above 2^53, so values are exact
 * `bigint`s here; recognition accepts either a `bigint` or a `number`.
 */
import { type Random, randomInt } from '../util/random.js';
import { CodecError } from '../wire/errors.js';
import { VARINT_MAX } from '../wire/varint.js';

const STEP = 0x1fn;
const OFFSET = 0x21n;

/** The largest `N` whose code point `0x1f * N + 0x21` still fits a varint (gives 0x3ffffffffffffffe). */
export const RESERVED_N_MAX: bigint = (VARINT_MAX - OFFSET) / STEP;

/**
 * The reserved code point for `N` (RFC 9114 §7.2.8, §7.2.4.1, §8.1, §6.2.3): `0x1f * N + 0x21`.
 * `N` comes from the caller's randomness. Throws `CodecError('VARINT_RANGE')` for a negative,
 * fractional or too large `N`.
 */
export function reservedCodePoint(n: number | bigint): bigint {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) {
    throw new CodecError('VARINT_RANGE', `grease N must be a safe integer, got ${n}`);
  }
  const big = BigInt(n);
  if (big < 0n || big > RESERVED_N_MAX) {
    throw new CodecError('VARINT_RANGE', `grease N ${big} outside 0..${RESERVED_N_MAX}`);
  }
  return STEP * big + OFFSET;
}

/** True when `value` has the form `0x1f * N + 0x21` (and is a valid varint value). */
export function isReservedCodePoint(value: number | bigint): boolean {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0x21) return false;
    // Exact in number arithmetic while safe; beyond that only an (already inexact) bigint check.
    if (Number.isSafeInteger(value)) return (value - 0x21) % 0x1f === 0;
    value = BigInt(value);
  }
  return value >= OFFSET && value <= VARINT_MAX && (value - OFFSET) % STEP === 0n;
}

/**
 * A random reserved code point, with `N` uniform in `[0, nBound)` (default 2^32, which keeps the
 * value below 2^37: an 8-byte varint that still fits a `number`).
 */
export function randomReservedCodePoint(rng: Random, nBound = 0x1_0000_0000): bigint {
  return reservedCodePoint(randomInt(rng, nBound));
}
