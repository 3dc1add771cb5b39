import { describe, expect, it } from 'vitest';
import { NewReno, Pacer, RttEstimator } from '../../../src/quic/recovery/index.js';
import { MDS } from './helpers.js';

function setup(rttMs = 100) {
  const cc = new NewReno();
  const rtt = new RttEstimator({ initialRtt: rttMs });
  return { cc, rtt, pacer: new Pacer(cc, rtt) };
}

describe('Pacer (RFC 9002 §7.7)', () => {
  it('lets the initial window leave at once, then spaces packets at 1.25 * cwnd / srtt', () => {
    const { pacer } = setup();
    expect(pacer.capacity()).toBe(12000);
    for (let i = 0; i < 10; i++) {
      expect(pacer.timeUntilSend(0, MDS)).toBe(0);
      pacer.onSend(0, MDS);
    }
    // rate = 1.25 * 12000 / 100 = 150 bytes/ms: a 1200-byte packet every 8 ms, i.e.
    // interval = (smoothed_rtt * packet_size / congestion_window) / N.
    expect(pacer.rate()).toBe(150);
    expect(pacer.timeUntilSend(0, MDS)).toBe((100 * MDS) / 12000 / 1.25);
    expect(pacer.timeUntilSend(4, MDS)).toBe(4);
    expect(pacer.timeUntilSend(8, MDS)).toBe(0);
    pacer.onSend(8, MDS);
    expect(pacer.timeUntilSend(8, MDS)).toBe(8);
  });

  it('caps the tokens at the burst size after an idle period', () => {
    const { pacer } = setup();
    pacer.onSend(0, 12000);
    expect(pacer.tokens(1_000_000)).toBe(12000);
    const custom = new Pacer(new NewReno(), new RttEstimator(), { burstBytes: 2400 });
    expect(custom.tokens(0)).toBe(2400);
    // A packet larger than the bucket waits for a full bucket.
    custom.onSend(0, 2400);
    expect(custom.timeUntilSend(0, 5000)).toBeGreaterThan(0);
    expect(custom.timeUntilSend(1e6, 5000)).toBe(0);
  });

  it('follows the window and the RTT as they change', () => {
    const { cc, rtt, pacer } = setup();
    pacer.onSend(0, 12000);
    cc.onPacketsAcked(
      Array.from({ length: 10 }, () => ({ size: MDS, timeSent: 0, inFlight: true })),
      0,
      rtt,
      12000,
    );
    expect(pacer.rate()).toBe(300);
    rtt.update(50, 0, false, 0);
    expect(pacer.rate()).toBe(600);
    expect(pacer.timeUntilSend(0, MDS)).toBe(2);
  });

  it('never goes backwards in time and never below zero tokens', () => {
    const { pacer } = setup();
    pacer.onSend(10, 50000);
    expect(pacer.tokens(10)).toBe(0);
    expect(pacer.tokens(5)).toBe(0);
    expect(pacer.tokens(18)).toBe(1200);
  });

  it('rejects a gain below 1', () => {
    expect(() => new Pacer(new NewReno(), new RttEstimator(), { gain: 0.9 })).toThrow(RangeError);
  });
});
