import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { generateDevCert, verifyServerCertificates } from '../../../src/tls/certs/index.js';
import { SeededRandom } from '../../../src/util/random.js';

const NOW = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

const root = generateDevCert({
  now: NOW,
  ca: true,
  commonName: 'Root',
  random: new SeededRandom(1),
});
const intermediate = generateDevCert({
  now: NOW,
  ca: true,
  commonName: 'Intermediate',
  issuer: root,
  random: new SeededRandom(2),
});
const leaf = generateDevCert({
  now: NOW,
  issuer: intermediate,
  names: ['proxy.test'],
  random: new SeededRandom(3),
});
const selfSigned = generateDevCert({ now: NOW, random: new SeededRandom(4) });

function alertOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TlsAlertError);
    return (err as TlsAlertError).alertName;
  }
  return 'none';
}

const trustRoot = { ca: [root.certPem], noSystemRoots: true };

describe('verifyServerCertificates', () => {
  it('accepts leaf + intermediate anchored at a configured root', () => {
    const x = verifyServerCertificates(
      [leaf.certDer, intermediate.certDer],
      'proxy.test',
      trustRoot,
      NOW,
    );
    expect(x.subject).toBe('CN=localhost');
  });

  it('checks IP literals against iPAddress names (also in brackets)', () => {
    for (const name of ['127.0.0.1', '::1', '[::1]']) {
      verifyServerCertificates([leaf.certDer, intermediate.certDer], name, trustRoot, NOW);
    }
    expect(
      alertOf(() =>
        verifyServerCertificates([leaf.certDer, intermediate.certDer], '10.1.1.1', trustRoot, NOW),
      ),
    ).toBe('bad_certificate');
  });

  it('without the intermediate there is no path: unknown_ca', () => {
    expect(
      alertOf(() => verifyServerCertificates([leaf.certDer], 'proxy.test', trustRoot, NOW)),
    ).toBe('unknown_ca');
  });

  it('node root store alone does not know a private root: unknown_ca', () => {
    expect(
      alertOf(() =>
        verifyServerCertificates([leaf.certDer, intermediate.certDer], 'proxy.test', {}, NOW),
      ),
    ).toBe('unknown_ca');
  });

  it('a host the certificate does not name is bad_certificate', () => {
    expect(
      alertOf(() =>
        verifyServerCertificates([leaf.certDer, intermediate.certDer], 'evil.test', trustRoot, NOW),
      ),
    ).toBe('bad_certificate');
  });

  it('before notBefore or after notAfter is certificate_expired', () => {
    const chain = [leaf.certDer, intermediate.certDer];
    expect(
      alertOf(() => verifyServerCertificates(chain, 'proxy.test', trustRoot, NOW + 15 * DAY)),
    ).toBe('certificate_expired');
    expect(
      alertOf(() => verifyServerCertificates(chain, 'proxy.test', trustRoot, NOW - 2 * DAY)),
    ).toBe('certificate_expired');
  });

  it('an expired intermediate is certificate_expired even if the leaf is valid', () => {
    const shortInter = generateDevCert({
      now: NOW - 20 * DAY,
      ca: true,
      commonName: 'Intermediate',
      issuer: root,
      validityDays: 10,
    });
    const l = generateDevCert({ now: NOW, issuer: shortInter, names: ['proxy.test'] });
    expect(
      alertOf(() =>
        verifyServerCertificates([l.certDer, shortInter.certDer], 'proxy.test', trustRoot, NOW),
      ),
    ).toBe('certificate_expired');
  });

  it('a certificate whose issuer name matches but whose signature does not is bad_certificate', () => {
    const impostorRoot = generateDevCert({ now: NOW, ca: true, commonName: 'Root' });
    const forged = generateDevCert({ now: NOW, issuer: impostorRoot, names: ['proxy.test'] });
    expect(
      alertOf(() => verifyServerCertificates([forged.certDer], 'proxy.test', trustRoot, NOW)),
    ).toBe('bad_certificate');
  });

  it('an empty chain is decode_error (RFC 9846 §4.4.2.4) and garbage is bad_certificate', () => {
    expect(alertOf(() => verifyServerCertificates([], 'proxy.test', trustRoot, NOW))).toBe(
      'decode_error',
    );
    expect(
      alertOf(() =>
        verifyServerCertificates([Uint8Array.of(0x30, 0x03, 1, 2, 3)], 'x', trustRoot, NOW),
      ),
    ).toBe('bad_certificate');
  });

  it('a self-signed certificate configured as a CA is its own anchor', () => {
    verifyServerCertificates(
      [selfSigned.certDer],
      'localhost',
      { ca: [selfSigned.certPem], noSystemRoots: true },
      NOW,
    );
  });

  it('pins: SPKI base64 or certificate hex accepted without CA or name check; others rejected', () => {
    const der = selfSigned.certDer;
    verifyServerCertificates([der], 'any.name', { pinnedSha256: [selfSigned.spkiSha256] }, NOW);
    verifyServerCertificates(
      [der],
      'any.name',
      { pinnedSha256: ['nope', selfSigned.certSha256Hex.toUpperCase()] },
      NOW,
    );
    expect(
      alertOf(() =>
        verifyServerCertificates([der], 'localhost', { pinnedSha256: [leaf.spkiSha256] }, NOW),
      ),
    ).toBe('bad_certificate');
    // a pin does not lift the validity check
    expect(
      alertOf(() =>
        verifyServerCertificates(
          [der],
          'localhost',
          { pinnedSha256: [selfSigned.spkiSha256] },
          NOW + 30 * DAY,
        ),
      ),
    ).toBe('certificate_expired');
  });

  it('insecureSkipVerify only when exactly true', () => {
    verifyServerCertificates(
      [selfSigned.certDer],
      'other',
      { insecureSkipVerify: true },
      NOW + 99 * DAY,
    );
    const loose = { insecureSkipVerify: 'yes' as unknown as boolean };
    expect(
      alertOf(() => verifyServerCertificates([selfSigned.certDer], 'localhost', loose, NOW)),
    ).toBe('unknown_ca');
  });

  it('trusts node root store anchors (a real root verifies as its own anchor)', async () => {
    const { rootCertificates } = await import('node:tls');
    const x = new X509Certificate(rootCertificates[0]);
    const now = (Date.parse(x.validFrom) + Date.parse(x.validTo)) / 2;
    const name = 'irrelevant';
    // A root is not a server certificate for a name, so the name check fails first:
    expect(alertOf(() => verifyServerCertificates([new Uint8Array(x.raw)], name, {}, now))).toBe(
      'bad_certificate',
    );
    // With a pin on it, the store is not consulted; the SHA-256 of its SPKI is accepted.
    const pin = createHash('sha256')
      .update(x.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    verifyServerCertificates([new Uint8Array(x.raw)], name, { pinnedSha256: [pin] }, now);
  });
});
