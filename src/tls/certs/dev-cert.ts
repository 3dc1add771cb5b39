/**
 * Self-signed (or CA-issued) development certificates, written with our own DER encoder because
 * node:crypto can parse X.509 but not create it. The default is what a local MASQUE proxy needs:
 * an ECDSA P-256 end-entity certificate for localhost, 127.0.0.1 and ::1 with a short validity,
 * plus the SPKI SHA-256 pin Chromium's `--ignore-certificate-errors-spki-list` takes.
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE { [0] version(v3=2), serialNumber, signature, issuer, validity,
 *                                 subject, subjectPublicKeyInfo, [3] extensions }
 *   (RFC 5280 §4.1)
 */
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';
import { type Random, randomBytes as rngBytes, systemRandom } from '../../util/random.js';
import {
  bitString,
  boolean,
  contextTag,
  namedBits,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';
import { pemBlocks, toPem } from './pem.js';

/** Key algorithm of a generated certificate. */
export type DevKeyType = 'ecdsa-p256' | 'ed25519' | 'rsa-2048';

/** Options of {@link generateDevCert}; every field is optional. */
export interface DevCertOptions {
  /** Extra DNS names or IP literals for subjectAltName (localhost, 127.0.0.1, ::1 are always in). */
  readonly names?: readonly string[];
  /** Leave out the default localhost names (for tests of name mismatches). */
  readonly noDefaultNames?: boolean;
  /** Subject common name. Default: the first name, or "masque dev CA" for a CA. */
  readonly commonName?: string;
  /** notBefore in ms since the epoch. Default: now - 1 hour (clock skew). */
  readonly notBefore?: number;
  /** Current time in ms; default `Date.now()` (this is a tool, not protocol code). */
  readonly now?: number;
  /** Validity in days from `now`. Default 14. */
  readonly validityDays?: number;
  /** Key type. Default ECDSA P-256. */
  readonly keyType?: DevKeyType;
  /** Issue a CA certificate (basicConstraints cA, keyCertSign) instead of a server one. */
  readonly ca?: boolean;
  /** Sign with this CA instead of self-signing. */
  readonly issuer?: { readonly certPem: string; readonly keyPem: string };
  /** Source of the serial number and (for EC and Ed25519) of the private key. */
  readonly random?: Random;
}

/** A generated certificate. */
export interface DevCert {
  /** The certificate, PEM. */
  readonly certPem: string;
  /** The PKCS#8 private key, PEM. */
  readonly keyPem: string;
  /** The certificate, DER. */
  readonly certDer: Uint8Array;
  /** base64 SHA-256 of the SubjectPublicKeyInfo (`--ignore-certificate-errors-spki-list`). */
  readonly spkiSha256: string;
  /** hex SHA-256 of the whole certificate (WebTransport serverCertificateHashes). */
  readonly certSha256Hex: string;
}

const OID = {
  commonName: '2.5.4.3',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ed25519: '1.3.101.112',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const DAY_MS = 86_400_000;

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** A private key from random bytes where the algorithm allows it (reproducible in tests). */
function makeKey(type: DevKeyType, random: Random): KeyObject {
  if (type === 'ecdsa-p256') {
    const ecdh = createECDH('prime256v1');
    for (let attempt = 0; ; attempt++) {
      if (attempt === 64) throw new RangeError('Random yields no P-256 key');
      const d = rngBytes(random, 32);
      try {
        ecdh.setPrivateKey(d);
      } catch {
        continue; // zero or >= n: draw again
      }
      const pub = ecdh.getPublicKey(); // 04 || x || y
      const jwk = {
        kty: 'EC',
        crv: 'P-256',
        d: b64url(d),
        x: b64url(pub.subarray(1, 33)),
        y: b64url(pub.subarray(33, 65)),
      };
      return createPrivateKey({ key: jwk, format: 'jwk' });
    }
  }
  if (type === 'ed25519') {
    // PKCS#8 OneAsymmetricKey for Ed25519 (RFC 8410 §7): fixed 16-byte prefix + 32-byte seed.
    const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
    const der = Buffer.concat([prefix, rngBytes(random, 32)]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
  // RSA key generation cannot be driven by our Random; node's CSPRNG is used.
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function signatureAlgorithm(key: KeyObject): Uint8Array {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return sequence(oid(OID.ecdsaWithSha256));
    case 'ed25519':
      return sequence(oid(OID.ed25519));
    case 'rsa':
      return sequence(oid(OID.sha256WithRsa), nullValue());
    default:
      throw new RangeError(`unsupported issuer key type ${key.asymmetricKeyType}`);
  }
}

function signTbs(key: KeyObject, tbs: Uint8Array): Uint8Array {
  const digest = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return new Uint8Array(sign(digest, tbs, key));
}

function name(cn: string): Uint8Array {
  return sequence(set(sequence(oid(OID.commonName), utf8String(cn))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

function ipBytes(ip: string): Uint8Array {
  const host = ip.startsWith('[') ? ip.slice(1, -1) : ip;
  if (isIP(host) === 4) return Uint8Array.from(host.split('.').map(Number));
  // Expand IPv6 "::" and write eight 16-bit groups.
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g || '0', 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function subjectAltName(names: readonly string[]): Uint8Array {
  const entries = names.map((n) => {
    const host = n.startsWith('[') ? n.slice(1, -1) : n;
    if (isIP(host) !== 0) return contextTag(7, ipBytes(host), false); // iPAddress [7] OCTET STRING
    return contextTag(
      2,
      Uint8Array.from(host, (c) => c.charCodeAt(0)),
      false,
    ); // dNSName [2] IA5String
  });
  return sequence(...entries);
}

function keyId(spki: Uint8Array): Uint8Array {
  // RFC 5280 §4.2.1.2 method (1) uses SHA-1 of the key bits; any unique value works, we take a
  // truncated SHA-256 of the whole SPKI.
  return new Uint8Array(createHash('sha256').update(spki).digest().subarray(0, 20));
}

/** Generates a certificate and its key. */
export function generateDevCert(opts: DevCertOptions = {}): DevCert {
  const random = opts.random ?? systemRandom;
  const now = opts.now ?? Date.now();
  const isCa = opts.ca === true;
  const names = [...(opts.noDefaultNames || isCa ? [] : ['localhost', '127.0.0.1', '::1'])];
  for (const n of opts.names ?? []) if (!names.includes(n)) names.push(n);
  const cn = opts.commonName ?? (isCa ? 'masque dev CA' : (names[0] ?? 'masque dev'));

  const key = makeKey(opts.keyType ?? 'ecdsa-p256', random);
  const spki = new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));

  let issuerName = name(cn);
  let issuerKey = key;
  let issuerSpki = spki;
  if (opts.issuer) {
    const der = pemBlocks(opts.issuer.certPem)[0];
    if (!der) throw new RangeError('issuer.certPem holds no certificate');
    const issuerCert = new X509Certificate(der);
    issuerName = subjectNameDer(der);
    issuerKey = createPrivateKey(opts.issuer.keyPem);
    issuerSpki = new Uint8Array(issuerCert.publicKey.export({ type: 'spki', format: 'der' }));
  }

  // Serial: 16 random bytes, top bit cleared so the INTEGER is positive (RFC 5280 §4.1.2.2).
  const serial = rngBytes(random, 16);
  serial[0] = (serial[0] & 0x7f) | 0x01;

  const extensions: Uint8Array[] = [
    // basicConstraints: cA TRUE for a CA; an empty SEQUENCE (cA defaults to FALSE) otherwise.
    extension(OID.basicConstraints, true, isCa ? sequence(boolean(true)) : sequence()),
    // keyUsage bits: digitalSignature(0), keyCertSign(5), cRLSign(6).
    extension(OID.keyUsage, true, namedBits(isCa ? [0, 5, 6] : [0])),
    extension(OID.subjectKeyIdentifier, false, octetString(keyId(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(contextTag(0, keyId(issuerSpki), false))),
  ];
  if (!isCa) {
    extensions.push(extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))));
    if (names.length > 0)
      extensions.push(extension(OID.subjectAltName, false, subjectAltName(names)));
  }

  const sigAlg = signatureAlgorithm(issuerKey);
  const notBefore = opts.notBefore ?? now - 3_600_000;
  const notAfter = now + (opts.validityDays ?? 14) * DAY_MS;
  const tbs = sequence(
    contextTag(0, smallInteger(2), true), // version v3
    unsignedInteger(serial),
    sigAlg,
    issuerName,
    sequence(time(notBefore), time(notAfter)),
    name(cn),
    spki,
    contextTag(3, sequence(...extensions), true),
  );
  const certDer = sequence(tbs, sigAlg, bitString(signTbs(issuerKey, tbs)));
  const keyDer = new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
  return {
    certPem: toPem(certDer),
    keyPem: toPem(keyDer, 'PRIVATE KEY'),
    certDer,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    certSha256Hex: createHash('sha256').update(certDer).digest('hex'),
  };
}

/**
 * The subject Name of a DER certificate, as encoded (so an issued certificate's issuer field is
 * byte-identical to its issuer's subject). Walks Certificate → TBSCertificate → fields.
 */
function subjectNameDer(cert: Uint8Array): Uint8Array {
  const tbs = children(children(cert, 0)[0], 0);
  // [0] version, serial, signature, issuer, validity, subject, ...
  const offset = tbs[0][0] === 0xa0 ? 1 : 0;
  return tbs[offset + 4];
}

/** The encoded child TLVs of the constructed TLV at `start` of `der`. */
function children(der: Uint8Array, start: number): Uint8Array[] {
  const { contentStart, end } = header(der, start);
  const out: Uint8Array[] = [];
  for (let at = contentStart; at < end; ) {
    const h = header(der, at);
    out.push(der.subarray(at, h.end));
    at = h.end;
  }
  return out;
}

function header(der: Uint8Array, at: number): { contentStart: number; end: number } {
  let len = der[at + 1];
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i];
    p += n;
  }
  return { contentStart: p, end: p + len };
}

/** Re-export for callers that want both halves of the chain in one PEM. */
export function chainPem(...certs: readonly DevCert[]): string {
  return certs.map((c) => c.certPem).join('');
}
