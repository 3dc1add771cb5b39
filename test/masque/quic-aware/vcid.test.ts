/**
 * VCIDs: random, and QUIC-LB routable. Vectors: draft-ietf-quic-load-balancers "Load Balancer
 * Test Vectors" (unencrypted, and the 16-octet single-pass encrypted case), copied here.
 */
import { describe, expect, it } from 'vitest';
import { quicLbServerId, VcidGenerator } from '../../../src/masque/quic-aware/vcid.js';
import { CidSteering } from '../../../src/quic/cid/steering.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

/** A Random that writes `bytes` at the end of the buffer (the nonce position). */
function nonceRandom(nonce: string) {
  const n = fromHex(nonce);
  return { fill: (b: Uint8Array) => b.set(n, b.length - n.length) };
}

describe('VCID generator', () => {
  it('makes the QUIC-LB test-vector CIDs (unencrypted)', () => {
    const g = new VcidGenerator({
      random: nonceRandom('4504cc4f'),
      quicLb: { configId: 0, serverId: fromHex('c4605e'), nonceLength: 4, encodeLength: true },
    });
    expect(toHex(g.next(8))).toBe('07c4605e4504cc4f');
    // (The draft's second unencrypted vector has an odd number of nonce digits; not usable.)
  });

  it('makes the single-pass encrypted vector, and a balancer reads the server ID back', () => {
    const config = {
      configId: 2,
      serverId: fromHex('ed793a51d49b8f5f'),
      nonceLength: 8,
      key: fromHex('8f95f09245765f80256934e50c66207f'),
      encodeLength: true,
    };
    const g = new VcidGenerator({ random: nonceRandom('ee080dbf48c0d1e5'), quicLb: config });
    const cid = g.next(17);
    expect(toHex(cid)).toBe('504dd2d05a7b0de9b2b9907afb5ecf8cc3');
    expect(toHex(quicLbServerId(cid, config) as Uint8Array)).toBe('ed793a51d49b8f5f');
  });

  it('random VCIDs are unpredictable and distinct; server IDs survive any padding', () => {
    const random = new SeededRandom(7);
    const plain = new VcidGenerator({ random });
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(toHex(plain.next(8)));
    expect(seen.size).toBe(1000);
    const config = { configId: 3, serverId: fromHex('0a0b'), nonceLength: 6 };
    const lb = new VcidGenerator({ random, quicLb: config });
    for (let i = 0; i < 50; i++) {
      const cid = lb.next(12);
      expect(cid[0] >> 5).toBe(3);
      expect(toHex(quicLbServerId(cid, config) as Uint8Array)).toBe('0a0b');
    }
  });

  it('refuses configurations QUIC-LB forbids and lengths it cannot fill', () => {
    const random = new SeededRandom(1);
    const bad = [
      { configId: 7, serverId: fromHex('01'), nonceLength: 4 },
      { configId: 0, serverId: new Uint8Array(0), nonceLength: 4 },
      { configId: 0, serverId: fromHex('01'), nonceLength: 3 },
      { configId: 0, serverId: new Uint8Array(10), nonceLength: 10 },
      { configId: 0, serverId: fromHex('01'), nonceLength: 4, key: new Uint8Array(16) },
    ];
    for (const quicLb of bad)
      expect(() => new VcidGenerator({ random, quicLb })).toThrow(RangeError);
    const g = new VcidGenerator({
      random,
      quicLb: { configId: 0, serverId: fromHex('01'), nonceLength: 4 },
    });
    expect(g.minLength).toBe(6);
    expect(() => g.next(5)).toThrow(RangeError);
    expect(() => g.next(21)).toThrow(RangeError);
  });
});

describe('VCIDs of one worker among several (src/quic/cid/steering.ts)', () => {
  it('random and QUIC-LB VCIDs name the worker; a balancer still reads the server ID', () => {
    const steering = new CidSteering(1, 4);
    const random = new SeededRandom(9);
    const plain = new VcidGenerator({ random, steering });
    const lb = { configId: 1, serverId: fromHex('a1b2'), nonceLength: 4 };
    const routed = new VcidGenerator({ random, steering, quicLb: lb });
    const key = fromHex('8f95f09245765f80256934e50c66207f');
    const sealed = { configId: 2, serverId: fromHex('ed793a51d49b8f5f'), nonceLength: 8, key };
    const encrypted = new VcidGenerator({ random, steering, quicLb: sealed });
    for (let i = 0; i < 40; i++) {
      expect(CidSteering.workerOf(plain.next(8), 4)).toBe(1);
      const r = routed.next(8);
      expect(CidSteering.workerOf(r, 4)).toBe(1);
      expect(quicLbServerId(r, lb)).toEqual(lb.serverId);
      const e = encrypted.next(18); // one octet of padding after the encrypted block
      expect(CidSteering.workerOf(e, 4)).toBe(1);
      expect(quicLbServerId(e, sealed)).toEqual(sealed.serverId);
    }
  });

  it('an encrypted QUIC-LB VCID with no padding octet cannot carry the mark: refused', () => {
    const key = fromHex('8f95f09245765f80256934e50c66207f');
    const g = new VcidGenerator({
      random: new SeededRandom(1),
      steering: new CidSteering(0, 2),
      quicLb: { configId: 2, serverId: fromHex('ed793a51d49b8f5f'), nonceLength: 8, key },
    });
    expect(() => g.next(17)).toThrow(/no octet left for the worker mark/);
  });
});
