/**
 * HKDF (RFC 5869) and the TLS 1.3 HKDF-Expand-Label / Derive-Secret (RFC 9846 §7.1), for SHA-256
 * and SHA-384.
 *
 * Implementation choice (measured in `bench/crypto.bench.ts`, Node 20.20): one HKDF-Expand block
 * costs ~1.9 us with node:crypto `createHmac` and ~4.0 us with @noble/hashes `expand`; a whole
 * HKDF-Expand-Label (label serialization included) ~2.8 us. `hkdfSync` always runs Extract first,
 * so it cannot expand an existing secret, which is what Expand-Label needs. Not a hot path (a
 * handful of calls per handshake and per key update), but createHmac is both the faster one and
 * dependency-free, so it is used for Extract and Expand.
 */
import { createHmac } from 'node:crypto';
import { CryptoError } from './errors.js';

/** The hash functions of the TLS 1.3 cipher suites QUIC uses. */
export type HashName = 'sha256' | 'sha384';

/** Output length in bytes of each hash. */
export const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48 };

const LABEL_PREFIX = 'tls13 ';
const EMPTY = new Uint8Array(0);

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2). */
export function hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  // RFC 5869 §2.2: an absent salt is HashLen zero bytes (HMAC pads a short key with zeros anyway).
  const key = salt.length === 0 ? new Uint8Array(HASH_LENGTH[hash]) : salt;
  return new Uint8Array(createHmac(hash, key).update(ikm).digest());
}

/** HKDF-Expand(PRK, info, L) (RFC 5869 §2.3); L must be at most 255 * HashLen. */
export function hkdfExpand(
  hash: HashName,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const hashLen = HASH_LENGTH[hash];
  if (!Number.isInteger(length) || length < 0 || length > 255 * hashLen) {
    throw new CryptoError('INVALID_ARGUMENT', `HKDF-Expand length ${length} out of range`);
  }
  const out = new Uint8Array(length);
  let previous: Uint8Array = EMPTY;
  const counter = new Uint8Array(1);
  // T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = first L octets of T(1) | T(2) | ...
  for (let off = 0, i = 1; off < length; i++) {
    counter[0] = i;
    previous = createHmac(hash, prk).update(previous).update(info).update(counter).digest();
    const take = Math.min(hashLen, length - off);
    out.set(take === hashLen ? previous : previous.subarray(0, take), off);
    off += take;
  }
  return out;
}

/**
 * The serialized HkdfLabel struct (RFC 9846 §7.1):
 * `uint16 length | opaque label<7..255> = "tls13 " + label | opaque context<0..255>`.
 */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const fullLabel = Buffer.from(LABEL_PREFIX + label, 'latin1');
  if (!/^[\x20-\x7e]+$/.test(label) || fullLabel.length > 255) {
    throw new CryptoError('INVALID_ARGUMENT', `HKDF label "${label}" is not 1..249 ASCII bytes`);
  }
  if (context.length > 255) {
    throw new CryptoError('INVALID_ARGUMENT', `HKDF context of ${context.length} bytes > 255`);
  }
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw new CryptoError('INVALID_ARGUMENT', `HKDF-Expand-Label length ${length} out of range`);
  }
  const out = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = fullLabel.length;
  out.set(fullLabel, 3);
  out[3 + fullLabel.length] = context.length;
  out.set(context, 4 + fullLabel.length);
  return out;
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 9846 §7.1). */
export function hkdfExpandLabel(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/**
 * Derive-Secret(Secret, Label, Messages) (RFC 9846 §7.1), given `transcriptHash` =
 * Transcript-Hash(Messages) already computed by the caller (the transcript is hashed
 * incrementally by the handshake, so this helper never sees the messages).
 */
export function deriveSecret(
  hash: HashName,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  const hashLen = HASH_LENGTH[hash];
  if (transcriptHash.length !== hashLen) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      `transcript hash of ${transcriptHash.length} bytes, ${hash} needs ${hashLen}`,
    );
  }
  return hkdfExpandLabel(hash, secret, label, transcriptHash, hashLen);
}
