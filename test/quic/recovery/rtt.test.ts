import { describe, expect, it } from 'vitest';
import { GRANULARITY_MS, RttEstimator } from '../../../src/quic/recovery/rtt.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('starts from kInitialRtt = 333 ms, giving a PTO of about one second (§6.2.2)', () => {
    const rtt = new RttEstimator();
    expect(rtt.smoothed).toBe(333);
    expect(rtt.variance).toBe(166.5);
    expect(rtt.min).toBe(0);
    expect(rtt.hasSample).toBe(false);
    expect(rtt.ptoBase()).toBe(999);
    expect(rtt.pto(true)).toBe(999 + 25);
  });

  it('takes a configurable initial RTT and rejects nonsense', () => {
    expect(new RttEstimator({ initialRtt: 100 }).ptoBase()).toBe(300);
    expect(() => new RttEstimator({ initialRtt: 0 })).toThrow(RangeError);
    expect(() => new RttEstimator({ initialRtt: Number.NaN })).toThrow(RangeError);
  });

  it('resets to the first sample, ignoring its ack delay (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 40, true, 1000);
    expect(rtt.latest).toBe(100);
    expect(rtt.min).toBe(100);
    expect(rtt.smoothed).toBe(100);
    expect(rtt.variance).toBe(50);
    expect(rtt.firstSampleTime).toBe(1000);
  });

  it('updates rttvar from the previous smoothed_rtt, then smoothed_rtt (Appendix A.7)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, false, 0);
    rtt.update(120, 10, false, 200);
    // adjusted = 120 - 10 = 110; rttvar = 3/4*50 + 1/4*|100-110| = 40; smoothed = 7/8*100 + 1/8*110
    expect(rtt.variance).toBe(40);
    expect(rtt.smoothed).toBe(101.25);
    expect(rtt.firstSampleTime).toBe(0);
  });

  it('uses the full ack delay before confirmation and caps it at max_ack_delay after (§5.3)', () => {
    const before = new RttEstimator({ maxAckDelay: 25 });
    before.update(100, 0, false, 0);
    before.update(200, 100, false, 1);
    // Not confirmed: 200 >= 100 + 100, adjusted = 100.
    expect(before.smoothed).toBe(100);

    const after = new RttEstimator({ maxAckDelay: 25 });
    after.update(100, 0, true, 0);
    after.update(200, 100, true, 1);
    // Confirmed: ack_delay = min(100, 25), adjusted = 175.
    expect(after.smoothed).toBe(0.875 * 100 + 0.125 * 175);
  });

  it('never subtracts an ack delay that would take the sample below min_rtt (§5.3)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, false, 0);
    rtt.update(105, 10, false, 1);
    // 105 < 100 + 10: adjusted stays 105.
    expect(rtt.smoothed).toBe(0.875 * 100 + 0.125 * 105);
  });

  it('keeps min_rtt as the lowest sample, without ack delay (§5.2)', () => {
    const rtt = new RttEstimator();
    rtt.update(100, 0, false, 0);
    rtt.update(80, 50, false, 1);
    expect(rtt.min).toBe(80);
    rtt.update(150, 0, false, 2);
    expect(rtt.min).toBe(80);
    rtt.resetMinToLatest();
    expect(rtt.min).toBe(150);
  });

  it('derives PTO, persistent congestion duration and loss delay', () => {
    const rtt = new RttEstimator({ maxAckDelay: 20 });
    rtt.update(100, 0, false, 0);
    expect(rtt.pto(false)).toBe(100 + 200);
    expect(rtt.pto(true)).toBe(100 + 200 + 20);
    expect(rtt.persistentCongestionDuration()).toBe((100 + 200 + 20) * 3);
    expect(rtt.lossDelay()).toBe(112.5);
    rtt.update(200, 0, false, 1);
    // max(latest, smoothed) = 200.
    expect(rtt.lossDelay()).toBe(225);
  });

  it('keeps PTO and loss delay at least kGranularity on a zero-RTT path (§6.1.2, §6.2.1)', () => {
    const rtt = new RttEstimator();
    rtt.update(0, 0, false, 0);
    expect(rtt.ptoBase()).toBe(GRANULARITY_MS);
    expect(rtt.lossDelay()).toBe(GRANULARITY_MS);
  });

  it('reset() returns to the initial state (new path, RFC 9000 §9.4)', () => {
    const rtt = new RttEstimator();
    rtt.update(50, 0, false, 0);
    rtt.reset();
    expect(rtt.smoothed).toBe(333);
    expect(rtt.hasSample).toBe(false);
    rtt.reset(80);
    expect(rtt.smoothed).toBe(80);
    expect(rtt.variance).toBe(40);
  });
});
