/** Shared test helpers for the capsule and MASQUE codec tests. */
import fc from 'fast-check';
import { CapsuleError, type CapsuleErrorReason } from '../../src/capsule/errors.js';
import { encodeVarint, varintLength } from '../../src/wire/varint.js';

/** The CapsuleError reason `fn` throws, or undefined when it returns. Other errors escape. */
export function reasonOf(fn: () => unknown): CapsuleErrorReason | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof CapsuleError) return e.reason;
    throw e;
  }
}

/** Runs `fn`; anything thrown must be a CapsuleError carrying H3_DATAGRAM_ERROR. */
export function succeedsOrCapsuleError(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CapsuleError) || e.code !== 0x33) throw e;
  }
}

/** A varint, optionally in a longer encoding than needed (RFC 9000 §16 allows it). */
export function varintBytes(value: number | bigint, length?: 1 | 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(length ?? varintLength(value));
  encodeVarint(out, 0, value, length);
  return out;
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, clamped). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(Math.max(c, 0), bytes.length)))].sort(
    (a, b) => a - b,
  );
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** Arbitrary bytes of up to `max` bytes. */
export const bytesArb = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
