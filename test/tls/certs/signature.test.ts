import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CERTIFICATE_VERIFY_SCHEMES,
  certificateVerifyContent,
  generateDevCert,
  SIGNATURE_ALGORITHMS,
  schemesForKey,
  signWithScheme,
  verifyWithScheme,
} from '../../../src/tls/certs/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { toHex } from '../../../src/wire/index.js';

const ec = createPrivateKey(generateDevCert({ random: new SeededRandom(1) }).keyPem);
const ed = createPrivateKey(
  generateDevCert({ keyType: 'ed25519', random: new SeededRandom(2) }).keyPem,
);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;

describe('CertificateVerify content (RFC 9846 §4.4.3)', () => {
  it('is 64 spaces, the context string, a zero byte and the transcript hash', () => {
    const hash = new Uint8Array(32).fill(0xab);
    const c = certificateVerifyContent('server', hash);
    expect(toHex(c.subarray(0, 64))).toBe('20'.repeat(64));
    expect(Buffer.from(c.subarray(64, 64 + 33)).toString('latin1')).toBe(
      'TLS 1.3, server CertificateVerify',
    );
    expect(c[97]).toBe(0);
    expect(toHex(c.subarray(98))).toBe('ab'.repeat(32));
    expect(c.length).toBe(130);
    expect(
      Buffer.from(certificateVerifyContent('client', hash).subarray(64, 97)).toString('latin1'),
    ).toBe('TLS 1.3, client CertificateVerify');
  });
});

describe('signature schemes', () => {
  it('maps key types to the schemes they can sign CertificateVerify with', () => {
    expect(schemesForKey(ec)).toEqual([0x0403]);
    expect(schemesForKey(p384)).toEqual([0x0503]);
    expect(schemesForKey(ed)).toEqual([0x0807]);
    expect(schemesForKey(rsa)).toEqual([0x0804, 0x0805, 0x0806]);
    // PKCS#1 v1.5 is offered for certificates only, never for CertificateVerify
    expect(SIGNATURE_ALGORITHMS).toContain(0x0401);
    expect(CERTIFICATE_VERIFY_SCHEMES).not.toContain(0x0401);
  });

  it('signs and verifies with every scheme; a changed message or wrong key fails', () => {
    const data = certificateVerifyContent('server', new Uint8Array(48).fill(3));
    for (const key of [ec, p384, ed, rsa]) {
      const pub = createPublicKey(key);
      for (const scheme of schemesForKey(key)) {
        const sig = signWithScheme(scheme, key, data);
        expect(verifyWithScheme(scheme, pub, data, sig)).toBe(true);
        const changed = data.slice();
        changed[100] ^= 1;
        expect(verifyWithScheme(scheme, pub, changed, sig)).toBe(false);
        expect(verifyWithScheme(scheme, createPublicKey(ec === key ? ed : ec), data, sig)).toBe(
          false,
        );
      }
    }
  });

  it('RSA-PSS uses a salt as long as the hash (a salt-20 signature is refused)', async () => {
    const { sign, constants } = await import('node:crypto');
    const data = Uint8Array.of(1, 2, 3);
    const short = sign('sha256', data, {
      key: rsa,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 20,
    });
    expect(verifyWithScheme(0x0804, createPublicKey(rsa), data, short)).toBe(false);
    const right = sign('sha256', data, {
      key: rsa,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    expect(verifyWithScheme(0x0804, createPublicKey(rsa), data, right)).toBe(true);
  });

  it('refuses to sign with a scheme the key cannot use', () => {
    expect(() => signWithScheme(0x0807, ec, Uint8Array.of(1))).toThrow(RangeError);
    expect(() => signWithScheme(0x0503, ec, Uint8Array.of(1))).toThrow(RangeError);
    expect(() => signWithScheme(0x0401, rsa, Uint8Array.of(1))).toThrow(RangeError);
  });

  it('arbitrary signature bytes verify false and never throw', () => {
    const pubs = [createPublicKey(ec), createPublicKey(ed), createPublicKey(rsa)];
    fc.assert(
      fc.property(
        fc.constantFrom(...CERTIFICATE_VERIFY_SCHEMES, 0x0401, 0x1234),
        fc.nat({ max: 2 }),
        fc.uint8Array({ maxLength: 300 }),
        (scheme, k, sig) => {
          expect(verifyWithScheme(scheme, pubs[k], Uint8Array.of(1, 2), sig)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
