import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AckedRange, EcnCodepoint, ReceivedPackets } from '../../../src/quic/ack/index.js';
import { parseAck, writeAck } from '../../../src/quic/frames/ack.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import { ByteReader, ByteWriter } from '../../../src/wire/index.js';

const app = (opts: Partial<ConstructorParameters<typeof ReceivedPackets>[0]> = {}) =>
  new ReceivedPackets({ space: 'application', maxAckDelay: 25, ...opts });

/** Members of descending inclusive ranges, ascending. */
function expand(ranges: readonly AckedRange[]): number[] {
  const out: number[] = [];
  for (const [lo, hi] of ranges) for (let i = lo; i <= hi; i++) out.push(i);
  return out.sort((a, b) => a - b);
}

describe('ACK scheduling (RFC 9000 §13.2.1, §13.2.2)', () => {
  it('acknowledges an ack-eliciting Initial packet immediately', () => {
    const rx = new ReceivedPackets({ space: 'initial' });
    rx.onPacketReceived(0, true, 10);
    expect(rx.ackDeadline()).toBe(10);
    expect(rx.shouldSendAck(10)).toBe(true);
  });

  it('acknowledges an ack-eliciting Handshake packet immediately', () => {
    const rx = new ReceivedPackets({ space: 'handshake', maxAckDelay: 1000 });
    rx.onPacketReceived(3, true, 7);
    expect(rx.ackDeadline()).toBe(7);
  });

  it('delays the ACK of a lone 1-RTT ack-eliciting packet by at most max_ack_delay', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 100);
    expect(rx.ackDeadline()).toBe(125);
    expect(rx.shouldSendAck(124.9)).toBe(false);
    expect(rx.shouldSendAck(125)).toBe(true);
  });

  it('keeps the deadline of the FIRST unacknowledged ack-eliciting packet', () => {
    const rx = app({ ackElicitingThreshold: 10 });
    rx.onPacketReceived(0, true, 100);
    rx.onPacketReceived(1, true, 120);
    expect(rx.ackDeadline()).toBe(125);
  });

  it('sends an ACK right away after every second ack-eliciting packet', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 100);
    rx.onPacketReceived(1, true, 101);
    expect(rx.ackDeadline()).toBe(101);
    rx.buildAck(101);
    rx.onAckSent(0);
    expect(rx.ackDeadline()).toBeUndefined();
    rx.onPacketReceived(2, true, 102);
    expect(rx.ackDeadline()).toBe(127);
    rx.onPacketReceived(3, true, 103);
    expect(rx.ackDeadline()).toBe(103);
  });

  it('never arms the ACK timer for non-ack-eliciting packets alone, but reports them later', () => {
    const rx = app();
    for (let pn = 0; pn < 5; pn++) rx.onPacketReceived(pn, false, pn);
    expect(rx.ackDeadline()).toBeUndefined();
    expect(rx.ackElicitingPending).toBe(false);
    expect(rx.hasNewPackets).toBe(true);
    rx.onPacketReceived(5, true, 10);
    expect(rx.buildAck(10)?.ranges).toEqual([[0, 5]]);
  });

  it('acknowledges at once a packet that arrives below the largest ack-eliciting one (fills a gap)', () => {
    const rx = app({ ackElicitingThreshold: 100 });
    rx.onPacketReceived(0, true, 0);
    rx.onPacketReceived(2, true, 1);
    rx.buildAck(1);
    rx.onAckSent(0);
    rx.onPacketReceived(1, true, 5);
    expect(rx.ackDeadline()).toBe(5);
  });

  it('acknowledges at once a packet that creates a gap above the largest ack-eliciting one', () => {
    const rx = app({ ackElicitingThreshold: 100 });
    rx.onPacketReceived(0, true, 0);
    rx.onAckSent(0);
    rx.onPacketReceived(2, true, 3);
    expect(rx.ackDeadline()).toBe(3);
  });

  it('does not count received non-ack-eliciting packets as a gap', () => {
    const rx = app({ ackElicitingThreshold: 100 });
    rx.onPacketReceived(0, true, 0);
    rx.onPacketReceived(1, false, 1);
    rx.onPacketReceived(2, true, 2);
    expect(rx.ackDeadline()).toBe(25);
  });

  it('acknowledges a CE-marked ack-eliciting packet immediately', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 50, EcnCodepoint.CE);
    expect(rx.ackDeadline()).toBe(50);
  });

  it('a CE-marked non-ack-eliciting packet hurries a pending ACK but never causes one alone', () => {
    const alone = app();
    alone.onPacketReceived(0, false, 50, EcnCodepoint.CE);
    expect(alone.ackDeadline()).toBeUndefined();
    const pending = app();
    pending.onPacketReceived(0, true, 50);
    pending.onPacketReceived(1, false, 60, EcnCodepoint.CE);
    expect(pending.ackDeadline()).toBe(60);
  });

  it('sending an ACK clears the deadline so only one ACK-only packet answers a packet', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 0);
    rx.onAckSent(0);
    expect(rx.ackDeadline()).toBeUndefined();
    expect(rx.hasNewPackets).toBe(false);
    expect(rx.ackElicitingPending).toBe(false);
  });
});

describe('received packet tracking', () => {
  it('reports a packet received twice as a duplicate and does not count its ECN mark again', () => {
    const rx = app();
    expect(rx.onPacketReceived(4, true, 0, EcnCodepoint.ECT0).duplicate).toBe(false);
    expect(rx.isDuplicate(4)).toBe(true);
    expect(rx.onPacketReceived(4, true, 1, EcnCodepoint.ECT0).duplicate).toBe(true);
    expect(rx.ecnCounts).toEqual({ ect0: 1, ect1: 0, ce: 0 });
  });

  it('retains the largest packet number for packet number decoding', () => {
    const rx = app();
    expect(rx.largestReceived).toBe(-1);
    rx.onPacketReceived(7, false, 0);
    rx.onPacketReceived(3, false, 0);
    expect(rx.largestReceived).toBe(7);
  });

  it('reports ranges descending with inclusive bounds, usable as ACK frame ranges', () => {
    const rx = app();
    for (const pn of [0, 1, 2, 5, 6, 9]) rx.onPacketReceived(pn, true, 0);
    const ack = rx.buildAck(0);
    expect(ack?.ranges).toEqual([
      [9, 9],
      [5, 6],
      [0, 2],
    ]);
    // The frame codec accepts it as is and reads the same ranges back.
    const w = new ByteWriter();
    writeAck(w, { kind: 'ACK', ...ack! });
    const r = new ByteReader(w.toBytes());
    const type = r.u8();
    expect(type).toBe(FrameType.ACK);
    expect(parseAck(r, type).ranges).toEqual(ack?.ranges);
  });

  it('encodes the ACK delay from the receipt of the largest packet, scaled by the exponent', () => {
    const rx = app();
    rx.onPacketReceived(1, true, 100);
    rx.onPacketReceived(0, true, 104); // Reordered: the delay still counts from packet 1.
    expect(rx.buildAck(105.5, 3)?.ackDelay).toBe(Math.floor(5500 / 8));
    expect(rx.buildAck(105.5, 0)?.ackDelay).toBe(5500);
    expect(rx.buildAck(99, 3)?.ackDelay).toBe(0); // A clock step backwards is not negative.
  });

  it('adds ECN counts (type 0x03) once an ECN-marked packet arrived', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 0);
    expect(rx.buildAck(0)?.ecn).toBeNull();
    rx.onPacketReceived(1, true, 0, EcnCodepoint.ECT1);
    rx.onPacketReceived(2, true, 0, EcnCodepoint.CE);
    rx.onPacketReceived(3, true, 0, EcnCodepoint.ECT0);
    rx.onPacketReceived(4, true, 0, EcnCodepoint.ECT0);
    const ack = rx.buildAck(0)!;
    expect(ack.ecn).toEqual({ ect0: 2, ect1: 1, ce: 1 });
    const w = new ByteWriter();
    writeAck(w, { kind: 'ACK', ...ack });
    expect(w.toBytes()[0]).toBe(FrameType.ACK_ECN);
  });

  it('keeps only the highest ranges when there are more than the bound (§13.2.3)', () => {
    const rx = app({ maxAckRanges: 8 });
    for (let pn = 0; pn <= 200; pn += 2) rx.onPacketReceived(pn, true, pn);
    const ranges = rx.buildAck(300)!.ranges;
    expect(ranges).toHaveLength(8);
    expect(ranges[0]).toEqual([200, 200]);
    expect(ranges[7]).toEqual([186, 186]);
    expect(rx.buildAck(300, 3, 3)!.ranges).toEqual([
      [200, 200],
      [198, 198],
      [196, 196],
    ]);
  });

  it('refuses packets below the tracking floor as duplicates once old ranges are forgotten', () => {
    const rx = app({ maxAckRanges: 2, maxTrackedRanges: 4 });
    for (let pn = 0; pn <= 20; pn += 2) rx.onPacketReceived(pn, true, 0);
    expect(rx.floor).toBe(14);
    expect(rx.isDuplicate(13)).toBe(true); // Never received, but below the floor.
    expect(rx.onPacketReceived(1, true, 0).duplicate).toBe(true);
    expect(rx.isDuplicate(15)).toBe(false);
    expect(rx.onPacketReceived(15, true, 0).duplicate).toBe(false);
  });
});

describe('pruning by ACK of ACK (RFC 9000 §13.2.4)', () => {
  it('stops reporting packets the peer has seen acknowledged, but keeps the largest', () => {
    const rx = app();
    for (const pn of [0, 1, 2, 4, 5]) rx.onPacketReceived(pn, true, 0);
    rx.buildAck(0);
    rx.onAckSent(100); // Our packet 100 carries ACK [4..5], [0..2].
    rx.onPacketReceived(7, true, 1);
    expect(rx.onSentPacketAcked(99)).toBe(false);
    expect(rx.onSentPacketAcked(100)).toBe(true);
    expect(rx.trackedRanges()).toEqual([[7, 7]]);
    // Everything was seen: still a duplicate, pruning forgets nothing for duplicate detection.
    expect(rx.isDuplicate(4)).toBe(true);
    expect(rx.isDuplicate(3)).toBe(false);
  });

  it('keeps reporting the largest received packet in every ACK', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 0);
    rx.onPacketReceived(1, true, 0);
    rx.onAckOfAckReceived(1);
    expect(rx.buildAck(0)?.ranges).toEqual([[1, 1]]);
  });

  it('a late packet below the pruned point is acknowledged again', () => {
    const rx = app();
    for (const pn of [0, 2, 3]) rx.onPacketReceived(pn, true, 0);
    rx.onAckOfAckReceived(3);
    rx.onPacketReceived(1, true, 1);
    expect(rx.buildAck(1)?.ranges).toEqual([
      [3, 3],
      [1, 1],
    ]);
  });

  it('an acknowledged later ACK-carrying packet subsumes earlier ones', () => {
    const rx = app();
    rx.onPacketReceived(0, true, 0);
    rx.onAckSent(10);
    rx.onPacketReceived(1, true, 0);
    rx.onAckSent(11);
    rx.onPacketReceived(2, true, 0);
    expect(rx.onSentPacketAcked(11)).toBe(true);
    expect(rx.onSentPacketAcked(10)).toBe(false);
    expect(rx.trackedRanges()).toEqual([[2, 2]]);
  });
});

type Op =
  | { kind: 'recv'; pn: number; eliciting: boolean; dt: number }
  | { kind: 'prune'; largest: number }
  | { kind: 'send' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('recv' as const),
      pn: fc.integer({ min: 0, max: 120 }),
      eliciting: fc.boolean(),
      dt: fc.integer({ min: 0, max: 40 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('prune' as const), largest: fc.nat(130) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'send' as const }) },
);

describe('properties', () => {
  it('ACK ranges equal exactly the set received, in any arrival order, duplicates included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 150 }),
        (pns) => {
          const rx = app({ maxAckRanges: 1000, maxTrackedRanges: 1000 });
          const model = new Set<number>();
          for (const pn of pns) {
            expect(rx.onPacketReceived(pn, true, 0).duplicate).toBe(model.has(pn));
            model.add(pn);
          }
          const ack = rx.buildAck(0)!;
          expect(expand(ack.ranges)).toEqual([...model].sort((a, b) => a - b));
          // Canonical: descending, separated by at least one missing packet.
          for (let i = 1; i < ack.ranges.length; i++) {
            expect(ack.ranges[i][1]).toBeLessThan(ack.ranges[i - 1][0] - 1);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('after pruning only pruned parts disappear; deadlines honour max_ack_delay', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const rx = app({ maxAckRanges: 1000, maxTrackedRanges: 1000 });
        const tracked = new Set<number>();
        const seen = new Set<number>();
        let largest = -1;
        let now = 0;
        let firstPendingAt: number | undefined;
        for (const op of ops) {
          if (op.kind === 'recv') {
            now += op.dt;
            const dup = rx.onPacketReceived(op.pn, op.eliciting, now).duplicate;
            expect(dup).toBe(seen.has(op.pn));
            if (!dup) {
              seen.add(op.pn);
              tracked.add(op.pn);
              largest = Math.max(largest, op.pn);
              if (op.eliciting && firstPendingAt === undefined) firstPendingAt = now;
            }
          } else if (op.kind === 'prune') {
            rx.onAckOfAckReceived(op.largest);
            for (const pn of [...tracked]) if (pn <= op.largest && pn < largest) tracked.delete(pn);
          } else {
            rx.onAckSent(now);
            firstPendingAt = undefined;
          }
          const expected = [...tracked].sort((a, b) => a - b);
          expect(expand(rx.trackedRanges())).toEqual(expected);
          expect(rx.ackElicitingPending).toBe(firstPendingAt !== undefined);
          const deadline = rx.ackDeadline();
          if (firstPendingAt === undefined) expect(deadline).toBeUndefined();
          else expect(deadline).toBeLessThanOrEqual(firstPendingAt + 25);
          if (largest >= 0 && tracked.size > 0) {
            expect(rx.buildAck(now)!.ranges[0][1]).toBe(largest);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never reports more ranges than the bound and always includes the largest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 10 }),
        (pns, bound) => {
          const rx = app({ maxAckRanges: bound, maxTrackedRanges: bound * 2 });
          let largest = -1;
          for (const pn of pns) {
            if (!rx.onPacketReceived(pn, true, 0).duplicate) largest = Math.max(largest, pn);
          }
          const ranges = rx.buildAck(0)!.ranges;
          expect(ranges.length).toBeLessThanOrEqual(bound);
          expect(ranges[0][1]).toBe(largest);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
