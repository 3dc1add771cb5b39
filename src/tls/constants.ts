/** TLS 1.3 code points used by the handshake codecs (RFC 9846 §4, §B.3, §B.4). */
import { fromHex } from '../wire/index.js';

/** HandshakeType (RFC 9846 §4, §B.3). */
export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  /** The synthetic message standing for ClientHello1 in the transcript after an HRR (§4.4.1). */
  message_hash: 254,
} as const;
export type HandshakeTypeName = keyof typeof HandshakeType;
export type HandshakeTypeCode = (typeof HandshakeType)[HandshakeTypeName];

/** ProtocolVersion values (RFC 9846 §4.1.2, §4.2.1). */
export const ProtocolVersion = {
  /** legacy_version in every TLS 1.3 ClientHello and ServerHello. */
  TLS_1_2: 0x0303,
  TLS_1_3: 0x0304,
} as const;

/** TLS 1.3 cipher suites (RFC 9846 §B.4). */
export const CipherSuite = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_AES_128_CCM_8_SHA256: 0x1305,
} as const;
export type CipherSuiteName = keyof typeof CipherSuite;

/** Output length of the HKDF/transcript hash of a TLS 1.3 cipher suite, or undefined if unknown. */
export function cipherSuiteHashLength(suite: number): number | undefined {
  switch (suite) {
    case CipherSuite.TLS_AES_256_GCM_SHA384:
      return 48;
    case CipherSuite.TLS_AES_128_GCM_SHA256:
    case CipherSuite.TLS_CHACHA20_POLY1305_SHA256:
    case CipherSuite.TLS_AES_128_CCM_SHA256:
    case CipherSuite.TLS_AES_128_CCM_8_SHA256:
      return 32;
    default:
      return undefined;
  }
}

/** NamedGroup (RFC 9846 §4.2.7). */
export const NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  secp521r1: 0x0019,
  x25519: 0x001d,
  x448: 0x001e,
  ffdhe2048: 0x0100,
  ffdhe3072: 0x0101,
  ffdhe4096: 0x0102,
  ffdhe6144: 0x0103,
  ffdhe8192: 0x0104,
} as const;
export type NamedGroupName = keyof typeof NamedGroup;

/** SignatureScheme (RFC 9846 §4.2.3). */
export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
  rsa_pkcs1_sha1: 0x0201,
  ecdsa_sha1: 0x0203,
} as const;
export type SignatureSchemeName = keyof typeof SignatureScheme;

/** PskKeyExchangeMode (RFC 9846 §4.2.9). */
export const PskKeyExchangeMode = {
  psk_ke: 0,
  psk_dhe_ke: 1,
} as const;

/** KeyUpdateRequest (RFC 9846 §4.6.3). */
export const KeyUpdateRequest = {
  update_not_requested: 0,
  update_requested: 1,
} as const;

/**
 * ServerHello.random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 9846 §4.1.3).
 * Treat as read-only.
 */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array = fromHex(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
);
