import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAead } from '../../../src/crypto/aead.js';
import { AeadError, CryptoError } from '../../../src/crypto/errors.js';
import { CipherSuite, suiteParams } from '../../../src/crypto/suites.js';
import { AEAD_LIMITS, deriveKeys, PacketProtector } from '../../../src/quic/protection/index.js';
import { toHex } from '../../../src/wire/index.js';

const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;

interface Built {
  packet: Uint8Array;
  pnOffset: number;
  pnLength: number;
  pn: number;
  payload: Uint8Array;
  header: Uint8Array;
}

/** Lays out header | pn (left as garbage: seal writes it) | payload | tag room. */
function build(
  long: boolean,
  headerRest: Uint8Array,
  firstBits: number,
  pnLength: number,
  pn: number,
  payload: Uint8Array,
): Built {
  const pnOffset = 1 + headerRest.length;
  const packet = new Uint8Array(pnOffset + pnLength + payload.length + 16).fill(0xa5);
  packet[0] = (long ? 0xc0 : 0x40) | (firstBits & (long ? 0x30 : 0x3c)) | (pnLength - 1);
  packet.set(headerRest, 1);
  packet.set(payload, pnOffset + pnLength);
  const header = packet.slice(0, pnOffset);
  return { packet, pnOffset, pnLength, pn, payload, header };
}

const arbPacket = fc.record({
  suite: fc.constantFrom(...SUITES),
  secretSeed: fc.uint8Array({ minLength: 48, maxLength: 48 }),
  long: fc.boolean(),
  headerRest: fc.uint8Array({ maxLength: 40 }),
  firstBits: fc.nat(0xff),
  pnLength: fc.integer({ min: 1, max: 4 }),
  pn: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: 2 ** 53 - 2 })),
  payload: fc.uint8Array({ maxLength: 1300 }),
});

function protectorFor(suite: CipherSuite, seed: Uint8Array): PacketProtector {
  return PacketProtector.fromSecret(suite, seed.subarray(0, suiteParams(suite).hashLength));
}

function padded(payload: Uint8Array, pnLength: number): Uint8Array {
  // RFC 9001 §5.4.2: pn + payload must be at least 4 bytes for the sample.
  if (payload.length + pnLength >= 4) return payload;
  const p = new Uint8Array(4 - pnLength);
  p.set(payload);
  return p;
}

describe('PacketProtector round trip (RFC 9001 §5.3, §5.4)', () => {
  it('open(seal(p)) restores header, pn and payload for all suites, pn lengths and header forms', () => {
    fc.assert(
      fc.property(arbPacket, (c) => {
        const payload = padded(c.payload, c.pnLength);
        const b = build(c.long, c.headerRest, c.firstBits, c.pnLength, c.pn, payload);
        const p = protectorFor(c.suite, c.secretSeed);
        const end = p.seal(b.packet, b.pnOffset, b.pnLength, b.pn, payload.length);
        expect(end).toBe(b.packet.length);
        const opened = protectorFor(c.suite, c.secretSeed).open(b.packet, b.pnOffset, b.pn - 1);
        expect(opened.pn).toBe(b.pn);
        expect(opened.pnLength).toBe(b.pnLength);
        expect(opened.payloadOffset).toBe(b.pnOffset + b.pnLength);
        expect(opened.payloadLength).toBe(payload.length);
        expect(toHex(b.packet.subarray(0, b.pnOffset))).toBe(toHex(b.header));
        const at = opened.payloadOffset;
        expect(toHex(b.packet.subarray(at, at + opened.payloadLength))).toBe(toHex(payload));
        // the truncated packet number seal wrote
        let t = 0;
        for (let i = 0; i < b.pnLength; i++) t = t * 256 + b.packet[b.pnOffset + i];
        expect(t).toBe(b.pn % 2 ** (8 * b.pnLength));
      }),
      { numRuns: 2000 },
    );
  });

  it('any flipped bit in header, pn, payload or tag fails with AeadError', () => {
    fc.assert(
      fc.property(arbPacket, fc.nat(), fc.nat(7), (c, pos, bit) => {
        const payload = padded(c.payload.subarray(0, 100), c.pnLength);
        const b = build(c.long, c.headerRest, c.firstBits, c.pnLength, c.pn, payload);
        protectorFor(c.suite, c.secretSeed).seal(
          b.packet,
          b.pnOffset,
          b.pnLength,
          b.pn,
          payload.length,
        );
        b.packet[pos % b.packet.length] ^= 1 << bit;
        expect(() =>
          protectorFor(c.suite, c.secretSeed).open(b.packet, b.pnOffset, b.pn - 1),
        ).toThrowError(AeadError);
      }),
      { numRuns: 2000 },
    );
  });

  it('every truncation of a protected packet is rejected with a typed error', () => {
    for (const suite of SUITES) {
      const secret = new Uint8Array(suiteParams(suite).hashLength).fill(7);
      const b = build(true, new Uint8Array(17), 0, 2, 300, new Uint8Array(30).fill(1));
      PacketProtector.fromSecret(suite, secret).seal(b.packet, b.pnOffset, 2, 300, 30);
      for (let len = 0; len < b.packet.length; len++) {
        const cut = b.packet.slice(0, len);
        expect(() =>
          PacketProtector.fromSecret(suite, secret).open(cut, b.pnOffset, 299),
        ).toThrowError(CryptoError);
      }
    }
  });

  it('opening arbitrary bytes only ever throws CryptoError (never RangeError/TypeError)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SUITES),
        fc.uint8Array({ maxLength: 120 }),
        fc.integer({ min: 0, max: 130 }),
        fc.integer({ min: -1, max: 2 ** 53 - 2 }),
        (suite, bytes, pnOffset, largest) => {
          const p = protectorFor(suite, new Uint8Array(48).fill(1));
          try {
            p.open(bytes, pnOffset, largest);
          } catch (err) {
            expect(err).toBeInstanceOf(CryptoError);
            return;
          }
          expect.unreachable('random bytes authenticated');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a reconstructed packet number past 2^53 - 1 is an authentication failure', () => {
    const p = protectorFor(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(48));
    const packet = new Uint8Array(40);
    expect(() => p.decrypt(packet, 5, 1, 2 ** 53)).toThrowError(AeadError);
  });

  it('the nonce is iv XOR the 62-bit packet number, also above 2^32', () => {
    const suite = CipherSuite.TLS_AES_128_GCM_SHA256;
    const secret = new Uint8Array(32).fill(3);
    const keys = deriveKeys(secret, suite);
    for (const pn of [0, 1, 0xffffffff, 2 ** 32, 2 ** 40 + 12345, 2 ** 53 - 1]) {
      const b = build(false, new Uint8Array(8), 0, 4, pn, new Uint8Array(20).fill(9));
      const aad = Uint8Array.from(b.packet.subarray(0, b.pnOffset + 4));
      for (let i = 0; i < 4; i++)
        aad[b.pnOffset + i] = Number((BigInt(pn) >> BigInt(8 * (3 - i))) & 0xffn);
      PacketProtector.fromSecret(suite, secret).seal(b.packet, b.pnOffset, 4, pn, 20);
      const nonce = Uint8Array.from(keys.iv);
      for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((BigInt(pn) >> BigInt(8 * i)) & 0xffn);
      const expected = createAead(suite, keys.key).seal(nonce, aad, new Uint8Array(20).fill(9));
      expect(toHex(b.packet.subarray(b.pnOffset + 4))).toBe(toHex(expected));
    }
  });
});

describe('PacketProtector two-step open and key phases (RFC 9001 §6)', () => {
  it('header removed once; payload retried with the next key phase', () => {
    const suite = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
    const secret = new Uint8Array(32).fill(0x42);
    const sender = PacketProtector.fromSecret(suite, secret).nextKeyPhase();
    const b = build(false, new Uint8Array(8).fill(1), 0x04, 2, 1000, new Uint8Array(50).fill(2));
    sender.seal(b.packet, b.pnOffset, 2, 1000, 50);

    const current = PacketProtector.fromSecret(suite, secret);
    const header = current.unprotectHeader(b.packet, b.pnOffset, 990);
    expect(header).toEqual({ pn: 1000, pnLength: 2 });
    expect(b.packet[0] & 0x04).toBe(0x04); // key phase bit readable after HP removal
    const before = toHex(b.packet);
    expect(() => current.decrypt(b.packet, b.pnOffset, 2, 1000)).toThrowError(AeadError);
    expect(toHex(b.packet)).toBe(before); // nothing written on failure
    const n = current.nextKeyPhase().decrypt(b.packet, b.pnOffset, 2, 1000);
    expect(n).toBe(50);
    expect(b.packet.subarray(b.pnOffset + 2, b.pnOffset + 52).every((x) => x === 2)).toBe(true);
  });

  it('successive key phases differ and chain through "quic ku"', () => {
    for (const suite of SUITES) {
      const secret = new Uint8Array(suiteParams(suite).hashLength).fill(5);
      const p0 = PacketProtector.fromSecret(suite, secret);
      const p1 = p0.nextKeyPhase();
      const p2 = p1.nextKeyPhase();
      const out = [p0, p1, p2].map((p) => {
        const b = build(false, new Uint8Array(0), 0, 1, 7, new Uint8Array(20));
        p.seal(b.packet, b.pnOffset, 1, 7, 20);
        return toHex(b.packet.subarray(2));
      });
      expect(new Set(out).size).toBe(3);
      expect(p2.headerProtection).toBe(p0.headerProtection);
    }
  });

  it('a protector from bare keys cannot update', () => {
    const suite = CipherSuite.TLS_AES_128_GCM_SHA256;
    const p = PacketProtector.fromKeys(suite, deriveKeys(new Uint8Array(32), suite));
    expect(() => p.nextKeyPhase()).toThrowError(CryptoError);
  });
});

describe('PacketProtector.seal argument checks', () => {
  const p = PacketProtector.fromSecret(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(32));

  it('refuses pn + payload under 4 bytes (no sample) before touching the buffer', () => {
    for (let pnLength = 1; pnLength <= 4; pnLength++) {
      for (let payload = 0; payload + pnLength < 4; payload++) {
        const buf = new Uint8Array(64).fill(0x11);
        expect(() => p.seal(buf, 5, pnLength, 0, payload)).toThrowError(
          expect.objectContaining({ code: 'SAMPLE_TOO_SHORT' }),
        );
        expect(buf.every((x) => x === 0x11)).toBe(true);
      }
      expect(() => p.seal(new Uint8Array(64), 5, pnLength, 0, 4 - pnLength)).not.toThrow();
    }
  });

  it('refuses bad lengths, a buffer without tag room, and bad packet numbers', () => {
    const buf = new Uint8Array(40);
    const invalid = expect.objectContaining({ code: 'INVALID_ARGUMENT' });
    expect(() => p.seal(buf, 5, 0, 0, 10)).toThrowError(invalid);
    expect(() => p.seal(buf, 5, 5, 0, 10)).toThrowError(invalid);
    expect(() => p.seal(buf, 5, 1, 0, 19)).toThrowError(invalid); // 5+1+19+16 = 41 > 40
    expect(p.seal(buf, 5, 1, 0, 18)).toBe(40);
    expect(() => p.seal(buf, 5, 1, -1, 10)).toThrowError(invalid);
    expect(() => p.seal(buf, 5, 1, 2 ** 53, 10)).toThrowError(invalid);
    expect(() => p.seal(buf, 0, 1, 0, 10)).toThrowError(invalid);
  });
});

describe('AEAD limits (RFC 9001 §6.6)', () => {
  it('per suite', () => {
    expect(AEAD_LIMITS[CipherSuite.TLS_AES_128_GCM_SHA256]).toEqual({
      confidentiality: 2 ** 23,
      integrity: 2 ** 52,
    });
    expect(AEAD_LIMITS[CipherSuite.TLS_AES_256_GCM_SHA384]).toEqual({
      confidentiality: 2 ** 23,
      integrity: 2 ** 52,
    });
    expect(AEAD_LIMITS[CipherSuite.TLS_CHACHA20_POLY1305_SHA256].integrity).toBe(2 ** 36);
    expect(AEAD_LIMITS[CipherSuite.TLS_CHACHA20_POLY1305_SHA256].confidentiality).toBeGreaterThan(
      2 ** 62,
    );
  });
});
