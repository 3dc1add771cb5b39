import { describe, expect, it } from 'vitest';
import { LossDetection, PacketSpace, RttEstimator } from '../../../src/quic/recovery/index.js';
import { MDS, pkt, pns } from './helpers.js';

const { Initial, Handshake, ApplicationData: App } = PacketSpace;

describe('Probe timeout (RFC 9002 §6.2, Appendix A.8-A.9)', () => {
  it('fires after smoothed_rtt + 4*rttvar with the initial RTT, then backs off by doubling', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Initial, pkt(0, 0));
    // 333 + 4 * 166.5 = 999 ms: "handshakes starting with a PTO of 1 second" (§6.2.2).
    expect(ld.lossDetectionDeadline()).toBe(999);
    expect(ld.onLossDetectionTimeout(998)).toBeUndefined();
    expect(ld.onLossDetectionTimeout(999)).toEqual({
      kind: 'pto',
      ptoSpace: Initial,
      probeCount: 2,
      antiDeadlock: false,
    });
    expect(ld.ptoCount).toBe(1);
    // A PTO does not declare anything lost (§6.2).
    expect(pns(ld.outstanding(Initial))).toEqual([0]);
    // Probes are sent; the timer restarts from the last ack-eliciting packet with twice the period.
    ld.onPacketSent(Initial, pkt(1, 999));
    ld.onPacketSent(Initial, pkt(2, 999));
    expect(ld.lossDetectionDeadline()).toBe(999 + 2 * 999);
    expect(ld.onLossDetectionTimeout(2997)?.kind).toBe('pto');
    expect(ld.ptoCount).toBe(2);
    ld.onPacketSent(Initial, pkt(3, 2997));
    expect(ld.lossDetectionDeadline()).toBe(2997 + 4 * 999);
    // Probes count in flight: three packets beyond the window would be allowed only as probes.
    expect(ld.bytesInFlight).toBe(4 * MDS);
  });

  it('an acknowledgment resets pto_count at a server', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.onLossDetectionTimeout(999);
    ld.onPacketSent(Initial, pkt(1, 999));
    ld.onLossDetectionTimeout(2997);
    expect(ld.ptoCount).toBe(2);
    ld.onAckReceived(Initial, [[1, 2]], 0, 3000);
    expect(ld.ptoCount).toBe(0);
  });

  it('a client keeps the backoff on Initial acknowledgments until a Handshake ACK (§6.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: false });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.onLossDetectionTimeout(999);
    ld.onPacketSent(Initial, pkt(1, 999));
    ld.onAckReceived(Initial, [[1, 2]], 0, 1100);
    expect(ld.ptoCount).toBe(1);
    expect(ld.peerCompletedAddressValidation).toBe(false);
    ld.setHasHandshakeKeys();
    ld.onPacketSent(Handshake, pkt(0, 1100));
    ld.onAckReceived(Handshake, [[0, 1]], 0, 1200);
    expect(ld.peerCompletedAddressValidation).toBe(true);
    expect(ld.ptoCount).toBe(0);
  });

  it('includes max_ack_delay (with backoff) only for Application Data (§6.2.1)', () => {
    const ld = new LossDetection<string>({
      isServer: true,
      rtt: new RttEstimator({ initialRtt: 100, maxAckDelay: 25 }),
    });
    ld.setHandshakeConfirmed(0);
    ld.onPacketSent(App, pkt(0, 0));
    expect(ld.lossDetectionDeadline()).toBe(100 + 200 + 25);
    ld.onLossDetectionTimeout(325);
    expect(ld.lossDetectionDeadline()).toBe(2 * (300 + 25));
  });

  it('does not arm a PTO for Application Data before the handshake is confirmed (§6.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(App, pkt(0, 10));
    expect(ld.lossDetectionDeadline()).toBeUndefined();
    ld.setHandshakeConfirmed(50);
    expect(ld.lossDetectionDeadline()).toBe(10 + 999 + 25);
  });

  it('takes the earlier of the Initial and Handshake PTOs, Application Data after them', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.onPacketSent(Handshake, pkt(0, 5));
    ld.onPacketSent(App, pkt(0, 6));
    expect(ld.lossDetectionDeadline()).toBe(999);
    ld.onAckReceived(Initial, [[0, 1]], 0, 100); // RTT 100: PTO = 300
    expect(ld.lossDetectionDeadline()).toBe(5 + 300);
    const fired = ld.onLossDetectionTimeout(305);
    expect(fired).toMatchObject({ kind: 'pto', ptoSpace: Handshake });
  });

  it('a client with nothing in flight still arms the anti-deadlock PTO from now (§6.2.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: false });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.onAckReceived(Initial, [[0, 1]], 0, 100); // RTT 100, PTO 300
    expect(ld.hasAckElicitingInFlight()).toBe(false);
    expect(ld.lossDetectionDeadline()).toBe(100 + 300);
    expect(ld.onLossDetectionTimeout(400)).toEqual({
      kind: 'pto',
      ptoSpace: Initial,
      probeCount: 1,
      antiDeadlock: true,
    });
    // Backoff applies to the anti-deadlock timer too; with Handshake keys it probes in Handshake.
    expect(ld.lossDetectionDeadline()).toBe(400 + 600);
    ld.setHasHandshakeKeys();
    expect(ld.onLossDetectionTimeout(1000)).toMatchObject({
      ptoSpace: Handshake,
      antiDeadlock: true,
    });
  });

  it('a client stops the anti-deadlock timer once the peer completed address validation', () => {
    const ld = new LossDetection<string>({ isServer: false });
    ld.setHasHandshakeKeys();
    ld.onPacketSent(Handshake, pkt(0, 0));
    ld.onAckReceived(Handshake, [[0, 1]], 0, 100);
    expect(ld.lossDetectionDeadline()).toBeUndefined();

    const confirmed = new LossDetection<string>({ isServer: false });
    confirmed.onPacketSent(Initial, pkt(0, 0));
    confirmed.onAckReceived(Initial, [[0, 1]], 0, 100);
    expect(confirmed.lossDetectionDeadline()).toBe(400);
    confirmed.setHandshakeConfirmed(150);
    expect(confirmed.lossDetectionDeadline()).toBeUndefined();
  });

  it('a server at its amplification limit does not arm the PTO; a datagram unblocks it (§6.2.2.1)', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.setAmplificationBlocked(true, 0);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
    expect(ld.onLossDetectionTimeout(5000)).toBeUndefined();
    // A datagram from the client arrives at 5000: the PTO is re-armed, already in the past, so it
    // is executed at once (Appendix A.6).
    ld.setAmplificationBlocked(false, 5000);
    expect(ld.lossDetectionDeadline()).toBe(999);
    expect(ld.onLossDetectionTimeout(5000)?.kind).toBe('pto');
  });

  it('the amplification limit does not stop a client from probing', () => {
    const ld = new LossDetection<string>({ isServer: false });
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.setAmplificationBlocked(true, 0);
    expect(ld.lossDetectionDeadline()).toBe(999);
  });

  it('discarding Initial keys removes its bytes from flight and resets the timer and pto_count (§6.4)', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Initial, pkt(0, 0, { size: 1200 }));
    ld.onPacketSent(Initial, pkt(1, 1, { size: 300 }));
    expect(ld.onLossDetectionTimeout(1000)?.kind).toBe('pto');
    ld.onPacketSent(Handshake, pkt(0, 1000, { size: 700 }));
    expect(ld.bytesInFlight).toBe(2200);
    expect(ld.ptoCount).toBe(1);
    const dropped = ld.discardSpace(Initial, 1001);
    expect(pns(dropped)).toEqual([0, 1]);
    expect(ld.bytesInFlight).toBe(700);
    expect(ld.ptoCount).toBe(0);
    expect(ld.lossDetectionDeadline()).toBe(1000 + 999);
    // A late ACK for the discarded space changes nothing; discarding twice is harmless.
    expect(ld.onAckReceived(Initial, [[0, 2]], 0, 1100).acked).toEqual([]);
    expect(ld.discardSpace(Initial, 1100)).toEqual([]);
    expect(() => ld.onPacketSent(Initial, pkt(2, 1100))).toThrow(RangeError);
    expect(() => ld.discardSpace(App, 1100)).toThrow(RangeError);
  });

  it('discarding the loss-timer space clears its pending loss', () => {
    const ld = new LossDetection<string>({ isServer: true });
    ld.onPacketSent(Handshake, pkt(0, 0));
    ld.onPacketSent(Handshake, pkt(1, 1));
    ld.onAckReceived(Handshake, [[1, 2]], 0, 100);
    expect(ld.lossDetectionDeadline()).toBeCloseTo(0 + (9 / 8) * 99, 9);
    ld.discardSpace(Handshake, 101);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
    expect(ld.bytesInFlight).toBe(0);
  });

  it('rejected 0-RTT packets leave flight without being declared lost (§6.4)', () => {
    const ld = new LossDetection<string>({ isServer: false });
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(1, 1));
    ld.onPacketSent(App, pkt(2, 50)); // first 1-RTT packet
    const dropped = ld.discardPacketsBelow(App, 2, 60);
    expect(pns(dropped)).toEqual([0, 1]);
    expect(pns(ld.outstanding(App))).toEqual([2]);
    expect(ld.bytesInFlight).toBe(MDS);
    expect(ld.congestion.window()).toBe(12000);
  });

  it('sends only one probe when configured so', () => {
    const ld = new LossDetection<string>({ isServer: true, probesPerPto: 1 });
    ld.onPacketSent(Handshake, pkt(0, 0));
    expect(ld.onLossDetectionTimeout(999)).toMatchObject({ probeCount: 1, ptoSpace: Handshake });
    expect(ld.oldestOutstanding(Handshake)?.pn).toBe(0);
  });
});
