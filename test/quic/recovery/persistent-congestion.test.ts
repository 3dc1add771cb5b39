import { describe, expect, it } from 'vitest';
import { LossDetection, PacketSpace, RttEstimator } from '../../../src/quic/recovery/index.js';
import { MDS, pkt, pns } from './helpers.js';

const App = PacketSpace.ApplicationData;

/**
 * RFC 9002 §7.6.3, with one time unit = 100 ms. The RTT estimator already holds a sample (taken at
 * -1000, before the example) with smoothed 40 ms and rttvar 20 ms, and max_ack_delay is 80 ms, so
 * the PTO with max_ack_delay is 200 ms ("= 2" units). The ACK of #1 reports 80 ms of ack delay,
 * keeping the estimate near that value.
 */
function example(ackFive: boolean): {
  ld: LossDetection<string>;
  out: ReturnType<LossDetection<string>['onAckReceived']>;
} {
  const rtt = new RttEstimator({ maxAckDelay: 80 });
  rtt.update(40, 0, true, -1000);
  const ld = new LossDetection<string>({ isServer: true, rtt });
  ld.setHandshakeConfirmed(-1000);
  const send = (pn: number, t: number) => ld.onPacketSent(App, pkt(pn, t));
  send(1, 0);
  send(2, 100);
  ld.onAckReceived(App, [[1, 2]], 80, 120);
  send(3, 200);
  send(4, 300);
  send(5, 400);
  send(6, 500);
  send(7, 600);
  send(8, 800); // PTO 1
  send(9, 1200); // PTO 2
  // Variant: the same ACK also acknowledges #5, sent in the middle of the lost period.
  const ranges: [number, number][] = ackFive
    ? [
        [9, 10],
        [5, 6],
      ]
    : [[9, 10]];
  const out = ld.onAckReceived(App, ranges, 0, 1220);
  return { ld, out };
}

describe('Persistent congestion (RFC 9002 §7.6)', () => {
  it('reproduces the §7.6.3 example: #2..#8 lost over 7 units > 3 PTOs, cwnd collapses to 2*mds', () => {
    const { ld, out } = example(false);
    expect(pns(out.lost)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(ld.rtt.persistentCongestionDuration()).toBeLessThan(700);
    expect(out.persistentCongestion).toBe(true);
    expect(ld.congestion.window()).toBe(2 * MDS);
    // min_rtt restarts from the newest sample (§5.2).
    expect(ld.rtt.min).toBe(20);
    // Slow start resumes: the window grows by the bytes of the next acknowledged packet.
    ld.onPacketSent(App, pkt(10, 1300));
    ld.onPacketSent(App, pkt(11, 1300));
    ld.onAckReceived(App, [[10, 12]], 0, 1340);
    expect(ld.congestion.window()).toBe(4 * MDS);
  });

  it('is not established when a packet sent in between was acknowledged', () => {
    const { ld, out } = example(true);
    // #5 splits the lost packets into #2..#4 (200 ms) and #6..#8 (300 ms), each under 540 ms.
    expect(pns(out.lost)).toEqual([2, 3, 4, 6, 7, 8]);
    expect(out.persistentCongestion).toBe(false);
    expect(ld.congestion.window()).toBeGreaterThan(2 * MDS);
  });

  it('is not established when the lost period is shorter than the duration', () => {
    const rtt = new RttEstimator({ maxAckDelay: 80 });
    rtt.update(40, 0, true, -1000);
    const ld = new LossDetection<string>({ isServer: true, rtt });
    for (let pn = 0; pn < 8; pn++) ld.onPacketSent(App, pkt(pn, pn * 50)); // 0..350
    ld.onPacketSent(App, pkt(8, 400));
    const out = ld.onAckReceived(App, [[8, 9]], 0, 440);
    expect(pns(out.lost)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(out.persistentCongestion).toBe(false);
    expect(ld.congestion.window()).toBe(6000);
  });

  it('ignores packets sent before the first RTT sample (§7.6.2)', () => {
    const build = (priorSample: boolean) => {
      const rtt = new RttEstimator({ maxAckDelay: 0 });
      if (priorSample) rtt.update(10, 0, false, -1);
      const ld = new LossDetection<string>({ isServer: true, rtt });
      ld.onPacketSent(App, pkt(0, 0));
      for (let pn = 1; pn < 10; pn++) ld.onPacketSent(App, pkt(pn, 999 + pn));
      ld.onPacketSent(App, pkt(10, 1009));
      return { ld, out: ld.onAckReceived(App, [[10, 11]], 0, 1019) };
    };
    const fresh = build(false);
    // #0..#8 are lost over more than 1000 ms, far above 3 * (10 + 20) ms, but all were sent
    // before the first RTT sample (taken by this very ACK).
    expect(pns(fresh.out.lost)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(fresh.out.persistentCongestion).toBe(false);
    expect(fresh.ld.congestion.window()).toBe(6000);

    const warmed = build(true);
    expect(pns(warmed.out.lost)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(warmed.out.persistentCongestion).toBe(true);
    expect(warmed.ld.congestion.window()).toBe(2 * MDS);
  });

  it('needs two ack-eliciting packets: lost ACK-only packets do not count', () => {
    const rtt = new RttEstimator({ maxAckDelay: 0 });
    rtt.update(10, 0, false, -1);
    const ld = new LossDetection<string>({ isServer: true, rtt });
    ld.onPacketSent(App, pkt(0, 0, { ackEliciting: false }));
    ld.onPacketSent(App, pkt(1, 500));
    ld.onPacketSent(App, pkt(2, 501, { ackEliciting: false }));
    ld.onPacketSent(App, pkt(3, 502, { ackEliciting: false }));
    ld.onPacketSent(App, pkt(4, 510));
    const out = ld.onAckReceived(App, [[4, 5]], 0, 520);
    // #0 (ACK-only, sent at 0) and #1 (sent at 500) are far enough apart, but only #1 is
    // ack-eliciting; #2 and #3 are ACK-only too.
    expect(pns(out.lost)).toEqual([0, 1, 2, 3]);
    expect(out.persistentCongestion).toBe(false);
  });

  it('lost PMTU probes are no congestion signal (RFC 9000 §14.4): no reduction, no period', () => {
    const rtt = new RttEstimator({ maxAckDelay: 0 });
    rtt.update(10, 0, false, -1);
    const ld = new LossDetection<string>({ isServer: true, rtt });
    const before = ld.congestion.window();
    // Two probes far apart (beyond the persistent congestion duration), both lost.
    ld.onPacketSent(App, pkt(0, 0, { size: 1452, mtuProbe: true }));
    ld.onPacketSent(App, pkt(1, 500, { size: 1452, mtuProbe: true }));
    for (let pn = 2; pn < 5; pn++) ld.onPacketSent(App, pkt(pn, 513 + pn));
    expect(ld.bytesInFlight).toBe(2 * 1452 + 3 * MDS); // Probes do use the window.
    const out = ld.onAckReceived(App, [[4, 5]], 0, 520);
    expect(pns(out.lost)).toEqual([0, 1]);
    expect(out.persistentCongestion).toBe(false);
    expect(ld.congestion.slowStartThreshold()).toBe(Number.POSITIVE_INFINITY);
    expect(ld.congestion.window()).toBeGreaterThanOrEqual(before);
    // The same losses without the probe mark halve the window.
    const control = new LossDetection<string>({ isServer: true, rtt: new RttEstimator() });
    control.onPacketSent(App, pkt(0, 0));
    for (let pn = 1; pn < 5; pn++) control.onPacketSent(App, pkt(pn, pn));
    control.onAckReceived(App, [[4, 5]], 0, 20);
    expect(control.congestion.window()).toBeLessThan(before);
  });
});
