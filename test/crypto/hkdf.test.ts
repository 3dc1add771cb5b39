import { hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../src/crypto/errors.js';
import {
  deriveSecret,
  HASH_LENGTH,
  type HashName,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfLabel,
} from '../../src/crypto/hkdf.js';
import { fromHex, toHex } from '../../src/wire/index.js';

const EMPTY = new Uint8Array(0);

describe('HKDF (RFC 5869)', () => {
  it('reproduces RFC 5869 A.1 (SHA-256, basic case)', () => {
    const ikm = fromHex('0b'.repeat(22));
    const prk = hkdfExtract('sha256', fromHex('000102030405060708090a0b0c'), ikm);
    expect(toHex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    const okm = hkdfExpand('sha256', prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('reproduces RFC 5869 A.3 (SHA-256, zero-length salt and info)', () => {
    const prk = hkdfExtract('sha256', EMPTY, fromHex('0b'.repeat(22)));
    expect(toHex(prk)).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04');
    expect(toHex(hkdfExpand('sha256', prk, EMPTY, 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('matches node hkdfSync (Extract then Expand) for both hashes and multi-block lengths', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<HashName>('sha256', 'sha384'),
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.integer({ min: 1, max: 200 }),
        (hash, salt, ikm, info, length) => {
          const ours = hkdfExpand(hash, hkdfExtract(hash, salt, ikm), info, length);
          const node = new Uint8Array(hkdfSync(hash, ikm, salt, info, length));
          expect(toHex(ours)).toBe(toHex(node));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses output longer than 255 * HashLen', () => {
    const prk = new Uint8Array(32);
    expect(hkdfExpand('sha256', prk, EMPTY, 255 * 32)).toHaveLength(255 * 32);
    expect(() => hkdfExpand('sha256', prk, EMPTY, 255 * 32 + 1)).toThrowError(CryptoError);
    expect(() => hkdfExpand('sha384', prk, EMPTY, -1)).toThrowError(CryptoError);
  });
});

describe('HKDF-Expand-Label (RFC 9846 §7.1)', () => {
  it('serializes HkdfLabel as in RFC 9001 Appendix A.1', () => {
    expect(toHex(hkdfLabel('client in', EMPTY, 32))).toBe('00200f746c73313320636c69656e7420696e00');
    expect(toHex(hkdfLabel('server in', EMPTY, 32))).toBe('00200f746c7331332073657276657220696e00');
    expect(toHex(hkdfLabel('quic key', EMPTY, 16))).toBe('00100e746c7331332071756963206b657900');
    expect(toHex(hkdfLabel('quic iv', EMPTY, 12))).toBe('000c0d746c733133207175696320697600');
    expect(toHex(hkdfLabel('quic hp', EMPTY, 16))).toBe('00100d746c733133207175696320687000');
  });

  it('carries the context with its length byte', () => {
    expect(toHex(hkdfLabel('c', fromHex('aabb'), 0x0102))).toBe('010207746c7331332063' + '02aabb');
  });

  it('is HKDF-Expand over the serialized label', () => {
    const secret = fromHex('11'.repeat(48));
    const ctx = fromHex('22'.repeat(48));
    const viaLabel = hkdfExpandLabel('sha384', secret, 'c hs traffic', ctx, 48);
    const direct = hkdfExpand('sha384', secret, hkdfLabel('c hs traffic', ctx, 48), 48);
    expect(toHex(viaLabel)).toBe(toHex(direct));
    expect(viaLabel).toHaveLength(48);
  });

  it('rejects labels and contexts the struct cannot carry', () => {
    const s = new Uint8Array(32);
    expect(() => hkdfExpandLabel('sha256', s, '', EMPTY, 32)).toThrowError(CryptoError);
    expect(() => hkdfExpandLabel('sha256', s, 'x'.repeat(250), EMPTY, 32)).toThrowError(
      CryptoError,
    );
    expect(hkdfExpandLabel('sha256', s, 'x'.repeat(249), EMPTY, 32)).toHaveLength(32);
    expect(() => hkdfExpandLabel('sha256', s, 'k', new Uint8Array(256), 32)).toThrowError(
      CryptoError,
    );
  });
});

describe('Derive-Secret (RFC 9846 §7.1)', () => {
  it('expands with the transcript hash as context to Hash.length', () => {
    for (const hash of ['sha256', 'sha384'] as const) {
      const len = HASH_LENGTH[hash];
      const secret = fromHex('33'.repeat(len));
      const th = fromHex('44'.repeat(len));
      const d = deriveSecret(hash, secret, 'derived', th);
      expect(d).toHaveLength(len);
      expect(toHex(d)).toBe(toHex(hkdfExpandLabel(hash, secret, 'derived', th, len)));
    }
  });

  it('reproduces the TLS 1.3 "derived" secret over the empty transcript (SHA-256)', () => {
    // early_secret = HKDF-Extract(0, 0) and Derive-Secret(., "derived", "") are fixed values for
    // a handshake without PSK (RFC 8448 §3 trace).
    const zero = new Uint8Array(32);
    const early = hkdfExtract('sha256', zero, zero);
    expect(toHex(early)).toBe('33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a');
    const emptyHash = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(deriveSecret('sha256', early, 'derived', emptyHash))).toBe(
      '6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba',
    );
  });

  it('rejects a transcript hash of the wrong length', () => {
    expect(() =>
      deriveSecret('sha384', new Uint8Array(48), 'derived', new Uint8Array(32)),
    ).toThrowError(CryptoError);
  });
});
