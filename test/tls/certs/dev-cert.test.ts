import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  namedBits,
  oid,
  sequence,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from '../../../src/tls/certs/der.js';
import { generateDevCert, pemBlocks, spkiSha256, toPem } from '../../../src/tls/certs/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

const NOW = Date.UTC(2025, 5, 1);

describe('DER encoder (X.690)', () => {
  it('encodes OIDs with packed first arcs and base-128 arcs', () => {
    expect(toHex(oid('1.2.840.113549'))).toBe('06062a864886f70d');
    expect(toHex(oid('2.5.29.17'))).toBe('0603551d11');
    expect(toHex(oid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302');
    expect(() => oid('1')).toThrow(RangeError);
  });

  it('encodes INTEGERs minimally and positive', () => {
    expect(toHex(smallInteger(0))).toBe('020100');
    expect(toHex(smallInteger(2))).toBe('020102');
    expect(toHex(smallInteger(128))).toBe('02020080');
    expect(toHex(unsignedInteger(fromHex('0000ff')))).toBe('020200ff');
    expect(toHex(unsignedInteger(fromHex('7f01')))).toBe('02027f01');
  });

  it('uses the long length form from 128 bytes on', () => {
    expect(toHex(sequence(new Uint8Array(127))).slice(0, 4)).toBe('307f');
    expect(toHex(sequence(new Uint8Array(128))).slice(0, 6)).toBe('308180');
    expect(toHex(sequence(new Uint8Array(300))).slice(0, 8)).toBe('3082012c');
  });

  it('encodes named bits without trailing zeros (keyUsage)', () => {
    expect(toHex(namedBits([0]))).toBe('03020780'); // digitalSignature
    expect(toHex(namedBits([0, 5, 6]))).toBe('03020186'); // + keyCertSign, cRLSign
    expect(toHex(namedBits([0, 8]))).toBe('0303078080'); // bit 8 spills into a second byte
    expect(toHex(bitString(Uint8Array.of(1, 2)))).toBe('0303000102');
  });

  it('BOOLEAN TRUE is ff, UTF8String is tagged 0c', () => {
    expect(toHex(boolean(true))).toBe('0101ff');
    expect(toHex(boolean(false))).toBe('010100');
    expect(toHex(utf8String('é'))).toBe('0c02c3a9');
  });

  it('writes UTCTime before 2050 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    const ascii = (b: Uint8Array) => String.fromCharCode(...b.subarray(2));
    expect(toHex(time(Date.UTC(2025, 5, 1, 12, 34, 56))).slice(0, 4)).toBe('170d');
    expect(ascii(time(Date.UTC(2025, 5, 1, 12, 34, 56)))).toBe('250601123456Z');
    expect(toHex(time(Date.UTC(2050, 0, 1))).slice(0, 4)).toBe('180f');
    expect(ascii(time(Date.UTC(2050, 0, 1)))).toBe('20500101000000Z');
  });
});

describe('PEM', () => {
  it('round-trips DER through PEM and picks blocks by label', () => {
    const der = Uint8Array.from({ length: 100 }, (_, i) => i);
    const pem = toPem(der) + toPem(Uint8Array.of(1), 'PRIVATE KEY') + toPem(Uint8Array.of(9, 9));
    const blocks = pemBlocks(pem);
    expect(blocks.map(toHex)).toEqual([toHex(der), '0909']);
    expect(pemBlocks(pem, 'PRIVATE KEY').map(toHex)).toEqual(['01']);
    expect(pem.split('\n').every((l) => l.length <= 64)).toBe(true);
  });
});

describe('development certificates', () => {
  it('a default certificate parses, is self-signed, and names localhost, 127.0.0.1 and ::1', () => {
    const c = generateDevCert({ now: NOW, names: ['proxy.test', '10.0.0.1'] });
    const x = new X509Certificate(c.certPem);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.issuer).toBe(x.subject);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkHost('proxy.test')).toBe('proxy.test');
    expect(x.checkHost('other.test')).toBeUndefined();
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('::1')).toBe('::1');
    expect(x.checkIP('10.0.0.1')).toBe('10.0.0.1');
    expect(x.checkIP('10.0.0.2')).toBeUndefined();
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extKeyUsage serverAuth
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(Date.parse(x.validFrom)).toBe(NOW - 3_600_000);
    expect(Date.parse(x.validTo)).toBe(NOW + 14 * 86_400_000);
    expect(x.checkPrivateKey(createPrivateKey(c.keyPem))).toBe(true);
    expect(toHex(new Uint8Array(x.raw))).toBe(toHex(c.certDer));
  });

  it('reports the SPKI SHA-256 (base64) Chromium pins and the certificate SHA-256', () => {
    const c = generateDevCert({ now: NOW });
    const x = new X509Certificate(c.certPem);
    const spki = createPublicKey(c.keyPem).export({ type: 'spki', format: 'der' });
    expect(c.spkiSha256).toBe(createHash('sha256').update(spki).digest('base64'));
    expect(c.spkiSha256).toBe(spkiSha256(x));
    expect(c.spkiSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(c.certSha256Hex).toBe(createHash('sha256').update(x.raw).digest('hex'));
  });

  it('the same Random gives the same key (reproducible pins)', () => {
    const a = generateDevCert({ now: NOW, random: new SeededRandom(1) });
    const b = generateDevCert({ now: NOW + 5000, random: new SeededRandom(1) });
    const c = generateDevCert({ now: NOW, random: new SeededRandom(2) });
    expect(a.spkiSha256).toBe(b.spkiSha256);
    expect(a.spkiSha256).not.toBe(c.spkiSha256);
  });

  it('Ed25519 and RSA certificates verify too', () => {
    for (const keyType of ['ed25519', 'rsa-2048'] as const) {
      const c = generateDevCert({ now: NOW, keyType });
      const x = new X509Certificate(c.certPem);
      expect(x.verify(x.publicKey)).toBe(true);
      expect(x.publicKey.asymmetricKeyType).toBe(keyType === 'ed25519' ? 'ed25519' : 'rsa');
      expect(x.checkHost('localhost')).toBe('localhost');
    }
  });

  it('a CA issues certificates that chain to it, and only to it', () => {
    const ca = generateDevCert({ now: NOW, ca: true, commonName: 'Test Root' });
    const leaf = generateDevCert({ now: NOW, issuer: ca, names: ['a.test'] });
    const caX = new X509Certificate(ca.certPem);
    const leafX = new X509Certificate(leaf.certPem);
    expect(caX.ca).toBe(true);
    expect(leafX.issuer).toBe('CN=Test Root');
    expect(leafX.checkIssued(caX)).toBe(true);
    expect(leafX.verify(caX.publicKey)).toBe(true);
    expect(leafX.verify(leafX.publicKey)).toBe(false);
    const other = generateDevCert({ now: NOW, ca: true, commonName: 'Test Root' });
    expect(leafX.verify(new X509Certificate(other.certPem).publicKey)).toBe(false);
  });

  it('validityDays and notBefore are honoured', () => {
    const c = generateDevCert({ now: NOW, validityDays: 1, notBefore: NOW });
    const x = new X509Certificate(c.certPem);
    expect(Date.parse(x.validFrom)).toBe(NOW);
    expect(Date.parse(x.validTo)).toBe(NOW + 86_400_000);
  });
});
