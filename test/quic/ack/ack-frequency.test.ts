/**
 * The receiver side of draft-ietf-quic-ack-frequency-14 in one packet number space: the
 * Ack-Eliciting Threshold and max_ack_delay of §4/§6, the Reordering Threshold of §6.2 (the two
 * example tables of §6.2.1 replayed), CE marks under a threshold above 1 (§6.3) and
 * IMMEDIATE_ACK (§5).
 */
import { describe, expect, it } from 'vitest';
import {
  type AckFrequencyRequest,
  EcnCodepoint,
  ReceivedPackets,
} from '../../../src/quic/ack/index.js';

const app = () => new ReceivedPackets({ space: 'application', maxAckDelay: 25 });

const request = (r: Partial<AckFrequencyRequest>): AckFrequencyRequest => ({
  ackElicitingThreshold: 1,
  maxAckDelay: 25,
  reorderingThreshold: 1,
  ...r,
});

/** Sends an ACK when one is due at `now` (as the connection would); true when it did. */
function sendIfDue(rx: ReceivedPackets, now: number, pn: { next: number }): boolean {
  if (!rx.shouldSendAck(now)) return false;
  expect(rx.buildAck(now)).not.toBeNull();
  rx.onAckSent(pn.next++);
  return true;
}

describe('Ack-Eliciting Threshold and Requested Max Ack Delay (§4, §6)', () => {
  it('threshold 9: nine ack-eliciting packets wait for max_ack_delay, the tenth is acknowledged', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 9, maxAckDelay: 5 }), 0);
    for (let pn = 0; pn < 9; pn++) {
      rx.onPacketReceived(pn, true, 10 + pn);
      // The deadline is the first unacknowledged packet's arrival plus the NEW max_ack_delay.
      expect(rx.ackDeadline()).toBe(15);
    }
    rx.onPacketReceived(9, true, 14);
    expect(rx.ackDeadline()).toBe(14);
  });

  it('threshold 0: every ack-eliciting packet is acknowledged at once', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 0 }), 0);
    rx.onPacketReceived(0, true, 3);
    expect(rx.ackDeadline()).toBe(3);
  });

  it('without a request RFC 9000 applies: every second packet', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 3);
    expect(rx.ackDeadline()).toBe(28);
    rx.onPacketReceived(1, true, 4);
    expect(rx.ackDeadline()).toBe(4);
  });

  it('a request re-times an ACK already owed: a shorter delay brings it forward', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 100);
    expect(rx.ackDeadline()).toBe(125);
    rx.setAckFrequency(request({ ackElicitingThreshold: 4, maxAckDelay: 1 }), 102);
    expect(rx.ackDeadline()).toBe(103);
    expect(rx.maxAckDelay).toBe(1);
  });

  it('a request whose threshold is already passed makes the owed ACK due now', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 5 }), 0);
    for (let pn = 0; pn < 4; pn++) rx.onPacketReceived(pn, true, 10);
    expect(rx.ackDeadline()).toBe(35);
    rx.setAckFrequency(request({ ackElicitingThreshold: 2 }), 11);
    expect(rx.ackDeadline()).toBe(11);
  });

  it('a threshold of 2^53 - 1 leaves only the timer', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: Number.MAX_SAFE_INTEGER }), 0);
    for (let pn = 0; pn < 1000; pn++) rx.onPacketReceived(pn, true, 1);
    expect(rx.ackDeadline()).toBe(26);
  });
});

describe('Reordering Threshold (§6.2)', () => {
  it('1 (the default): a gap triggers an immediate ACK, as RFC 9000 §13.2.1', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 100, reorderingThreshold: 1 }), 0);
    rx.onPacketReceived(0, true, 1);
    expect(rx.ackDeadline()).toBe(26);
    rx.onPacketReceived(2, true, 2);
    expect(rx.ackDeadline()).toBe(2);
  });

  it('0: out-of-order packets never trigger an immediate ACK', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 100, reorderingThreshold: 0 }), 0);
    for (const pn of [0, 5, 3, 9, 1]) rx.onPacketReceived(pn, true, 1);
    expect(rx.ackDeadline()).toBe(26);
  });

  // §6.2.1 Table 1 and Table 2: acknowledgments sent only for reordering (a threshold so large
  // that the count never triggers one, a timer that never fires within the test).
  const cases: Array<[number, number[], boolean[]]> = [
    [3, [0, 1, 3, 4, 5, 8, 9, 10], [false, false, false, false, true, false, true, true]],
    [5, [0, 1, 3, 5, 6, 7, 8, 9], [false, false, false, false, false, true, false, true]],
  ];
  for (const [rt, received, expected] of cases) {
    it(`threshold ${rt}: the sequence of §6.2.1's table`, () => {
      const rx = app();
      rx.setAckFrequency(
        request({ ackElicitingThreshold: 1000, maxAckDelay: 1000, reorderingThreshold: rt }),
        0,
      );
      const ours = { next: 0 };
      const sent = received.map((pn) => {
        rx.onPacketReceived(pn, true, 1);
        return sendIfDue(rx, 1, ours);
      });
      expect(sent).toEqual(expected);
    });
  }

  it('threshold 3: a packet at or below Largest Acked - 3 arriving late is acknowledged at once', () => {
    const rx = app();
    rx.setAckFrequency(
      request({ ackElicitingThreshold: 1000, maxAckDelay: 1000, reorderingThreshold: 3 }),
      0,
    );
    const ours = { next: 0 };
    for (const pn of [0, 1, 3, 4, 5]) rx.onPacketReceived(pn, true, 1);
    expect(sendIfDue(rx, 1, ours)).toBe(true); // Largest Acked 5
    rx.onPacketReceived(6, true, 1);
    expect(sendIfDue(rx, 1, ours)).toBe(false);
    rx.onPacketReceived(2, true, 1); // 2 <= 6 - 3: the peer may have declared it lost
    expect(sendIfDue(rx, 1, ours)).toBe(true);
  });
});

describe('ECN-CE under a threshold above 1 (§6.3)', () => {
  it('only the change from not-CE to CE is acknowledged at once', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 10 }), 0);
    const ours = { next: 0 };
    rx.onPacketReceived(0, true, 1, EcnCodepoint.ECT0);
    expect(sendIfDue(rx, 1, ours)).toBe(false);
    rx.onPacketReceived(1, true, 1, EcnCodepoint.CE);
    expect(sendIfDue(rx, 1, ours)).toBe(true);
    rx.onPacketReceived(2, true, 1, EcnCodepoint.CE);
    expect(sendIfDue(rx, 1, ours)).toBe(false);
    rx.onPacketReceived(3, true, 1, EcnCodepoint.ECT0);
    rx.onPacketReceived(4, true, 1, EcnCodepoint.CE);
    expect(sendIfDue(rx, 1, ours)).toBe(true);
  });

  it('threshold 1 keeps RFC 9000 §13.2.1: every CE packet', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 1 }), 0);
    const ours = { next: 0 };
    rx.onPacketReceived(0, true, 1, EcnCodepoint.CE);
    expect(sendIfDue(rx, 1, ours)).toBe(true);
    rx.onPacketReceived(1, true, 1, EcnCodepoint.CE);
    expect(sendIfDue(rx, 1, ours)).toBe(true);
  });
});

describe('IMMEDIATE_ACK (§5)', () => {
  it('makes the ACK of its packet due at once, whatever the threshold; only that packet', () => {
    const rx = app();
    rx.setAckFrequency(request({ ackElicitingThreshold: 10 }), 0);
    const ours = { next: 0 };
    rx.requestImmediateAck();
    rx.onPacketReceived(0, true, 1);
    expect(sendIfDue(rx, 1, ours)).toBe(true);
    rx.onPacketReceived(1, true, 2);
    expect(sendIfDue(rx, 2, ours)).toBe(false);
    expect(rx.ackDeadline()).toBe(27);
  });
});
