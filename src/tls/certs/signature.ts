/**
 * TLS 1.3 signatures (RFC 9846 §4.2.3, §4.4.3) with node:crypto: which SignatureScheme a key can
 * produce, the CertificateVerify signed content, and sign/verify per scheme.
 */
import { constants, type KeyObject, sign, verify } from 'node:crypto';
import { SignatureScheme } from '../constants.js';

const S = SignatureScheme;

/**
 * Schemes this stack accepts in CertificateVerify, in the client's preference order (sent in
 * signature_algorithms).
 */
export const CERTIFICATE_VERIFY_SCHEMES: readonly number[] = [
  S.ecdsa_secp256r1_sha256,
  S.ed25519,
  S.rsa_pss_rsae_sha256,
  S.ecdsa_secp384r1_sha384,
  S.rsa_pss_rsae_sha384,
  S.rsa_pss_rsae_sha512,
];

/**
 * signature_algorithms as the client sends it: the CertificateVerify schemes, then the PKCS#1
 * v1.5 schemes, which RFC 9846 §4.2.3 allows only "in signatures on certificates" (most CA
 * chains use them) and never in CertificateVerify.
 */
export const SIGNATURE_ALGORITHMS: readonly number[] = [
  ...CERTIFICATE_VERIFY_SCHEMES,
  S.rsa_pkcs1_sha256,
  S.rsa_pkcs1_sha384,
  S.rsa_pkcs1_sha512,
];

/** The CertificateVerify schemes a private or public key can use, best first. */
export function schemesForKey(key: KeyObject): number[] {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return [S.ecdsa_secp256r1_sha256];
      if (curve === 'secp384r1') return [S.ecdsa_secp384r1_sha384];
      return [];
    }
    case 'rsa':
      // RFC 9846 §4.2.3: RSASSA-PSS "rsae" schemes use rsaEncryption keys; PKCS#1 v1.5 is not
      // allowed in CertificateVerify.
      return [S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512];
    case 'ed25519':
      return [S.ed25519];
    default:
      return [];
  }
}

const SERVER_CONTEXT = 'TLS 1.3, server CertificateVerify';
const CLIENT_CONTEXT = 'TLS 1.3, client CertificateVerify';

/**
 * The content covered by a CertificateVerify signature (RFC 9846 §4.4.3): 64 bytes of 0x20, the
 * context string, a single 0x00 separator, then Transcript-Hash(Handshake Context, Certificate).
 */
export function certificateVerifyContent(
  role: 'server' | 'client',
  transcriptHash: Uint8Array,
): Uint8Array {
  const context = role === 'server' ? SERVER_CONTEXT : CLIENT_CONTEXT;
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  for (let i = 0; i < context.length; i++) out[64 + i] = context.charCodeAt(i);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}

interface SchemeParams {
  /** node digest name, or null for Ed25519 (no pre-hash). */
  readonly digest: string | null;
  /** PSS salt length (= hash length, RFC 9846 §4.2.3), or undefined for non-PSS. */
  readonly pssSalt?: number;
  /** Required key type and (for ECDSA) curve. */
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  readonly curve?: string;
}

const PARAMS: ReadonlyMap<number, SchemeParams> = new Map<number, SchemeParams>([
  [S.ecdsa_secp256r1_sha256, { digest: 'sha256', keyType: 'ec', curve: 'prime256v1' }],
  [S.ecdsa_secp384r1_sha384, { digest: 'sha384', keyType: 'ec', curve: 'secp384r1' }],
  [S.rsa_pss_rsae_sha256, { digest: 'sha256', pssSalt: 32, keyType: 'rsa' }],
  [S.rsa_pss_rsae_sha384, { digest: 'sha384', pssSalt: 48, keyType: 'rsa' }],
  [S.rsa_pss_rsae_sha512, { digest: 'sha512', pssSalt: 64, keyType: 'rsa' }],
  [S.ed25519, { digest: null, keyType: 'ed25519' }],
]);

/** True if `key` is of the type (and curve) `scheme` signs with. */
export function keyMatchesScheme(scheme: number, key: KeyObject): boolean {
  const p = PARAMS.get(scheme);
  if (!p || key.asymmetricKeyType !== p.keyType) return false;
  return p.curve === undefined || key.asymmetricKeyDetails?.namedCurve === p.curve;
}

function keyInput(p: SchemeParams, key: KeyObject) {
  if (p.pssSalt !== undefined) {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.pssSalt };
  }
  // ECDSA signatures in TLS are DER-encoded ECDSA-Sig-Value (RFC 9846 §4.2.3).
  if (p.keyType === 'ec') return { key, dsaEncoding: 'der' as const };
  return key;
}

/** Signs `data` with `scheme`; throws RangeError if the key cannot use the scheme. */
export function signWithScheme(scheme: number, key: KeyObject, data: Uint8Array): Uint8Array {
  const p = PARAMS.get(scheme);
  if (!p || !keyMatchesScheme(scheme, key)) {
    throw new RangeError(`key cannot sign with scheme 0x${scheme.toString(16)}`);
  }
  return new Uint8Array(sign(p.digest, data, keyInput(p, key)));
}

/**
 * Verifies a signature. False for a bad signature, an unknown scheme, or a key of the wrong
 * type; never throws for malformed signature bytes.
 */
export function verifyWithScheme(
  scheme: number,
  publicKey: KeyObject,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  const p = PARAMS.get(scheme);
  if (!p || !keyMatchesScheme(scheme, publicKey)) return false;
  try {
    return verify(p.digest, data, keyInput(p, publicKey), signature);
  } catch {
    // node throws for some malformed DER signatures instead of returning false.
    return false;
  }
}
