/**
 * Capsule encoders (RFC 9297 §3.2): any (type, value) pair, and the DATAGRAM capsule (§3.5).
 *
 *   Capsule {
 *     Capsule Type (i),
 *     Capsule Length (i),
 *     Capsule Value (..),
 *   }
 */
import { encodeVarint, varintLength } from '../wire/varint.js';
import type { ByteWriter } from '../wire/writer.js';
import { withCapsuleErrors } from './errors.js';
import { CapsuleType } from './types.js';

/** Bytes taken by the Capsule Type and Capsule Length fields. */
export function capsuleHeaderLength(type: number | bigint, valueLength: number): number {
  return withCapsuleErrors('capsule header', () => varintLength(type) + varintLength(valueLength));
}

/**
 * Writes the Capsule Type and Capsule Length fields at `offset` and returns the offset where the
 * value goes: for building a capsule in place around a payload the caller writes next.
 */
export function writeCapsuleHeader(
  buf: Uint8Array,
  offset: number,
  type: number | bigint,
  valueLength: number,
): number {
  return withCapsuleErrors('capsule header', () =>
    encodeVarint(buf, encodeVarint(buf, offset, type), valueLength),
  );
}

/** Appends one capsule to a writer. */
export function writeCapsule(w: ByteWriter, type: number | bigint, value: Uint8Array): void {
  withCapsuleErrors('capsule', () => {
    w.varint(type).varint(value.length).bytes(value);
  });
}

/** One capsule as a new buffer. */
export function encodeCapsule(type: number | bigint, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(capsuleHeaderLength(type, value.length) + value.length);
  out.set(value, writeCapsuleHeader(out, 0, type, value.length));
  return out;
}

/**
 * A DATAGRAM capsule (RFC 9297 §3.5): the value is the whole HTTP Datagram Payload, which may be
 * empty.
 *
 *   Datagram Capsule {
 *     Type (i) = 0x00,
 *     Length (i),
 *     HTTP Datagram Payload (..),
 *   }
 */
export function encodeDatagramCapsule(httpDatagramPayload: Uint8Array): Uint8Array {
  return encodeCapsule(CapsuleType.DATAGRAM, httpDatagramPayload);
}
