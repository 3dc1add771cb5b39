import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import {
  Cubic,
  LossDetection,
  minimumWindow,
  NewReno,
  type PacketSpace,
  type SentPacket,
} from '../../../src/quic/recovery/index.js';
import { RangeSet } from '../../../src/util/range-set.js';

type Op =
  | { k: 'send'; space: PacketSpace; skip: boolean; size: number; eliciting: boolean; dt: number }
  | { k: 'ack'; space: PacketSpace; picks: number[]; delay: number; dt: number; ce: number }
  | { k: 'timeout' }
  | { k: 'discard'; space: PacketSpace }
  | { k: 'confirm' }
  | { k: 'block'; on: boolean };

const spaceArb = fc.constantFrom<PacketSpace>(0, 1, 2);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('send' as const),
      space: spaceArb,
      skip: fc.nat(9).map((n) => n === 0),
      size: fc.integer({ min: 20, max: 1500 }),
      eliciting: fc.boolean(),
      dt: fc.integer({ min: 0, max: 40 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('ack' as const),
      space: spaceArb,
      picks: fc.array(fc.nat(1000), { minLength: 1, maxLength: 8 }),
      delay: fc.nat(50),
      dt: fc.integer({ min: 0, max: 200 }),
      ce: fc.nat(3),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'timeout' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('discard' as const),
      space: fc.constantFrom<PacketSpace>(0, 1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'confirm' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('block' as const), on: fc.boolean() }) },
);

describe('LossDetection invariants (property)', () => {
  it('bytes in flight never go negative and always equal the in-flight packets neither acked, lost nor dropped', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.array(opArb, { maxLength: 80 }),
        (isServer, cubic, ops) => {
          const cc = cubic ? new Cubic() : new NewReno();
          const ld = new LossDetection<number>({ isServer, congestion: cc });
          const live: Map<number, SentPacket<number>>[] = [new Map(), new Map(), new Map()];
          const next = [0, 0, 0];
          const discarded = [false, false, false];
          const skipped: Set<number>[] = [new Set(), new Set(), new Set()];
          const reported = new Set<string>();
          let now = 0;
          let id = 0;
          const report = (space: number, packets: SentPacket<number>[]) => {
            for (const p of packets) {
              const key = `${space}:${p.pn}`;
              expect(reported.has(key)).toBe(false);
              expect(live[space].get(p.pn)).toBe(p);
              reported.add(key);
              live[space].delete(p.pn);
            }
          };
          for (const op of ops) {
            if (op.k === 'send') {
              if (discarded[op.space]) continue;
              now += op.dt;
              if (op.skip) skipped[op.space].add(next[op.space]++);
              const p: SentPacket<number> = {
                pn: next[op.space]++,
                timeSent: now,
                size: op.size,
                ackEliciting: op.eliciting,
                inFlight: op.eliciting || op.size > 1000,
                info: id++,
              };
              ld.onPacketSent(op.space, p);
              live[op.space].set(p.pn, p);
            } else if (op.k === 'ack') {
              now += op.dt;
              const set = new RangeSet();
              // Mostly packet numbers that were sent, sometimes one beyond.
              for (const pick of op.picks) set.add(pick % (next[op.space] + 2));
              const ranges = [...set.descending()];
              const unsent =
                ranges.some(([, e]) => e > next[op.space]) ||
                [...skipped[op.space]].some((pn) => set.has(pn));
              const before = ld.bytesInFlight;
              let out: ReturnType<typeof ld.onAckReceived>;
              try {
                out = ld.onAckReceived(op.space, ranges, op.delay, now, op.ce);
              } catch (err) {
                expect(err).toBeInstanceOf(TransportError);
                expect((err as TransportError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
                expect(ld.bytesInFlight).toBe(before);
                expect(unsent).toBe(true);
                continue;
              }
              // RFC 9000 §13.1: every ACK of a number never sent (above the largest, or skipped) throws.
              expect(unsent).toBe(false);
              const acked = out.acked.map((p) => p.pn);
              const expected = [...live[op.space].keys()]
                .filter((pn) => set.has(pn))
                .sort((a, b) => a - b);
              expect(discarded[op.space] ? [] : expected).toEqual(acked);
              for (const p of out.lost) {
                expect(set.has(p.pn)).toBe(false);
                expect(p.pn).toBeLessThan(ld.largestAcked(op.space));
              }
              report(op.space, out.acked);
              report(op.space, out.lost);
            } else if (op.k === 'timeout') {
              const deadline = ld.lossDetectionDeadline();
              if (deadline === undefined) continue;
              expect(Number.isFinite(deadline)).toBe(true);
              if (deadline > now) now = deadline;
              const fired = ld.onLossDetectionTimeout(now);
              expect(fired).toBeDefined();
              if (fired?.kind === 'loss') report(fired.space, fired.lost);
            } else if (op.k === 'discard') {
              report(op.space, ld.discardSpace(op.space, now));
              discarded[op.space] = true;
            } else if (op.k === 'confirm') {
              ld.setHandshakeConfirmed(now);
            } else {
              ld.setAmplificationBlocked(op.on, now);
            }
            let sum = 0;
            for (const m of live) for (const p of m.values()) if (p.inFlight) sum += p.size;
            expect(ld.bytesInFlight).toBeGreaterThanOrEqual(0);
            expect(ld.bytesInFlight).toBe(sum);
            expect(cc.window()).toBeGreaterThanOrEqual(minimumWindow(cc.maxDatagramSize));
            const d = ld.lossDetectionDeadline();
            if (d !== undefined) expect(Number.isNaN(d)).toBe(false);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
