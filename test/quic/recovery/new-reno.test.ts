import { describe, expect, it } from 'vitest';
import {
  initialWindow,
  isWindowLimited,
  minimumWindow,
  NewReno,
  RttEstimator,
} from '../../../src/quic/recovery/index.js';
import { MDS } from './helpers.js';

const rtt = new RttEstimator({ initialRtt: 100 });
const acked = (size: number, timeSent: number) => ({ size, timeSent, inFlight: true });
/** Acknowledges `n` full packets sent at `timeSent` while the window was full. */
function ackFull(cc: NewReno, n: number, timeSent: number, now: number): void {
  const packets = Array.from({ length: n }, () => acked(MDS, timeSent));
  cc.onPacketsAcked(packets, now, rtt, cc.window());
}

describe('NewReno (RFC 9002 §7, Appendix B)', () => {
  it('starts at the initial window min(10*mds, max(14720, 2*mds)) with minimum 2*mds (§7.2)', () => {
    expect(initialWindow(1200)).toBe(12000);
    expect(initialWindow(1472)).toBe(14720);
    expect(initialWindow(1500)).toBe(14720);
    expect(initialWindow(9000)).toBe(18000);
    expect(minimumWindow(1200)).toBe(2400);
    const cc = new NewReno();
    expect(cc.window()).toBe(12000);
    expect(cc.slowStartThreshold()).toBe(Number.POSITIVE_INFINITY);
    expect(cc.inSlowStart()).toBe(true);
    expect(() => new NewReno({ maxDatagramSize: 1199 })).toThrow(RangeError);
  });

  it('never lets bytes in flight exceed the window (§7)', () => {
    const cc = new NewReno();
    expect(cc.canSend(10800, 1200)).toBe(true);
    expect(cc.canSend(10801, 1200)).toBe(false);
    expect(cc.available(11000)).toBe(1000);
    expect(cc.available(13000)).toBe(0);
  });

  it('grows by the bytes acknowledged in slow start (§7.3.1)', () => {
    const cc = new NewReno();
    ackFull(cc, 10, 0, 100);
    expect(cc.window()).toBe(24000);
    ackFull(cc, 20, 100, 200);
    expect(cc.window()).toBe(48000);
  });

  it('halves the window on loss and reacts once per recovery period (§7.3.2)', () => {
    const cc = new NewReno();
    ackFull(cc, 10, 0, 100); // 24000
    cc.onCongestionEvent(90, 150);
    expect(cc.slowStartThreshold()).toBe(12000);
    expect(cc.window()).toBe(12000);
    expect(cc.inRecovery(150)).toBe(true);
    // Another loss of a packet sent before recovery started: no further reduction.
    cc.onCongestionEvent(140, 160);
    expect(cc.window()).toBe(12000);
    // Acknowledgments of packets sent before recovery started do not grow the window.
    ackFull(cc, 10, 120, 170);
    expect(cc.window()).toBe(12000);
    // A loss of a packet sent after recovery started begins a new period.
    cc.onCongestionEvent(151, 200);
    expect(cc.window()).toBe(6000);
  });

  it('adds one datagram per window acknowledged in congestion avoidance (§7.3.3)', () => {
    const cc = new NewReno();
    cc.onCongestionEvent(0, 0); // cwnd = ssthresh = 6000
    expect(cc.inSlowStart()).toBe(false);
    ackFull(cc, 4, 1, 100); // 4800 of 6000 acknowledged
    expect(cc.window()).toBe(6000);
    ackFull(cc, 1, 1, 110); // 6000: one datagram more
    expect(cc.window()).toBe(7200);
    ackFull(cc, 6, 1, 200); // 7200 more
    expect(cc.window()).toBe(8400);
  });

  it('the reduced window never goes below the minimum window (§7.2)', () => {
    const cc = new NewReno();
    for (let i = 0; i < 10; i++) cc.onCongestionEvent(i * 10 + 1, i * 10 + 5);
    expect(cc.window()).toBe(2 * MDS);
  });

  it('does not grow while the application leaves the window unused (§7.8)', () => {
    const cc = new NewReno();
    cc.onPacketsAcked([acked(MDS, 0)], 100, rtt, MDS);
    expect(cc.window()).toBe(12000);
    // Half of the window in flight counts as used in slow start.
    cc.onPacketsAcked([acked(MDS, 0)], 100, rtt, 7200);
    expect(cc.window()).toBe(13200);
    cc.onCongestionEvent(50, 100); // 6600, congestion avoidance
    cc.onPacketsAcked(
      Array.from({ length: 6 }, () => acked(MDS, 200)),
      300,
      rtt,
      3600,
    );
    expect(cc.window()).toBe(6600);
    expect(isWindowLimited(5401, 6600, MDS, false)).toBe(true);
    expect(isWindowLimited(5400, 6600, MDS, false)).toBe(false);
  });

  it('ignores packets that were not in flight', () => {
    const cc = new NewReno();
    cc.onPacketsAcked([{ size: 5000, timeSent: 0, inFlight: false }], 10, rtt, 12000);
    expect(cc.window()).toBe(12000);
  });

  it('persistent congestion collapses the window to the minimum and restarts slow start (§7.6.2)', () => {
    const cc = new NewReno();
    ackFull(cc, 20, 0, 100); // 36000
    cc.onCongestionEvent(50, 200); // 18000
    cc.onPersistentCongestion(200);
    expect(cc.window()).toBe(2 * MDS);
    expect(cc.inSlowStart()).toBe(true);
    expect(cc.inRecovery(150)).toBe(false);
    ackFull(cc, 2, 150, 300);
    expect(cc.window()).toBe(4 * MDS);
  });

  it('follows a change of max_datagram_size (§7.2)', () => {
    const cc = new NewReno();
    cc.setMaxDatagramSize(1500);
    expect(cc.window()).toBe(14720);
    expect(cc.maxDatagramSize).toBe(1500);
    cc.onCongestionEvent(0, 1);
    cc.onPersistentCongestion(1);
    expect(cc.window()).toBe(3000);
    cc.setMaxDatagramSize(1200);
    expect(cc.window()).toBe(3000);
  });
});
