import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SentPacket, SentPackets } from '../../../src/quic/recovery/sent-packets.js';
import { pkt, pns } from './helpers.js';

function filled(n: number): SentPackets<string> {
  const s = new SentPackets<string>();
  for (let pn = 0; pn < n; pn++) s.add(pkt(pn, pn));
  return s;
}

describe('SentPackets', () => {
  it('counts bytes and ack-eliciting packets in flight; ACK-only packets are recorded but not counted', () => {
    const s = new SentPackets<string>();
    s.add(pkt(0, 0, { size: 1000 }));
    s.add(pkt(1, 1, { size: 50, ackEliciting: false }));
    s.add(pkt(2, 2, { size: 1200, ackEliciting: false, inFlight: true }));
    expect(s.size).toBe(3);
    expect(s.bytesInFlight).toBe(2200);
    expect(s.ackElicitingInFlight).toBe(1);
    expect(s.timeOfLastAckEliciting).toBe(0);
    expect(s.largestSent).toBe(2);
  });

  it('refuses packet numbers that do not increase', () => {
    const s = filled(3);
    expect(() => s.add(pkt(2, 5))).toThrow(RangeError);
    expect(() => s.add(pkt(1.5, 5))).toThrow(RangeError);
  });

  it('removes in-order acknowledgments from the front', () => {
    const s = filled(100);
    const out: SentPacket<string>[] = [];
    for (let i = 0; i < 100; i += 10) s.removeRange(i, i + 10, out);
    expect(pns(out)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(s.size).toBe(0);
    expect(s.bytesInFlight).toBe(0);
  });

  it('removes a range in the middle and ignores numbers already gone', () => {
    const s = filled(10);
    const out: SentPacket<string>[] = [];
    s.removeRange(3, 6, out);
    s.removeRange(4, 8, out);
    expect(pns(out)).toEqual([3, 4, 5, 6, 7]);
    expect(pns(s.toArray())).toEqual([0, 1, 2, 8, 9]);
  });

  it('knows which packet numbers were never sent, skipped ones included', () => {
    const s = new SentPackets<string>();
    s.add(pkt(0, 0));
    s.add(pkt(1, 1));
    s.add(pkt(5, 2));
    expect(s.wasSent(0, 2)).toBe(true);
    expect(s.wasSent(5, 6)).toBe(true);
    expect(s.wasSent(2, 3)).toBe(false);
    expect(s.wasSent(1, 6)).toBe(false);
    expect(s.wasSent(6, 7)).toBe(false);
  });

  it('declares lost by packet threshold and reports the earliest pending send time', () => {
    const s = filled(6);
    const out: SentPacket<string>[] = [];
    s.removeRange(5, 6, out);
    const lost: SentPacket<string>[] = [];
    const breaks: boolean[] = [];
    const earliest = s.removeLost(5, 5, 100, 3, lost, breaks);
    expect(pns(lost)).toEqual([0, 1, 2]);
    expect(earliest).toBe(3);
    expect(pns(s.toArray())).toEqual([3, 4]);
  });

  it('clear() and removeBelow() drop packets and their bytes', () => {
    const s = filled(5);
    const out: SentPacket<string>[] = [];
    s.removeBelow(2, out);
    expect(pns(out)).toEqual([0, 1]);
    s.clear(out);
    expect(pns(out)).toEqual([0, 1, 2, 3, 4]);
    expect(s.bytesInFlight).toBe(0);
    expect(s.ackElicitingInFlight).toBe(0);
    expect(s.timeOfLastAckEliciting).toBeUndefined();
  });

  type Op =
    | { k: 'send'; skip: number; size: number; eliciting: boolean }
    | { k: 'ack'; a: number; b: number }
    | { k: 'lose'; largest: number; delay: number; threshold: number }
    | { k: 'below'; pn: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      arbitrary: fc.record({
        k: fc.constant('send' as const),
        skip: fc.nat(2),
        size: fc.integer({ min: 1, max: 1500 }),
        eliciting: fc.boolean(),
      }),
      weight: 5,
    },
    {
      arbitrary: fc.record({ k: fc.constant('ack' as const), a: fc.nat(80), b: fc.nat(6) }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        k: fc.constant('lose' as const),
        largest: fc.nat(80),
        delay: fc.nat(30),
        threshold: fc.integer({ min: 1, max: 5 }),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ k: fc.constant('below' as const), pn: fc.nat(80) }), weight: 1 },
  );

  it('matches a simple model under random send / ack / loss / discard (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const s = new SentPackets<string>();
        const live = new Map<number, SentPacket<string>>();
        /** Packet numbers acknowledged or discarded: they break persistent-congestion runs. */
        const breakers = new Set<number>();
        let next = 0;
        let clock = 0;
        for (const op of ops) {
          if (op.k === 'send') {
            next += op.skip;
            const p = pkt(next, clock++, { size: op.size, ackEliciting: op.eliciting });
            s.add(p);
            live.set(next, p);
            next++;
          } else if (op.k === 'ack' || op.k === 'below') {
            const [a, b] = op.k === 'ack' ? [op.a, op.a + op.b + 1] : [0, op.pn];
            const out: SentPacket<string>[] = [];
            if (op.k === 'ack') s.removeRange(a, b, out);
            else s.removeBelow(b, out);
            const expected = [...live.keys()]
              .filter((pn) => pn >= a && pn < b)
              .sort((x, y) => x - y);
            expect(pns(out)).toEqual(expected);
            for (const pn of expected) {
              live.delete(pn);
              breakers.add(pn);
            }
          } else {
            const now = clock;
            const lost: SentPacket<string>[] = [];
            const breaks: boolean[] = [];
            const earliest = s.removeLost(op.largest, now, op.delay, op.threshold, lost, breaks);
            const candidates = [...live.values()]
              .filter((p) => p.pn <= op.largest)
              .sort((x, y) => x.pn - y.pn);
            const isLost = (p: SentPacket<string>) =>
              p.timeSent + op.delay <= now || op.largest >= p.pn + op.threshold;
            const expLost = candidates.filter(isLost);
            const pending = candidates.filter((p) => !isLost(p));
            expect(pns(lost)).toEqual(pns(expLost));
            expect(earliest).toBe(
              pending.length === 0
                ? Number.POSITIVE_INFINITY
                : Math.min(...pending.map((p) => p.timeSent)),
            );
            for (const p of expLost) live.delete(p.pn);
            for (let i = 1; i < expLost.length; i++) {
              const lo = expLost[i - 1].pn;
              const hi = expLost[i].pn;
              let expected = false;
              for (let pn = lo + 1; pn < hi; pn++)
                if (breakers.has(pn) || live.has(pn)) expected = true;
              expect(breaks[i]).toBe(expected);
            }
          }
          const sorted = [...live.values()].sort((x, y) => x.pn - y.pn);
          expect(pns(s.toArray())).toEqual(pns(sorted));
          expect(s.bytesInFlight).toBe(sorted.reduce((n, p) => n + (p.inFlight ? p.size : 0), 0));
          expect(s.ackElicitingInFlight).toBe(
            sorted.filter((p) => p.ackEliciting && p.inFlight).length,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });
});
