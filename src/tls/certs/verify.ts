/**
 * Server certificate validation for the client (RFC 9001 §4.4: "A client MUST authenticate the
 * identity of the server"): the presented chain must lead to a trust anchor (node's bundled
 * roots plus configured CAs), every certificate must be valid at `now`, and the end-entity
 * certificate must name the server (RFC 9525 via node's `checkHost` / `checkIP`).
 *
 * Failures throw `TlsAlertError` with the alert RFC 9846 §6.2 describes:
 *   bad_certificate      a certificate does not parse, a signature in the chain does not verify,
 *                        the name does not match, or a pin does not match
 *   unknown_ca           no path to a trust anchor
 *   certificate_expired  a certificate is outside its validity period at `now`
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { TlsAlertError } from '../alert.js';
import { pemBlocks } from './pem.js';

/** How the client authenticates the server. */
export interface CertificateVerifyOptions {
  /** Extra trust anchors (PEM, one or more certificates each), added to node's root store. */
  readonly ca?: readonly string[];
  /** Leave node's bundled root store out (trust only `ca`). Default false. */
  readonly noSystemRoots?: boolean;
  /**
   * SHA-256 pins (base64 or hex) of the end-entity certificate's SubjectPublicKeyInfo or of the
   * whole certificate. When set, the leaf MUST match one of them (bad_certificate otherwise) and
   * then stands as its own trust anchor: no CA path and no host name check, as with Chromium's
   * `--ignore-certificate-errors-spki-list`. Validity dates are still enforced.
   */
  readonly pinnedSha256?: readonly string[];
  /** Accept any certificate. Only honoured when exactly `true`. For development only. */
  readonly insecureSkipVerify?: boolean;
}

/** Longest issuer path followed before giving up with unknown_ca. */
const MAX_CHAIN_DEPTH = 8;

/** Trust anchors indexed by subject DN, for issuer look-up. */
class AnchorStore {
  readonly #bySubject = new Map<string, X509Certificate[]>();

  add(cert: X509Certificate): void {
    const list = this.#bySubject.get(cert.subject);
    if (list) list.push(cert);
    else this.#bySubject.set(cert.subject, [cert]);
  }

  /** Anchors whose subject equals `issuer`. */
  candidates(issuer: string): readonly X509Certificate[] {
    return this.#bySubject.get(issuer) ?? [];
  }

  /** True if this exact certificate is an anchor. */
  has(cert: X509Certificate): boolean {
    return this.candidates(cert.subject).some((a) => a.raw.equals(cert.raw));
  }
}

let systemAnchors: X509Certificate[] | undefined;

/** node's bundled Mozilla roots, parsed once per process on first use. */
function systemRoots(): readonly X509Certificate[] {
  if (!systemAnchors) {
    systemAnchors = [];
    for (const pem of rootCertificates) {
      try {
        systemAnchors.push(new X509Certificate(pem));
      } catch {
        // A root node cannot parse cannot anchor anything.
      }
    }
  }
  return systemAnchors;
}

/** Parses PEM trust anchors (throws on malformed PEM: a configuration error). */
export function parseCertificates(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) for (const der of pemBlocks(pem)) out.push(new X509Certificate(der));
  return out;
}

/** Anchor stores per configured CA list (by identity), with and without the system roots. */
const anchorCache = {
  withSystem: new WeakMap<readonly string[], AnchorStore>(),
  withoutSystem: new WeakMap<readonly string[], AnchorStore>(),
};

function anchorsFor(opts: CertificateVerifyOptions): AnchorStore {
  const key = opts.ca ?? EMPTY;
  const cache = opts.noSystemRoots ? anchorCache.withoutSystem : anchorCache.withSystem;
  const hit = cache.get(key);
  if (hit) return hit;
  const store = new AnchorStore();
  if (!opts.noSystemRoots) for (const c of systemRoots()) store.add(c);
  for (const c of parseCertificates(opts.ca ?? [])) store.add(c);
  cache.set(key, store);
  return store;
}
const EMPTY: readonly string[] = [];

/** Base64 SHA-256 of a certificate's SubjectPublicKeyInfo (Chromium's SPKI pin format). */
export function spkiSha256(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

function pinMatches(cert: X509Certificate, pins: readonly string[]): boolean {
  const spki = createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
  const whole = createHash('sha256').update(cert.raw).digest();
  const forms = new Set<string>();
  for (const d of [spki, whole]) {
    forms.add(d.toString('base64'));
    forms.add(d.toString('hex'));
  }
  return pins.some((p) => forms.has(p.trim().toLowerCase()) || forms.has(p.trim()));
}

function checkValidity(cert: X509Certificate, now: number, role: string): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(now >= from && now <= to)) {
    // RFC 9846 §6.2: certificate_expired, "A certificate has expired or is not currently valid."
    throw new TlsAlertError(
      'certificate_expired',
      `${role} certificate valid ${cert.validFrom} .. ${cert.validTo}, now is ${new Date(now).toISOString()}`,
    );
  }
}

function checkName(leaf: X509Certificate, serverName: string): void {
  const host = serverName.startsWith('[') ? serverName.slice(1, -1) : serverName;
  const ok =
    isIP(host) !== 0 ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
  if (!ok) {
    throw new TlsAlertError('bad_certificate', `certificate does not name ${serverName}`);
  }
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EKU = '2.5.29.37.0';

/**
 * Validates the server's chain (DER, end-entity first, as in the Certificate message) for
 * `serverName` at `now`, and returns the parsed end-entity certificate, whose public key then
 * verifies CertificateVerify.
 */
export function verifyServerCertificates(
  chain: readonly Uint8Array[],
  serverName: string,
  opts: CertificateVerifyOptions,
  now: number,
): X509Certificate {
  if (chain.length === 0) {
    // RFC 9846 §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
    // abort the handshake with a "decode_error" alert."
    throw new TlsAlertError('decode_error', 'server sent an empty Certificate message');
  }
  let parsed: X509Certificate[];
  try {
    parsed = chain.map((der) => new X509Certificate(der));
  } catch (err) {
    throw new TlsAlertError('bad_certificate', 'certificate does not parse', { cause: err });
  }
  const leaf = parsed[0];
  if (opts.insecureSkipVerify === true) return leaf;

  if (opts.pinnedSha256 && opts.pinnedSha256.length > 0) {
    if (!pinMatches(leaf, opts.pinnedSha256)) {
      throw new TlsAlertError('bad_certificate', 'certificate matches no configured pin');
    }
    checkValidity(leaf, now, 'end-entity');
    return leaf;
  }

  checkValidity(leaf, now, 'end-entity');
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_EKU)) {
    throw new TlsAlertError('bad_certificate', 'certificate is not for server authentication');
  }
  checkName(leaf, serverName);
  buildPath(parsed, anchorsFor(opts), now);
  return leaf;
}

/** Walks issuer links from the leaf until a trust anchor signs (or is) the current certificate. */
function buildPath(parsed: readonly X509Certificate[], anchors: AnchorStore, now: number): void {
  let current = parsed[0];
  let nameMatchedButBadSignature = false;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (anchors.has(current)) return;
    for (const anchor of anchors.candidates(current.issuer)) {
      if (current.checkIssued(anchor) && current.verify(anchor.publicKey)) {
        checkValidity(anchor, now, 'trust anchor');
        return;
      }
      nameMatchedButBadSignature = true;
    }
    let next: X509Certificate | undefined;
    for (let i = 1; i < parsed.length; i++) {
      const cand = parsed[i];
      if (cand === current || !current.checkIssued(cand)) continue;
      if (!cand.ca || !current.verify(cand.publicKey)) {
        nameMatchedButBadSignature = true;
        continue;
      }
      next = cand;
      break;
    }
    if (!next) break;
    checkValidity(next, now, 'intermediate');
    current = next;
  }
  if (nameMatchedButBadSignature) {
    throw new TlsAlertError(
      'bad_certificate',
      'a certificate signature in the chain does not verify',
    );
  }
  // RFC 9846 §6.2: unknown_ca, "the CA certificate could not be located or could not be matched
  // with a known trust anchor."
  throw new TlsAlertError('unknown_ca', `no trusted issuer for "${current.issuer}"`);
}
