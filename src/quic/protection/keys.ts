/**
 * Packet protection keys from a traffic secret (RFC 9001 §5.1) and the key-update secret
 * ratchet (RFC 9001 §6.1). All QUIC labels use a zero-length context.
 */
import { hkdfExpandLabel } from '../../crypto/hkdf.js';
import { type CipherSuite, suiteParams } from '../../crypto/suites.js';

/** HKDF-Expand-Label labels QUIC v1 uses (RFC 9001 §5.1, §5.2, §6.1). */
export const QuicLabel = {
  KEY: 'quic key',
  IV: 'quic iv',
  HP: 'quic hp',
  KU: 'quic ku',
  CLIENT_IN: 'client in',
  SERVER_IN: 'server in',
} as const;

const NO_CONTEXT = new Uint8Array(0);

/** The three values derived from one traffic secret. */
export interface PacketKeys {
  /** AEAD key ("quic key"), the suite's key length. */
  readonly key: Uint8Array;
  /** AEAD IV ("quic iv"), 12 bytes; XORed with the packet number to form the nonce. */
  readonly iv: Uint8Array;
  /** Header protection key ("quic hp"); survives key updates. */
  readonly hp: Uint8Array;
}

/** Derives key, IV and header-protection key from `secret` for `suite` (RFC 9001 §5.1). */
export function deriveKeys(secret: Uint8Array, suite: CipherSuite): PacketKeys {
  const p = suiteParams(suite);
  return {
    key: hkdfExpandLabel(p.hash, secret, QuicLabel.KEY, NO_CONTEXT, p.keyLength),
    // "The Length provided with 'quic iv' is the minimum length of the AEAD nonce or 8 bytes
    // if that is larger" (RFC 9001 §5.1): 12 for every supported suite.
    iv: hkdfExpandLabel(p.hash, secret, QuicLabel.IV, NO_CONTEXT, p.ivLength),
    hp: hkdfExpandLabel(p.hash, secret, QuicLabel.HP, NO_CONTEXT, p.hpKeyLength),
  };
}

/**
 * The next 1-RTT secret after a key update:
 * `secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length)` (RFC 9001 §6.1).
 * The header protection key is not updated.
 */
export function nextSecret(secret: Uint8Array, suite: CipherSuite): Uint8Array {
  const p = suiteParams(suite);
  return hkdfExpandLabel(p.hash, secret, QuicLabel.KU, NO_CONTEXT, p.hashLength);
}
