import { createCipheriv } from 'node:crypto';
import { ecb } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chacha20KeyWords, chacha20Mask5 } from '../../src/crypto/chacha20-block.js';
import { CryptoError } from '../../src/crypto/errors.js';
import { createHeaderProtection } from '../../src/crypto/header-protection.js';
import { CipherSuite, suiteParams } from '../../src/crypto/suites.js';
import { fromHex, toHex } from '../../src/wire/index.js';

const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

describe('ChaCha20 block for header protection (RFC 8439 §2.3, RFC 9001 §5.4.4)', () => {
  it('reproduces the RFC 8439 §2.3.2 block (first five bytes)', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    // counter 1 little-endian, then the nonce 000000090000004a00000000
    const input = fromHex('01000000' + '000000090000004a00000000');
    const out = new Uint8Array(5);
    chacha20Mask5(chacha20KeyWords(key), input, 0, out, 0);
    expect(toHex(out)).toBe('10f1e7e4d1');
  });

  it('equals node:crypto chacha20 over five zero bytes for random keys and samples', () => {
    const zeros = new Uint8Array(5);
    fc.assert(
      fc.property(bytes(32), bytes(16), fc.boolean(), (key, sample, maxCounter) => {
        if (maxCounter) sample.fill(0xff, 0, 4); // counter 0xffffffff, which noble refuses
        const expected = createCipheriv('chacha20', key, sample).update(zeros);
        const out = new Uint8Array(7);
        chacha20Mask5(chacha20KeyWords(key), sample, 0, out, 2);
        expect(toHex(out.subarray(2))).toBe(toHex(expected));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('header protection masks (RFC 9001 §5.4.3, §5.4.4, Appendix A)', () => {
  it('AES-128: the client and server Initial samples of A.2 and A.3', () => {
    const client = createHeaderProtection(
      CipherSuite.TLS_AES_128_GCM_SHA256,
      fromHex('9f50449e04a0e810283a1e9933adedd2'),
    );
    expect(toHex(client.mask(fromHex('d1b1c98dd7689fb8ec11d242b123dc9b')))).toBe('437b9aec36');
    const server = createHeaderProtection(
      CipherSuite.TLS_AES_128_GCM_SHA256,
      fromHex('c206b8d9b9f0f37644430b490eeaa314'),
    );
    expect(toHex(server.mask(fromHex('2cd0991cd25b0aac406a5816b6394100')))).toBe('2ec0d8356a');
  });

  it('ChaCha20: the A.5 sample', () => {
    const hp = createHeaderProtection(
      CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
      fromHex('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4'),
    );
    expect(toHex(hp.mask(fromHex('5e5cd55c41f69080575d7999c25a5bfb')))).toBe('aefefe7d03');
  });

  it('AES: the reused ECB context gives the same mask as a fresh AES-ECB, call after call', () => {
    for (const suite of [CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384]) {
      const keyLen = suiteParams(suite).hpKeyLength;
      fc.assert(
        fc.property(
          bytes(keyLen),
          fc.array(bytes(16), { minLength: 1, maxLength: 8 }),
          (key, samples) => {
            const hp = createHeaderProtection(suite, key);
            for (const s of samples) {
              const expected = ecb(key, { disablePadding: true }).encrypt(s).subarray(0, 5);
              expect(toHex(hp.mask(s))).toBe(toHex(expected));
            }
          },
        ),
        { numRuns: 500 },
      );
    }
  });
});

describe('apply / remove in place (RFC 9001 §5.4.1)', () => {
  const arbPacket = fc.record({
    suite: fc.constantFrom(...SUITES),
    long: fc.boolean(),
    pnLength: fc.integer({ min: 1, max: 4 }),
    pnOffset: fc.integer({ min: 1, max: 60 }),
    extra: fc.integer({ min: 0, max: 100 }),
    seed: fc.integer(),
  });

  it('remove inverts apply, returns the pn length, and touches only the protected bits', () => {
    fc.assert(
      fc.property(arbPacket, bytes(32), ({ suite, long, pnLength, pnOffset, extra, seed }, k) => {
        const hp = createHeaderProtection(suite, k.subarray(0, suiteParams(suite).hpKeyLength));
        const packet = new Uint8Array(pnOffset + 20 + extra);
        let x = seed;
        for (let i = 0; i < packet.length; i++) {
          x = (Math.imul(x, 1103515245) + 12345) | 0;
          packet[i] = x >>> 24;
        }
        packet[0] = (long ? 0xc0 : 0x40) | (packet[0] & 0x3c) | (pnLength - 1);
        const original = Uint8Array.from(packet);
        hp.apply(packet, pnOffset);
        const fixed = long ? 0xf0 : 0xe0;
        expect(packet[0] & fixed).toBe(original[0] & fixed);
        expect(toHex(packet.subarray(1, pnOffset))).toBe(toHex(original.subarray(1, pnOffset)));
        expect(toHex(packet.subarray(pnOffset + pnLength))).toBe(
          toHex(original.subarray(pnOffset + pnLength)),
        );
        expect(hp.remove(packet, pnOffset)).toBe(pnLength);
        expect(toHex(packet)).toBe(toHex(original));
      }),
      { numRuns: 3000 },
    );
  });

  it('a packet too short for the sample is a typed error, for every short length', () => {
    for (const suite of SUITES) {
      const hp = createHeaderProtection(suite, new Uint8Array(suiteParams(suite).hpKeyLength));
      for (const pnOffset of [1, 9, 18]) {
        for (let len = 0; len < pnOffset + 20; len++) {
          const packet = new Uint8Array(len).fill(0x41);
          const before = toHex(packet);
          expect(() => hp.remove(packet, pnOffset)).toThrowError(
            expect.objectContaining({ code: 'SAMPLE_TOO_SHORT' }),
          );
          expect(() => hp.apply(packet, pnOffset)).toThrowError(CryptoError);
          expect(toHex(packet)).toBe(before);
        }
        const ok = new Uint8Array(pnOffset + 20);
        ok[0] = 0x40;
        expect(() => hp.remove(ok, pnOffset)).not.toThrow();
      }
      expect(() => hp.mask(new Uint8Array(15))).toThrowError(
        expect.objectContaining({ code: 'SAMPLE_TOO_SHORT' }),
      );
    }
  });

  it('rejects an HP key of the wrong length', () => {
    expect(() =>
      createHeaderProtection(CipherSuite.TLS_AES_256_GCM_SHA384, new Uint8Array(16)),
    ).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
