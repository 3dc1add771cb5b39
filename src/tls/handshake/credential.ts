/** A server's certificate chain and private key, parsed once and shared by its connections. */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { pemBlocks } from '../certs/pem.js';
import { schemesForKey } from '../certs/signature.js';

/** A certificate chain with its key, ready for the handshake. */
export interface ServerCredential {
  /** DER certificates, end-entity first. */
  readonly chain: readonly Uint8Array[];
  /** The end-entity certificate, parsed. */
  readonly leaf: X509Certificate;
  /** The private key of the end-entity certificate. */
  readonly key: KeyObject;
  /** CertificateVerify schemes this key can sign with, best first. */
  readonly schemes: readonly number[];
}

/**
 * Parses a PEM chain (end-entity first) and its PEM private key. Throws RangeError for a
 * configuration that cannot work: no certificate, a key that does not match, or a key type
 * TLS 1.3 cannot sign CertificateVerify with.
 */
export function loadServerCredential(chainPem: string, keyPem: string): ServerCredential {
  const chain = pemBlocks(chainPem);
  if (chain.length === 0) throw new RangeError('no certificate in the chain PEM');
  const leaf = new X509Certificate(chain[0]);
  const key = createPrivateKey(keyPem);
  if (!leaf.checkPrivateKey(key)) {
    throw new RangeError('private key does not match the certificate');
  }
  const schemes = schemesForKey(key);
  if (schemes.length === 0) {
    throw new RangeError(`unsupported key type ${key.asymmetricKeyType} for TLS 1.3`);
  }
  return { chain, leaf, key, schemes };
}

/** The credential whose certificate names `serverName`, else the first one. */
export function selectCredential(
  credentials: readonly ServerCredential[],
  serverName: string | undefined,
): ServerCredential {
  if (serverName !== undefined && credentials.length > 1) {
    for (const c of credentials) {
      const match =
        isIP(serverName) !== 0 ? c.leaf.checkIP(serverName) : c.leaf.checkHost(serverName);
      if (match !== undefined) return c;
    }
  }
  return credentials[0];
}
