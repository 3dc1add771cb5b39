import { gcm } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressTokens, type TokenCheck } from '../../../src/quic/path/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

const KEY = fromHex('000102030405060708090a0b0c0d0e0f');
const OTHER_KEY = fromHex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff');
const NOW = 1_700_000_000_000;
const ODCID = fromHex('8394c8f03e515708');
const RSCID = fromHex('f067a5502a4262b5');
const ADDR = '192.0.2.7:4433';

const tokens = (seed = 1, key = KEY) => new AddressTokens(key, new SeededRandom(seed));

function rejected(check: TokenCheck): string {
  expect(check.ok).toBe(false);
  return check.ok ? 'accepted' : check.reason;
}

describe('address validation tokens (RFC 9000 §8.1.2-§8.1.4)', () => {
  it('a Retry token comes back with the original DCID and Retry SCID', () => {
    const t = tokens();
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    const check = t.open(token, ADDR, NOW + 300);
    expect(check).toEqual({
      ok: true,
      token: { kind: 'retry', issuedAt: NOW, address: ADDR, originalDcid: ODCID, retryScid: RSCID },
    });
  });

  it('a NEW_TOKEN token comes back as such, without connection IDs', () => {
    const t = tokens();
    const check = t.open(t.sealNewToken('192.0.2.7', NOW), '192.0.2.7', NOW + 3_600_000);
    expect(check).toEqual({
      ok: true,
      token: {
        kind: 'new-token',
        issuedAt: NOW,
        address: '192.0.2.7',
        originalDcid: undefined,
        retryScid: undefined,
      },
    });
  });

  it('has the documented layout: kind, nonce, AES-128-GCM(plaintext) with the kind as AAD', () => {
    const token = tokens(5).sealRetry(ADDR, NOW, ODCID, RSCID);
    expect(token[0]).toBe(0x01);
    const nonce = token.subarray(1, 13);
    // An independent AES-GCM implementation opens it.
    const plain = gcm(KEY, nonce, token.subarray(0, 1)).decrypt(token.subarray(13));
    const addr = toHex(new TextEncoder().encode(ADDR));
    expect(toHex(plain)).toBe(`c000018bcfe56800${'0e'}${addr}08${toHex(ODCID)}08${toHex(RSCID)}`);
    expect(token.length).toBe(1 + 12 + plain.length + 16);
    expect(tokens(5).sealNewToken('a', NOW)[0]).toBe(0x02);
  });

  it('every NEW_TOKEN token is unique (random nonce)', () => {
    const t = tokens();
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add(toHex(t.sealNewToken('192.0.2.7', NOW)));
    expect(seen.size).toBe(100);
  });

  it('a Retry token is accepted only for a short time (10 s by default)', () => {
    const t = tokens();
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    expect(t.open(token, ADDR, NOW + 10_000).ok).toBe(true);
    expect(rejected(t.open(token, ADDR, NOW + 10_001))).toBe('expired');
  });

  it('a NEW_TOKEN token expires after its maximum age (24 h by default)', () => {
    const t = tokens();
    const token = t.sealNewToken('192.0.2.7', NOW);
    expect(t.open(token, '192.0.2.7', NOW + 23 * 3_600_000).ok).toBe(true);
    expect(rejected(t.open(token, '192.0.2.7', NOW + 25 * 3_600_000))).toBe('expired');
  });

  it('honours configured ages and refuses tokens issued in the future beyond the clock skew', () => {
    const t = new AddressTokens(KEY, new SeededRandom(1), { retryMaxAge: 500, maxClockSkew: 100 });
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    expect(rejected(t.open(token, ADDR, NOW + 501))).toBe('expired');
    expect(t.open(token, ADDR, NOW - 100).ok).toBe(true);
    expect(rejected(t.open(token, ADDR, NOW - 101))).toBe('future');
  });

  it('a token presented from another address is refused', () => {
    const t = tokens();
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    expect(rejected(t.open(token, '192.0.2.7:4434', NOW))).toBe('address-mismatch');
  });

  it('a token sealed under another key is refused; keys of earlier rotations still open', () => {
    const old = tokens(1, OTHER_KEY).sealNewToken('192.0.2.7', NOW);
    expect(rejected(tokens().open(old, '192.0.2.7', NOW))).toBe('integrity');
    const rotated = new AddressTokens(KEY, new SeededRandom(1), { previousKeys: [OTHER_KEY] });
    expect(rotated.open(old, '192.0.2.7', NOW).ok).toBe(true);
  });

  it('turning a Retry token into a NEW_TOKEN one (kind byte) breaks its integrity', () => {
    const t = tokens();
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    token[0] = 0x02;
    expect(rejected(t.open(token, ADDR, NOW))).toBe('integrity');
    token[0] = 0x03;
    expect(rejected(t.open(token, ADDR, NOW))).toBe('malformed');
  });

  it('refuses keys that are not 16 bytes', () => {
    expect(() => new AddressTokens(new Uint8Array(32), new SeededRandom(1))).toThrow(RangeError);
  });

  it('every single-bit flip of a token is rejected', () => {
    const t = tokens(7);
    for (const token of [t.sealRetry(ADDR, NOW, ODCID, RSCID), t.sealNewToken('192.0.2.7', NOW)]) {
      for (let bit = 0; bit < token.length * 8; bit++) {
        const bad = token.slice();
        bad[bit >> 3] ^= 1 << (bit & 7);
        const reason = rejected(t.open(bad, token[0] === 1 ? ADDR : '192.0.2.7', NOW));
        expect(['integrity', 'malformed']).toContain(reason);
      }
    }
  });

  it('every proper prefix of a token is rejected', () => {
    const t = tokens(8);
    const token = t.sealRetry(ADDR, NOW, ODCID, RSCID);
    for (let n = 0; n < token.length; n++) {
      expect(['integrity', 'malformed']).toContain(
        rejected(t.open(token.subarray(0, n), ADDR, NOW)),
      );
    }
  });
});

describe('properties', () => {
  const fields = fc.record({
    address: fc.string({ maxLength: 60 }),
    issuedAt: fc.nat(2 ** 45),
    odcid: fc.uint8Array({ maxLength: 20 }),
    rscid: fc.uint8Array({ maxLength: 20 }),
    retry: fc.boolean(),
    seed: fc.integer(),
  });

  it('seal then open is the identity', () => {
    fc.assert(
      fc.property(fields, (f) => {
        const t = tokens(f.seed);
        const token = f.retry
          ? t.sealRetry(f.address, f.issuedAt, f.odcid, f.rscid)
          : t.sealNewToken(f.address, f.issuedAt);
        const check = t.open(token, f.address, f.issuedAt);
        expect(check.ok).toBe(true);
        if (!check.ok) return;
        expect(check.token.kind).toBe(f.retry ? 'retry' : 'new-token');
        expect(check.token.issuedAt).toBe(f.issuedAt);
        expect(check.token.address).toBe(f.address);
        expect(check.token.originalDcid).toEqual(f.retry ? f.odcid : undefined);
        expect(check.token.retryScid).toEqual(f.retry ? f.rscid : undefined);
      }),
      { numRuns: 2000 },
    );
  });

  it('a random single-bit flip of a random token is always rejected', () => {
    fc.assert(
      fc.property(fields, fc.nat(), (f, pick) => {
        const t = tokens(f.seed);
        const token = f.retry
          ? t.sealRetry(f.address, f.issuedAt, f.odcid, f.rscid)
          : t.sealNewToken(f.address, f.issuedAt);
        const bit = pick % (token.length * 8);
        token[bit >> 3] ^= 1 << (bit & 7);
        expect(t.open(token, f.address, f.issuedAt).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes are refused without throwing', () => {
    const t = tokens();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const check = t.open(bytes, ADDR, NOW);
        expect(check.ok).toBe(false);
        if (!check.ok) expect(['integrity', 'malformed']).toContain(check.reason);
      }),
      { numRuns: 3000 },
    );
  });
});
