/**
 * AEAD usage limits (RFC 9001 §6.6), per cipher suite, for the connection to enforce:
 * "Endpoints MUST count the number of encrypted packets for each set of keys" and MUST update
 * keys before the confidentiality limit; past the integrity limit (packets that failed
 * authentication, across all keys of the connection) it "MUST immediately close the connection
 * with a connection error of type AEAD_LIMIT_REACHED".
 */
import { CipherSuite } from '../../crypto/suites.js';

/** The two limits of one AEAD. */
export interface AeadLimits {
  /** Packets that may be encrypted with one key (Infinity where the RFC says "disregard"). */
  readonly confidentiality: number;
  /** Packets that may fail authentication over the connection's lifetime. */
  readonly integrity: number;
}

export const AEAD_LIMITS: Readonly<Record<CipherSuite, AeadLimits>> = {
  // AEAD_AES_128_GCM / AEAD_AES_256_GCM: 2^23 encrypted, 2^52 invalid (RFC 9001 §6.6, §B.1).
  [CipherSuite.TLS_AES_128_GCM_SHA256]: { confidentiality: 2 ** 23, integrity: 2 ** 52 },
  [CipherSuite.TLS_AES_256_GCM_SHA384]: { confidentiality: 2 ** 23, integrity: 2 ** 52 },
  // AEAD_CHACHA20_POLY1305: the confidentiality limit exceeds 2^62 packets "and so can be
  // disregarded"; 2^36 invalid packets.
  [CipherSuite.TLS_CHACHA20_POLY1305_SHA256]: {
    confidentiality: Number.POSITIVE_INFINITY,
    integrity: 2 ** 36,
  },
};
