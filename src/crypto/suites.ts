/**
 * The TLS 1.3 cipher suites QUIC can use (RFC 9001 §5.3: every RFC 9846 suite except
 * TLS_AES_128_CCM_8_SHA256) and the sizes QUIC derives for each (RFC 9001 §5.1).
 */
import { CryptoError } from './errors.js';
import type { HashName } from './hkdf.js';

/** TLS cipher suite code points (RFC 9846 §B.4). */
export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
} as const;
export type CipherSuite = (typeof CipherSuite)[keyof typeof CipherSuite];

/** What QUIC needs to know about a suite. */
export interface SuiteParams {
  /** The TLS code point. */
  readonly id: CipherSuite;
  /** The RFC name, for logs. */
  readonly name: string;
  /** Hash of HKDF and the transcript; secrets are this hash's length. */
  readonly hash: HashName;
  /** Hash.length in bytes (32 or 48). */
  readonly hashLength: number;
  /** AEAD key length ("quic key"). */
  readonly keyLength: number;
  /** AEAD nonce length ("quic iv"): 12 for all three suites. */
  readonly ivLength: number;
  /** Header protection key length ("quic hp"): the AES key size, or 32 for ChaCha20. */
  readonly hpKeyLength: number;
  /** Authentication tag length: 16 for all three suites (RFC 9001 §5.3). */
  readonly tagLength: number;
}

const PARAMS: Record<CipherSuite, SuiteParams> = {
  [CipherSuite.TLS_AES_128_GCM_SHA256]: {
    id: CipherSuite.TLS_AES_128_GCM_SHA256,
    name: 'TLS_AES_128_GCM_SHA256',
    hash: 'sha256',
    hashLength: 32,
    keyLength: 16,
    ivLength: 12,
    hpKeyLength: 16,
    tagLength: 16,
  },
  [CipherSuite.TLS_AES_256_GCM_SHA384]: {
    id: CipherSuite.TLS_AES_256_GCM_SHA384,
    name: 'TLS_AES_256_GCM_SHA384',
    hash: 'sha384',
    hashLength: 48,
    keyLength: 32,
    ivLength: 12,
    hpKeyLength: 32,
    tagLength: 16,
  },
  [CipherSuite.TLS_CHACHA20_POLY1305_SHA256]: {
    id: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    hash: 'sha256',
    hashLength: 32,
    keyLength: 32,
    ivLength: 12,
    hpKeyLength: 32,
    tagLength: 16,
  },
};

/** True for the suites this stack implements. */
export function isSupportedSuite(id: number): id is CipherSuite {
  return Object.hasOwn(PARAMS, id);
}

/** Parameters of `suite`; throws `CryptoError('UNSUPPORTED_SUITE')` for any other code point. */
export function suiteParams(suite: number): SuiteParams {
  if (!isSupportedSuite(suite)) {
    throw new CryptoError('UNSUPPORTED_SUITE', `cipher suite 0x${suite.toString(16)}`);
  }
  return PARAMS[suite];
}
