/**
 * (EC)DHE key shares (RFC 9846 §4.2.8, §7.4) for x25519 and secp256r1, with private keys made
 * from a {@link Random} so tests are reproducible. A bad peer share is illegal_parameter.
 *
 * Node's DER/PEM private-key parser fails on any error left on OpenSSL's per-thread error queue
 * by an earlier, unrelated call (X509Certificate#checkHost on a certificate with a malformed
 * subjectAltName leaves one), so a DER import made key generation fail with a stale ASN.1
 * message depending on what a previous peer had sent. Peer shares are imported as JWK (which
 * does not consult the queue); our private key as DER retried once (`importX25519Private`).
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type ECDH,
  type KeyObject,
} from 'node:crypto';
import { type Random, randomBytes } from '../../util/random.js';
import { TlsAlertError } from '../alert.js';
import { NamedGroup } from '../constants.js';

/** The groups this stack implements, by name. */
export type GroupName = 'x25519' | 'secp256r1';

/** Code points of the supported groups. */
export const SUPPORTED_GROUPS: Readonly<Record<GroupName, number>> = {
  x25519: NamedGroup.x25519,
  secp256r1: NamedGroup.secp256r1,
};

/** True for a NamedGroup this stack implements. */
export function isSupportedGroup(group: number): boolean {
  return group === NamedGroup.x25519 || group === NamedGroup.secp256r1;
}

/** An ephemeral private key and its public share. */
export interface KeyShare {
  /** NamedGroup code point. */
  readonly group: number;
  /** key_exchange bytes: 32 for x25519, 65 (04 || X || Y) for secp256r1. */
  readonly publicKey: Uint8Array;
  /** The shared secret with a peer's key_exchange; throws illegal_parameter if it is invalid. */
  computeSecret(peer: Uint8Array): Uint8Array;
}

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

// RFC 8410 §7: PKCS#8 prefix of a raw X25519 private key.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * The private key from its raw 32 bytes. A JWK import would need the public `x` too (Node 24
 * checks it), which only the import itself can derive; so PKCS#8 DER, retried once: a DER import
 * fails on an error an unrelated earlier call left on OpenSSL's per-thread queue (see the module
 * header), and that failure takes the stale error off the queue, so the retry reads only ours.
 */
function importX25519Private(d: Uint8Array): KeyObject {
  const der = { key: Buffer.concat([X25519_PKCS8, d]), format: 'der', type: 'pkcs8' } as const;
  try {
    return createPrivateKey(der);
  } catch {
    return createPrivateKey(der);
  }
}

class X25519Share implements KeyShare {
  readonly group = NamedGroup.x25519;
  readonly publicKey: Uint8Array;
  readonly #key: KeyObject;

  constructor(random: Random) {
    const d = randomBytes(random, 32);
    this.#key = importX25519Private(d);
    const { x } = createPublicKey(this.#key).export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(x ?? '', 'base64url'));
    if (this.publicKey.length !== 32) {
      throw new TlsAlertError('internal_error', 'x25519 public key is not 32 bytes');
    }
  }

  computeSecret(peer: Uint8Array): Uint8Array {
    if (peer.length !== 32) {
      throw new TlsAlertError('illegal_parameter', `x25519 share of ${peer.length} bytes`);
    }
    try {
      const publicKey = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: b64url(peer) },
        format: 'jwk',
      });
      const secret = new Uint8Array(diffieHellman({ privateKey: this.#key, publicKey }));
      // RFC 9846 §7.4.2: implementations "MUST check whether the computed Diffie-Hellman shared
      // secret is the all-zero value and abort if so" (OpenSSL already refuses to derive it).
      if (secret.every((b) => b === 0)) throw new Error('all-zero shared secret');
      return secret;
    } catch (err) {
      throw new TlsAlertError('illegal_parameter', 'x25519 share is invalid', { cause: err });
    }
  }
}

class P256Share implements KeyShare {
  readonly group = NamedGroup.secp256r1;
  readonly publicKey: Uint8Array;
  readonly #ecdh: ECDH;

  constructor(random: Random) {
    this.#ecdh = createECDH('prime256v1');
    for (let attempt = 0; ; attempt++) {
      if (attempt === 64) throw new TlsAlertError('internal_error', 'Random yields no P-256 key');
      try {
        this.#ecdh.setPrivateKey(randomBytes(random, 32));
        break;
      } catch {
        // zero or >= the group order (probability ~2^-32): draw again
      }
    }
    this.publicKey = new Uint8Array(this.#ecdh.getPublicKey());
  }

  computeSecret(peer: Uint8Array): Uint8Array {
    // RFC 9846 §4.2.8.2: "the UncompressedPointRepresentation" (04 || X || Y) is the only form;
    // peers "MUST validate" the point.
    if (peer.length !== 65 || peer[0] !== 4) {
      throw new TlsAlertError('illegal_parameter', 'secp256r1 share is not an uncompressed point');
    }
    try {
      return new Uint8Array(this.#ecdh.computeSecret(peer));
    } catch (err) {
      throw new TlsAlertError('illegal_parameter', 'secp256r1 share is not on the curve', {
        cause: err,
      });
    }
  }
}

/** A fresh key share for `group` (one of {@link SUPPORTED_GROUPS}). */
export function generateKeyShare(group: number, random: Random): KeyShare {
  if (group === NamedGroup.x25519) return new X25519Share(random);
  if (group === NamedGroup.secp256r1) return new P256Share(random);
  throw new TlsAlertError('internal_error', `no key exchange for group 0x${group.toString(16)}`);
}
