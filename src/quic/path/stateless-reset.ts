/**
 * Stateless reset (RFC 9000 §10.3): token derivation from a static key, building the reset
 * datagram, and the helpers a receiver uses to detect one.
 *
 *   Stateless Reset { Fixed Bits (2) = 1, Unpredictable Bits (38..), Stateless Reset Token (128) }
 */
import { createHmac } from 'node:crypto';
import { type Random, randomInt } from '../../util/random.js';

/** Length of a stateless reset token (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;

/**
 * Smallest stateless reset: 1 byte with the fixed bits, 4 more unpredictable bytes (38 bits in
 * all), 16 token bytes (RFC 9000 §10.3). Also the smallest valid short-header packet.
 */
export const MIN_STATELESS_RESET_LENGTH = 21;

/**
 * Below this a reset "might be identifiable as a Stateless Reset by an observer" (§10.3.3
 * mentions 41 bytes); resets answering bigger packets are at least this long.
 */
export const IDEAL_MIN_STATELESS_RESET_LENGTH = 42;

/**
 * The stateless reset token for `cid`: HMAC-SHA256(staticKey, cid) truncated to 16 bytes
 * (RFC 9000 §10.3.2). An endpoint that lost its state recomputes it from the DCID of an incoming
 * packet, so every node sharing the key must use the same CID length.
 */
export function statelessResetToken(staticKey: Uint8Array, cid: Uint8Array): Uint8Array {
  const mac = createHmac('sha256', staticKey).update(cid).digest();
  return new Uint8Array(mac.buffer, mac.byteOffset, STATELESS_RESET_TOKEN_LENGTH).slice();
}

/** A reset-token function bound to one static key (pass `tokenFor` to `LocalCids`). */
export class StatelessResetKey {
  readonly #key: Uint8Array;

  constructor(staticKey: Uint8Array) {
    if (staticKey.length < 16) throw new RangeError('stateless reset key shorter than 16 bytes');
    this.#key = staticKey.slice();
  }

  /** The token for `cid`. */
  readonly tokenFor = (cid: Uint8Array): Uint8Array => statelessResetToken(this.#key, cid);
}

/**
 * Compares two byte strings without an early exit (RFC 9000 §10.3.1: comparisons "MUST ...
 * [not leak] information about the value of the token"). Lengths are not secret.
 */
export function tokensEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * The trailing 16 bytes of a received datagram, to compare against reset tokens, or undefined
 * when the datagram is too short to be any valid QUIC packet (§10.3: such packets are
 * discarded). No first-byte check: §10.3.1 "endpoints MUST treat any packet ending in a valid
 * stateless reset token as a Stateless Reset".
 */
export function statelessResetTail(datagram: Uint8Array): Uint8Array | undefined {
  if (datagram.length < MIN_STATELESS_RESET_LENGTH) return undefined;
  return datagram.subarray(datagram.length - STATELESS_RESET_TOKEN_LENGTH);
}

/**
 * Builds a stateless reset answering a datagram of `triggerLength` bytes, or returns undefined
 * when no reset may be sent.
 *
 * Size rules:
 * - §10.3.3: "An endpoint MUST ensure that every Stateless Reset that it sends is smaller than
 *   the packet that triggered it" — this also stops reset loops between two stateless
 *   endpoints, and keeps far below the 3x amplification bound of §10.3.
 * - at least 21 bytes (§10.3), so a trigger of 21 bytes or less gets no reset;
 * - a trigger of 43 bytes or less gets a reset one byte shorter (§10.3 SHOULD);
 * - otherwise a random size in [42, min(trigger - 1, maxLength)], so resets neither look
 *   identifiable (§10.3.3: under 41 bytes they might) nor have one telltale size.
 * The endpoint should still rate-limit resets per remote address (§10.3.3).
 */
export function buildStatelessReset(
  token: Uint8Array,
  triggerLength: number,
  random: Random,
  maxLength = 100,
): Uint8Array | undefined {
  if (token.length !== STATELESS_RESET_TOKEN_LENGTH) {
    throw new RangeError('stateless reset token must be 16 bytes');
  }
  const upper = Math.min(triggerLength - 1, Math.max(maxLength, IDEAL_MIN_STATELESS_RESET_LENGTH));
  if (!(upper >= MIN_STATELESS_RESET_LENGTH)) return undefined;
  let size = upper;
  if (triggerLength > 43 && upper > IDEAL_MIN_STATELESS_RESET_LENGTH) {
    size = IDEAL_MIN_STATELESS_RESET_LENGTH + randomInt(random, upper - 41);
  }
  const out = new Uint8Array(size);
  random.fill(out.subarray(0, size - STATELESS_RESET_TOKEN_LENGTH));
  // First byte 01xxxxxx: header form 0 (short), fixed bit 1, the rest unpredictable.
  out[0] = 0x40 | (out[0] & 0x3f);
  out.set(token, size - STATELESS_RESET_TOKEN_LENGTH);
  return out;
}
