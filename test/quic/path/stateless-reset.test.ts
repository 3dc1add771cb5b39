import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerCids } from '../../../src/quic/cid/index.js';
import {
  buildStatelessReset,
  MIN_STATELESS_RESET_LENGTH,
  StatelessResetKey,
  statelessResetTail,
  statelessResetToken,
  tokensEqual,
} from '../../../src/quic/path/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

const TOKEN = fromHex('00112233445566778899aabbccddeeff');

describe('stateless reset token derivation (RFC 9000 §10.3.2)', () => {
  // HMAC-SHA256 vectors of RFC 4231 §4.2 and §4.3, truncated to the 16-byte token.
  it('is HMAC-SHA256(static key, CID) truncated to 16 bytes (RFC 4231 test case 1)', () => {
    const key = new Uint8Array(20).fill(0x0b);
    const data = new TextEncoder().encode('Hi There');
    expect(toHex(statelessResetToken(key, data))).toBe('b0344c61d8db38535ca8afceaf0bf12b');
  });

  it('is HMAC-SHA256(static key, CID) truncated to 16 bytes (RFC 4231 test case 2)', () => {
    const key = new TextEncoder().encode('Jefe');
    const data = new TextEncoder().encode('what do ya want for nothing?');
    expect(toHex(statelessResetToken(key, data))).toBe('5bdcc146bf60754e6a042426089575c7');
  });

  it('agrees with an independent HMAC for random keys and CIDs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 20 }),
        (key, cid) => {
          const expected = hmac(sha256, key, cid).subarray(0, 16);
          expect(statelessResetToken(key, cid)).toEqual(expected);
          expect(new StatelessResetKey(key).tokenFor(cid)).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives different CIDs different tokens', () => {
    const k = new StatelessResetKey(new Uint8Array(32).fill(7));
    expect(toHex(k.tokenFor(fromHex('01')))).not.toBe(toHex(k.tokenFor(fromHex('02'))));
  });

  it('refuses a static key shorter than 16 bytes', () => {
    expect(() => new StatelessResetKey(new Uint8Array(15))).toThrow(RangeError);
  });
});

describe('building a stateless reset (RFC 9000 §10.3, §10.3.3)', () => {
  it('looks like a short-header packet: 01 fixed bits, random middle, the token at the end', () => {
    const reset = buildStatelessReset(TOKEN, 1200, new SeededRandom(3))!;
    expect(reset[0] & 0xc0).toBe(0x40);
    expect(reset.subarray(reset.length - 16)).toEqual(TOKEN);
    expect(statelessResetTail(reset)).toEqual(TOKEN);
  });

  it('is never sent in answer to a packet of 21 bytes or less (it could not be smaller)', () => {
    const rng = new SeededRandom(1);
    for (let n = 0; n <= MIN_STATELESS_RESET_LENGTH; n++) {
      expect(buildStatelessReset(TOKEN, n, rng)).toBeUndefined();
    }
  });

  it('is one byte shorter than a trigger of 43 bytes or less', () => {
    const rng = new SeededRandom(1);
    for (let n = 22; n <= 43; n++) expect(buildStatelessReset(TOKEN, n, rng)).toHaveLength(n - 1);
  });

  it('answers bigger packets with a random size from 42 bytes up to the cap, below the trigger', () => {
    const rng = new SeededRandom(9);
    const sizes = new Set<number>();
    for (let i = 0; i < 500; i++) sizes.add(buildStatelessReset(TOKEN, 60, rng)!.length);
    expect(Math.min(...sizes)).toBe(42);
    expect(Math.max(...sizes)).toBe(59);
    for (let i = 0; i < 200; i++) {
      expect(buildStatelessReset(TOKEN, 1500, rng, 80)!.length).toBeLessThanOrEqual(80);
    }
  });

  it('is always smaller than its trigger and at least 21 bytes, so reset loops die out', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.integer(),
        (trigger, cap, seed) => {
          const reset = buildStatelessReset(TOKEN, trigger, new SeededRandom(seed), cap);
          if (trigger <= MIN_STATELESS_RESET_LENGTH) {
            expect(reset).toBeUndefined();
            return;
          }
          expect(reset!.length).toBeLessThan(trigger);
          expect(reset!.length).toBeGreaterThanOrEqual(MIN_STATELESS_RESET_LENGTH);
          expect(reset![0] & 0xc0).toBe(0x40);
          // Two stateless endpoints answering each other: sizes strictly decrease until silence.
          let size = trigger;
          let rounds = 0;
          for (let next = reset; next; rounds++) {
            expect(next.length).toBeLessThan(size);
            size = next.length;
            next = buildStatelessReset(TOKEN, size, new SeededRandom(seed + rounds), cap);
          }
          expect(rounds).toBeLessThanOrEqual(trigger);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects a token that is not 16 bytes', () => {
    expect(() => buildStatelessReset(new Uint8Array(15), 100, new SeededRandom(1))).toThrow(
      RangeError,
    );
  });
});

describe('detecting a stateless reset (RFC 9000 §10.3.1)', () => {
  it('takes the last 16 bytes of datagrams of at least 21 bytes, whatever the first byte', () => {
    const d = new Uint8Array(30).fill(0x80); // Long-header bits: still checked (§10.3.1).
    d.set(TOKEN, 14);
    expect(statelessResetTail(d)).toEqual(TOKEN);
    for (let n = 0; n < 21; n++) expect(statelessResetTail(d.subarray(0, n))).toBeUndefined();
  });

  it('ends a connection whose current peer CID carries the token', () => {
    const peer = new PeerCids({
      initialCid: fromHex('0102030405060708'),
      initialResetToken: TOKEN,
      activeLimit: 2,
    });
    const reset = buildStatelessReset(TOKEN, 100, new SeededRandom(5))!;
    expect(peer.isStatelessReset(statelessResetTail(reset)!)).toBe(true);
    const other = buildStatelessReset(fromHex('ff'.repeat(16)), 100, new SeededRandom(5))!;
    expect(peer.isStatelessReset(statelessResetTail(other)!)).toBe(false);
  });

  it('compares in full: equal only for identical bytes of equal length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (a, b) => {
        expect(tokensEqual(a, b)).toBe(toHex(a) === toHex(b));
        expect(tokensEqual(a, a.slice())).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
