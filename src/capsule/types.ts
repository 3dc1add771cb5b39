/**
 * Capsule types and the in-memory shape of a capsule (RFC 9297 §3.2).
 */

/** Capsule types defined by RFC 9297 itself. Extensions define theirs beside their codecs. */
export const CapsuleType = {
  /** RFC 9297 §3.5: carries one HTTP Datagram on the request stream. */
  DATAGRAM: 0x00,
} as const;

/** One complete capsule as the parser emits it. */
export interface Capsule {
  /** Capsule Type (RFC 9297 §3.2). Only registered (known) types are emitted, so it is exact. */
  readonly type: number;
  /**
   * Capsule Value: exactly Capsule Length bytes. A zero-copy view of the chunk that was pushed
   * when the capsule arrived in one piece, otherwise a buffer owned by this capsule. Copy it
   * (`slice()`) to keep it beyond the life of the pushed chunk.
   */
  readonly value: Uint8Array;
}

const GREASE_BASE = 0x17n;
const GREASE_STEP = 0x29n;
const VARINT_MAX = (1n << 62n) - 1n;

/**
 * True for the reserved types of the form 0x29 * N + 0x17 (RFC 9297 §5.4), which exist to
 * exercise the rule that unknown capsule types are skipped.
 */
export function isGreaseCapsuleType(type: number | bigint): boolean {
  const t = typeof type === 'bigint' ? type : BigInt(type);
  return t >= GREASE_BASE && t <= VARINT_MAX && (t - GREASE_BASE) % GREASE_STEP === 0n;
}

/** The `n`-th reserved (grease) capsule type, 0x29 * n + 0x17 (RFC 9297 §5.4). */
export function greaseCapsuleType(n: number | bigint): bigint {
  const t = GREASE_STEP * BigInt(n) + GREASE_BASE;
  if (n < 0 || t > VARINT_MAX) throw new RangeError(`no grease capsule type for N = ${n}`);
  return t;
}

/** The largest N for which {@link greaseCapsuleType} is a varint value. */
export const GREASE_CAPSULE_MAX_N = (VARINT_MAX - GREASE_BASE) / GREASE_STEP;
