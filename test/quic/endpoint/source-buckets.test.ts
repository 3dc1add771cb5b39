/**
 * Per-source token buckets for Initials that create work (issue 10, point 5): a source over its
 * rate is dropped before its Initials are decrypted, counted, while other sources connect; the
 * buckets' memory stays bounded however many sources appear.
 */
import { describe, expect, it } from 'vitest';
import { SourceBuckets } from '../../../src/quic/endpoint/source-buckets.js';
import { cid, clientInitial, drain } from './fakes.js';
import { harness } from './setup.js';

describe('SourceBuckets', () => {
  it('spends the burst at once, then earns tokens at the rate', () => {
    const b = new SourceBuckets({ perSecond: 10, burst: 3 });
    expect([1, 2, 3, 4].map(() => b.take('a', 0))).toEqual([true, true, true, false]);
    expect(b.take('a', 50)).toBe(false); // half a token
    expect(b.take('a', 100)).toBe(true); // one token after 100 ms
    expect(b.take('a', 100)).toBe(false);
    expect(b.take('b', 100)).toBe(true); // another source has its own
  });

  it('never holds more than the burst after a long silence', () => {
    const b = new SourceBuckets({ perSecond: 1000, burst: 2 });
    expect(b.take('a', 0)).toBe(true);
    const after = [0, 1, 2].map(() => b.take('a', 3_600_000));
    expect(after).toEqual([true, true, false]);
  });

  it('remembers at most maxSources: refilled buckets go first, then the oldest', () => {
    const b = new SourceBuckets({ perSecond: 1, burst: 2, maxSources: 8 });
    for (let i = 0; i < 8; i++) b.take(`s${i}`, 0);
    expect(b.size).toBe(8);
    // 10 s later every bucket has refilled: the sweep forgets them all.
    b.take('new', 10_000);
    expect(b.size).toBe(1);
    // Busy sources (no refill yet): the oldest quarter is forgotten, the bound holds.
    for (let i = 0; i < 100; i++) {
      b.take(`busy${i}`, 10_000);
      b.take(`busy${i}`, 10_000);
    }
    expect(b.size).toBeLessThanOrEqual(8);
  });

  it('rejects a rate it cannot apply', () => {
    expect(() => new SourceBuckets({ perSecond: -1, burst: 1 })).toThrow(RangeError);
    expect(() => new SourceBuckets({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('the endpoint drops Initials from a source over its rate before decrypting them', () => {
  it('one source is held to its burst, counted, while another source connects', () => {
    const { ep, servers } = harness({ initialRatePerSource: { perSecond: 10, burst: 5 } });
    // Twenty new connections from one address (different ports) in one instant.
    for (let i = 0; i < 20; i++) {
      ep.receive(clientInitial(cid(i + 1, 8), cid(0xc0, 5)), `198.51.100.7:${10_000 + i}`, 0);
    }
    drain(ep);
    expect(servers).toHaveLength(5);
    expect(ep.stats().dropped['initial-rate-limited']).toBe(15);
    ep.receive(clientInitial(cid(0x77, 8), cid(0xc1, 5)), '203.0.113.5:4000', 0);
    expect(servers).toHaveLength(6);
    // 100 ms later the flooding source has earned one more.
    ep.receive(clientInitial(cid(0x78, 8), cid(0xc2, 5)), '198.51.100.7:30000', 100);
    ep.receive(clientInitial(cid(0x79, 8), cid(0xc3, 5)), '198.51.100.7:30001', 100);
    expect(servers).toHaveLength(7);
    expect(ep.stats().dropped['initial-rate-limited']).toBe(16);
  });

  it('Initials of a connection that exists are not charged (they route to it)', () => {
    const { ep, servers } = harness({ initialRatePerSource: { perSecond: 1, burst: 1 } });
    const initial = clientInitial(cid(9, 8), cid(0xc0, 5));
    ep.receive(initial, '198.51.100.7:10000', 0);
    for (let i = 0; i < 5; i++) ep.receive(initial, '198.51.100.7:10000', 1);
    expect(servers).toHaveLength(1);
    expect(servers[0].received).toHaveLength(6);
    expect(ep.stats().dropped['initial-rate-limited'] ?? 0).toBe(0);
  });

  it('junk that fails the cheap checks costs no token', () => {
    const { ep, servers } = harness({ initialRatePerSource: { perSecond: 1, burst: 1 } });
    // Under 1200 bytes: dropped by size first (RFC 9000 §14.1), before the bucket.
    const small = clientInitial(cid(3, 8), cid(0xc0, 5)).subarray(0, 600);
    for (let i = 0; i < 10; i++) ep.receive(small, `198.51.100.7:${i + 1}`, 0);
    ep.receive(clientInitial(cid(4, 8), cid(0xc0, 5)), '198.51.100.7:99', 0);
    expect(servers).toHaveLength(1);
  });
});
