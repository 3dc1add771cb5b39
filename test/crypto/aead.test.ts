import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AEAD_TAG_LENGTH, createAead } from '../../src/crypto/aead.js';
import { AeadError, CryptoError } from '../../src/crypto/errors.js';
import { CipherSuite, isSupportedSuite, suiteParams } from '../../src/crypto/suites.js';
import { fromHex, toHex } from '../../src/wire/index.js';

const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;

/** An independent implementation (@noble/ciphers) to compare against. */
function reference(
  suite: CipherSuite,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
): { encrypt(p: Uint8Array): Uint8Array } {
  return suite === CipherSuite.TLS_CHACHA20_POLY1305_SHA256
    ? chacha20poly1305(key, nonce, aad)
    : gcm(key, nonce, aad);
}

const arbCase = fc.constantFrom(...SUITES).chain((suite) =>
  fc.record({
    suite: fc.constant(suite),
    key: fc.uint8Array({
      minLength: suiteParams(suite).keyLength,
      maxLength: suiteParams(suite).keyLength,
    }),
    nonce: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    aad: fc.uint8Array({ maxLength: 64 }),
    plaintext: fc.uint8Array({ maxLength: 300 }),
  }),
);

describe('AEAD (RFC 9001 §5.3)', () => {
  it('RFC 8439 §2.8.2 ChaCha20-Poly1305 vector', () => {
    const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = fromHex('070000004041424344454647');
    const aad = fromHex('50515253c0c1c2c3c4c5c6c7');
    const pt = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = createAead(CipherSuite.TLS_CHACHA20_POLY1305_SHA256, key).seal(nonce, aad, pt);
    expect(toHex(sealed.subarray(0, 16))).toBe('d31a8d34648e60db7b86afbc53ef7ec2');
    expect(toHex(sealed.subarray(sealed.length - 16))).toBe('1ae10b594f09e26a7e902ecbd0600691');
  });

  it('seal matches @noble/ciphers and open inverts it, for all three suites', () => {
    fc.assert(
      fc.property(arbCase, ({ suite, key, nonce, aad, plaintext }) => {
        const aead = createAead(suite, key);
        const sealed = aead.seal(nonce, aad, plaintext);
        expect(sealed).toHaveLength(plaintext.length + AEAD_TAG_LENGTH);
        expect(toHex(sealed)).toBe(toHex(reference(suite, key, nonce, aad).encrypt(plaintext)));
        expect(toHex(aead.open(nonce, aad, sealed))).toBe(toHex(plaintext));
      }),
      { numRuns: 2000 },
    );
  });

  it('sealInto / openInto work in place inside a larger buffer', () => {
    fc.assert(
      fc.property(arbCase, fc.nat(40), ({ suite, key, nonce, aad, plaintext }, offset) => {
        const aead = createAead(suite, key);
        const buf = new Uint8Array(offset + plaintext.length + AEAD_TAG_LENGTH + 7).fill(0xee);
        buf.set(plaintext, offset);
        const n = aead.sealInto(
          nonce,
          aad,
          buf.subarray(offset, offset + plaintext.length),
          buf,
          offset,
        );
        expect(n).toBe(plaintext.length + AEAD_TAG_LENGTH);
        expect(toHex(buf.subarray(offset, offset + n))).toBe(
          toHex(aead.seal(nonce, aad, plaintext)),
        );
        const m = aead.openInto(nonce, aad, buf.subarray(offset, offset + n), buf, offset);
        expect(m).toBe(plaintext.length);
        expect(toHex(buf.subarray(offset, offset + m))).toBe(toHex(plaintext));
        expect(buf.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
        expect(buf.subarray(offset + n).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('any flipped bit in AAD, ciphertext or tag fails with AeadError and writes nothing', () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.nat(),
        fc.nat(7),
        ({ suite, key, nonce, aad, plaintext }, pos, bit) => {
          const aead = createAead(suite, key);
          const sealed = aead.seal(nonce, aad, plaintext);
          const total = aad.length + sealed.length;
          const at = pos % total;
          const badAad = Uint8Array.from(aad);
          const badCt = Uint8Array.from(sealed);
          if (at < aad.length) badAad[at] ^= 1 << bit;
          else badCt[at - aad.length] ^= 1 << bit;
          const out = new Uint8Array(plaintext.length).fill(0x5a);
          expect(() => aead.openInto(nonce, badAad, badCt, out, 0)).toThrowError(AeadError);
          expect(out.every((b) => b === 0x5a)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a wrong nonce or key fails; a ciphertext shorter than the tag fails', () => {
    for (const suite of SUITES) {
      const key = new Uint8Array(suiteParams(suite).keyLength).fill(9);
      const nonce = new Uint8Array(12);
      const aead = createAead(suite, key);
      const sealed = aead.seal(nonce, new Uint8Array(3), new Uint8Array(10));
      const otherNonce = Uint8Array.from(nonce);
      otherNonce[11] = 1;
      expect(() => aead.open(otherNonce, new Uint8Array(3), sealed)).toThrowError(AeadError);
      const otherKey = createAead(suite, new Uint8Array(key.length).fill(8));
      expect(() => otherKey.open(nonce, new Uint8Array(3), sealed)).toThrowError(AeadError);
      for (let len = 0; len < AEAD_TAG_LENGTH; len++) {
        expect(() => aead.open(nonce, new Uint8Array(3), sealed.subarray(0, len))).toThrowError(
          AeadError,
        );
      }
    }
  });

  it('AeadError is a CryptoError with code AEAD_AUTH_FAILED', () => {
    const aead = createAead(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(16));
    try {
      aead.open(new Uint8Array(12), new Uint8Array(0), new Uint8Array(16));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as CryptoError).code).toBe('AEAD_AUTH_FAILED');
    }
  });

  it('rejects wrong key and nonce sizes, unknown suites and short outputs', () => {
    expect(() => createAead(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(32))).toThrowError(
      CryptoError,
    );
    expect(() => createAead(0x1304 as CipherSuite, new Uint8Array(16))).toThrowError(
      expect.objectContaining({ code: 'UNSUPPORTED_SUITE' }),
    );
    const aead = createAead(CipherSuite.TLS_AES_256_GCM_SHA384, new Uint8Array(32));
    expect(() => aead.seal(new Uint8Array(8), new Uint8Array(0), new Uint8Array(1))).toThrowError(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() =>
      aead.sealInto(
        new Uint8Array(12),
        new Uint8Array(0),
        new Uint8Array(4),
        new Uint8Array(19),
        0,
      ),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(isSupportedSuite(0x1303)).toBe(true);
    expect(isSupportedSuite(0x1304)).toBe(false); // TLS_AES_128_CCM_SHA256: not implemented
    expect(isSupportedSuite(0x1305)).toBe(false); // CCM_8: never usable with QUIC (§5.3)
  });
});
