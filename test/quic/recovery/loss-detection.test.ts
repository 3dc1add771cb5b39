import { describe, expect, it } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import {
  LossDetection,
  NewReno,
  PacketSpace,
  RttEstimator,
} from '../../../src/quic/recovery/index.js';
import { MDS, pkt, pns } from './helpers.js';

const { Initial, Handshake, ApplicationData: App } = PacketSpace;

function server(opts: { rtt?: RttEstimator } = {}): LossDetection<string> {
  return new LossDetection<string>({ isServer: true, ...opts });
}

function sendRun(
  ld: LossDetection<string>,
  space: PacketSpace,
  from: number,
  to: number,
  t0: number,
  step = 1,
) {
  for (let pn = from; pn < to; pn++) ld.onPacketSent(space, pkt(pn, t0 + (pn - from) * step));
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('LossDetection: acknowledgments (RFC 9002 §5, §6.1, Appendix A.7)', () => {
  it('in-order acks remove packets from flight and grow cwnd by the bytes acked in slow start', () => {
    const ld = server();
    expect(ld.congestion.window()).toBe(12000);
    sendRun(ld, App, 0, 10, 0);
    expect(ld.bytesInFlight).toBe(10 * MDS);
    expect(ld.canSend(MDS)).toBe(false);
    const out = ld.onAckReceived(App, [[0, 10]], 0, 100);
    expect(pns(out.acked)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(out.lost).toEqual([]);
    expect(out.rttSample).toBe(91);
    expect(ld.bytesInFlight).toBe(0);
    expect(ld.congestion.window()).toBe(12000 + 10 * MDS);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
  });

  it('a packet 3 behind the largest acknowledged is declared lost; 1 and 2 behind are not', () => {
    const ld = server();
    sendRun(ld, App, 0, 5, 0);
    const out = ld.onAckReceived(App, [[4, 5]], 0, 50);
    expect(pns(out.acked)).toEqual([4]);
    expect(pns(out.lost)).toEqual([0, 1]);
    expect(pns(ld.outstanding(App))).toEqual([2, 3]);
    expect(ld.bytesInFlight).toBe(2 * MDS);
    // The loss triggered a congestion event: the window halved (RFC 9002 §7.3.2).
    expect(ld.congestion.window()).toBe(6000);
  });

  it('time-threshold loss fires via the deadline, one packet at a time', () => {
    const ld = server();
    sendRun(ld, App, 0, 3, 0); // pn 0 @0, 1 @1, 2 @2
    // ACK of pn 2 at 100: latest_rtt 98, loss_delay = 9/8 * 98 = 110.25. pn 0 and 1 are fewer
    // than 3 behind and sent less than loss_delay ago: not lost yet.
    const out = ld.onAckReceived(App, [[2, 3]], 0, 100);
    expect(out.rttSample).toBe(98);
    expect(out.lost).toEqual([]);
    expect(ld.lossDetectionDeadline()).toBe(0 + 110.25);
    expect(ld.onLossDetectionTimeout(110)).toBeUndefined();
    const first = ld.onLossDetectionTimeout(110.25);
    expect(first?.kind).toBe('loss');
    expect(first?.kind === 'loss' && pns(first.lost)).toEqual([0]);
    expect(ld.lossDetectionDeadline()).toBe(1 + 110.25);
    const second = ld.onLossDetectionTimeout(111.25);
    expect(second?.kind === 'loss' && pns(second.lost)).toEqual([1]);
    expect(ld.bytesInFlight).toBe(0);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
  });

  it('packets newer than the largest acknowledged are never declared lost by the thresholds', () => {
    const ld = server();
    sendRun(ld, App, 0, 10, 0);
    const out = ld.onAckReceived(App, [[5, 6]], 0, 1000);
    // 0..2 are 3 or more behind 5; 3 and 4 wait for the time threshold; 6..9 are newer.
    expect(pns(out.lost)).toEqual([0, 1, 2]);
    expect(pns(ld.outstanding(App))).toEqual([3, 4, 6, 7, 8, 9]);
    let fired = ld.onLossDetectionTimeout(ld.lossDetectionDeadline()!);
    fired = ld.onLossDetectionTimeout(ld.lossDetectionDeadline()!);
    expect(fired?.kind === 'loss' && pns(fired.lost)).toEqual([4]);
    expect(pns(ld.outstanding(App))).toEqual([6, 7, 8, 9]);
    // Nothing left below the largest acknowledged; the Application Data PTO waits for handshake
    // confirmation (§6.2.1), then governs the rest.
    expect(ld.lossDetectionDeadline()).toBeUndefined();
    ld.setHandshakeConfirmed(2000);
    expect(ld.onLossDetectionTimeout(1e9)?.kind).toBe('pto');
  });

  it('an ACK for a packet number never sent is a PROTOCOL_VIOLATION (RFC 9000 §13.1)', () => {
    const ld = server();
    sendRun(ld, App, 0, 3, 0);
    const err = catchError(() => ld.onAckReceived(App, [[0, 4]], 0, 10));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect((err as TransportError).frameType).toBe(0x02);
    // Nothing was processed.
    expect(ld.bytesInFlight).toBe(3 * MDS);
    expect(ld.largestAcked(App)).toBe(-1);
  });

  it('an ACK covering a skipped packet number is detected as optimistic (RFC 9000 §21.4)', () => {
    const ld = server();
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(2, 1)); // pn 1 skipped on purpose
    expect(ld.onAckReceived(App, [[2, 3]], 0, 10).acked.length).toBe(1);
    const err = catchError(() => ld.onAckReceived(App, [[0, 3]], 0, 10));
    expect((err as TransportError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('an ACK in a space that sent nothing is a PROTOCOL_VIOLATION', () => {
    const ld = server();
    sendRun(ld, App, 0, 3, 0);
    const err = catchError(() => ld.onAckReceived(Handshake, [[0, 1]], 0, 10));
    expect((err as TransportError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('ranges that are empty, overlapping or ascending are FRAME_ENCODING_ERROR', () => {
    const ld = server();
    sendRun(ld, App, 0, 10, 0);
    for (const ranges of [
      [],
      [[3, 3]],
      [
        [0, 2],
        [5, 7],
      ],
      [
        [5, 7],
        [4, 6],
      ],
      [[-1, 2]],
    ] as [number, number][][]) {
      const err = catchError(() => ld.onAckReceived(App, ranges, 0, 10));
      expect((err as TransportError).code).toBe(TransportErrorCode.FRAME_ENCODING_ERROR);
    }
  });

  it('handles several ranges, highest first, and acknowledges each packet once', () => {
    const ld = server();
    sendRun(ld, App, 0, 10, 0, 0); // all sent at 0: only the packet threshold can apply
    const out = ld.onAckReceived(
      App,
      [
        [8, 10],
        [4, 7],
      ],
      0,
      20,
    );
    expect(pns(out.acked)).toEqual([4, 5, 6, 8, 9]);
    // 0..3 are at least 3 below 9 and not acknowledged; 7 is 2 below: pending.
    expect(pns(out.lost)).toEqual([0, 1, 2, 3]);
    expect(pns(ld.outstanding(App))).toEqual([7]);
    const again = ld.onAckReceived(App, [[4, 10]], 0, 25);
    expect(pns(again.acked)).toEqual([7]);
    expect(again.rttSample).toBeUndefined();
  });

  it('takes an RTT sample only when the largest acknowledged is newly acknowledged (§5.1)', () => {
    const ld = server();
    sendRun(ld, App, 0, 4, 0);
    expect(ld.onAckReceived(App, [[3, 4]], 0, 100).rttSample).toBe(97);
    // Largest (3) already acknowledged: pn 2 is newly acked but gives no sample.
    const out = ld.onAckReceived(App, [[2, 4]], 0, 500);
    expect(pns(out.acked)).toEqual([2]);
    expect(out.rttSample).toBeUndefined();
    expect(ld.rtt.latest).toBe(97);
  });

  it('takes no RTT sample from an ACK that newly acknowledges only non-ack-eliciting packets', () => {
    const ld = server();
    ld.onPacketSent(App, pkt(0, 0, { ackEliciting: false }));
    ld.onPacketSent(App, pkt(1, 0, { ackEliciting: false }));
    const out = ld.onAckReceived(App, [[0, 2]], 5000, 100);
    expect(out.acked.length).toBe(2);
    expect(out.rttSample).toBeUndefined();
    expect(ld.rtt.hasSample).toBe(false);
  });

  it('caps the ack delay at max_ack_delay only once the handshake is confirmed (§5.3)', () => {
    const run = (confirmed: boolean) => {
      const ld = new LossDetection<string>({
        isServer: true,
        rtt: new RttEstimator({ maxAckDelay: 25 }),
      });
      if (confirmed) ld.setHandshakeConfirmed(0);
      ld.onPacketSent(App, pkt(0, 0));
      ld.onAckReceived(App, [[0, 1]], 0, 100); // first sample: 100
      ld.onPacketSent(App, pkt(1, 100));
      ld.onAckReceived(App, [[1, 2]], 100, 300); // latest 200, ack delay 100
      return ld.rtt.smoothed;
    };
    expect(run(false)).toBe(0.875 * 100 + 0.125 * 100); // adjusted 200 - 100
    expect(run(true)).toBe(0.875 * 100 + 0.125 * 175); // adjusted 200 - min(100, 25)
  });

  it('ignores the ack delay of Initial acknowledgments (§5.3 MAY)', () => {
    const ld = server();
    ld.onPacketSent(Initial, pkt(0, 0));
    ld.onAckReceived(Initial, [[0, 1]], 0, 100);
    ld.onPacketSent(Initial, pkt(1, 100));
    ld.onAckReceived(Initial, [[1, 2]], 50, 300);
    expect(ld.rtt.smoothed).toBe(0.875 * 100 + 0.125 * 200);
  });

  it('an increase of the ECN-CE count is a congestion event; the same count is not (§7.1)', () => {
    const ld = server();
    sendRun(ld, App, 0, 4, 0);
    expect(ld.onAckReceived(App, [[0, 1]], 0, 10, 0).ecnCongestion).toBe(false);
    expect(ld.congestion.window()).toBe(12000);
    expect(ld.onAckReceived(App, [[0, 2]], 0, 20, 1).ecnCongestion).toBe(true);
    expect(ld.congestion.window()).toBe(6000);
    expect(ld.onAckReceived(App, [[0, 3]], 0, 30, 1).ecnCongestion).toBe(false);
  });

  it('declares a gap of 3 lost across spaces independently: loss detection is per space (§6)', () => {
    const ld = server();
    sendRun(ld, Initial, 0, 4, 0);
    sendRun(ld, Handshake, 0, 4, 0);
    const out = ld.onAckReceived(Initial, [[3, 4]], 0, 100);
    expect(pns(out.lost)).toEqual([0]);
    expect(pns(ld.outstanding(Handshake))).toEqual([0, 1, 2, 3]);
  });

  it('tolerates the congestion controller given explicitly', () => {
    const cc = new NewReno({ maxDatagramSize: 1500 });
    const ld = new LossDetection<string>({ isServer: false, congestion: cc });
    expect(ld.congestion).toBe(cc);
    expect(cc.window()).toBe(14720);
  });
});

describe('LossDetection: time threshold (RFC 9002 §6.1.2)', () => {
  it('a packet sent more than 9/8 RTT before the ACK is lost at once, even 1 behind', () => {
    const ld = server();
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(1, 50));
    // pn 1 acked at 150: latest_rtt 100, loss_delay 112.5; pn 0 was sent at 0 <= 150 - 112.5.
    expect(pns(ld.onAckReceived(App, [[1, 2]], 0, 150).lost)).toEqual([0]);
  });

  it('a packet reordered within 9/8 RTT waits for the deadline, then is lost', () => {
    const ld = server();
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(1, 10));
    const out = ld.onAckReceived(App, [[1, 2]], 0, 100); // latest 90, loss_delay 101.25
    expect(out.lost).toEqual([]);
    const deadline = ld.lossDetectionDeadline();
    expect(deadline).toBe(0 + 101.25);
    expect(ld.onLossDetectionTimeout(101)).toBeUndefined();
    const fired = ld.onLossDetectionTimeout(101.25);
    expect(fired).toEqual({
      kind: 'loss',
      space: App,
      lost: [pkt(0, 0)],
      persistentCongestion: false,
    });
    expect(ld.bytesInFlight).toBe(0);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
  });

  it('an ACK arriving before the deadline cancels the pending loss', () => {
    const ld = server();
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(1, 10));
    ld.onAckReceived(App, [[1, 2]], 0, 100);
    expect(ld.lossDetectionDeadline()).toBe(101.25);
    const out = ld.onAckReceived(App, [[0, 2]], 0, 101);
    expect(pns(out.acked)).toEqual([0]);
    expect(ld.lossDetectionDeadline()).toBeUndefined();
  });

  it('the loss timer takes precedence over the PTO (§6.2.1 "MUST NOT be set")', () => {
    const ld = server();
    ld.setHandshakeConfirmed(0);
    ld.onPacketSent(App, pkt(0, 0));
    ld.onPacketSent(App, pkt(1, 10));
    ld.onPacketSent(App, pkt(2, 20));
    ld.onAckReceived(App, [[2, 3]], 0, 100); // latest 80, loss_delay 90; pn 0 lost (0 <= 10)
    // pn 1: 10 + 90 = 100 <= 100, lost too; nothing pending.
    expect(ld.outstanding(App)).toEqual([]);
    ld.onPacketSent(App, pkt(3, 100));
    ld.onPacketSent(App, pkt(4, 110));
    ld.onAckReceived(App, [[4, 5]], 0, 150); // latest 40; smoothed ~75 -> loss delay by smoothed
    const deadline = ld.lossDetectionDeadline()!;
    expect(deadline).toBeCloseTo(100 + (9 / 8) * ld.rtt.smoothed, 9);
    expect(deadline).toBeLessThan(100 + ld.rtt.pto(true));
  });
});
