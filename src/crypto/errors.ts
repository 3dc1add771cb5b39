/**
 * Typed errors of the crypto layer. A packet that fails authentication raises {@link AeadError};
 * everything else (a packet too short to sample, a key of the wrong length, an unknown cipher
 * suite) raises {@link CryptoError} with a stable code. Node's own crypto errors never escape.
 */

/** Why a crypto operation failed. Stable strings, safe to match on. */
export type CryptoErrorCode =
  /** AEAD authentication failed: wrong key, wrong nonce, or modified AAD, ciphertext or tag. */
  | 'AEAD_AUTH_FAILED'
  /** The packet is too short to hold the 16-byte header-protection sample (RFC 9001 §5.4.2). */
  | 'SAMPLE_TOO_SHORT'
  /** A cipher suite this stack does not implement. */
  | 'UNSUPPORTED_SUITE'
  /** A caller error: key, nonce or output of the wrong size, a value out of range. */
  | 'INVALID_ARGUMENT';

export class CryptoError extends Error {
  override readonly name: string = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * AEAD authentication failure. Thrown by `open` when the tag does not verify; no plaintext is
 * written in that case. For QUIC this is not a protocol error by itself: the packet is dropped
 * and counted against the integrity limit (RFC 9001 §6.6).
 */
export class AeadError extends CryptoError {
  override readonly name: string = 'AeadError';

  constructor(message = 'AEAD authentication failed') {
    super('AEAD_AUTH_FAILED', message);
  }
}

/** Narrowing helper for catch blocks. */
export function isCryptoError(err: unknown): err is CryptoError {
  return err instanceof CryptoError;
}
