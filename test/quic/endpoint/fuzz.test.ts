import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DropReason, QuicEndpoint } from '../../../src/quic/endpoint/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { cid, clientInitial, drain, FakeConnection } from './fakes.js';

function makeEndpoint(retry: 'always' | 'never' | 'under-load') {
  const random = new SeededRandom(11);
  let n = 0;
  return new QuicEndpoint<FakeConnection>({
    random,
    retry,
    retryLoadThreshold: 3,
    statelessResetKey: new Uint8Array(16).fill(3),
    resetRate: { perSecond: 1e6, burst: 1e6 },
    createServerConnection: (info) => new FakeConnection(`s${n++}`, [cid(n & 0xff)], info),
  });
}

function totalDropped(d: Record<DropReason, number>): number {
  return Object.values(d).reduce((a, b) => a + b, 0);
}

describe('receive never throws on arbitrary datagrams', () => {
  it('random bytes are routed, answered or counted as dropped', () => {
    for (const policy of ['always', 'never', 'under-load'] as const) {
      const ep = makeEndpoint(policy);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 1400 }), fc.nat(1e6), (bytes, now) => {
          const before = ep.stats();
          ep.receive(bytes, '10.1.1.1:1', now);
          drain(ep, now);
          const after = ep.stats();
          const accounted =
            totalDropped(after.dropped) -
            totalDropped(before.dropped) +
            (after.vnSent - before.vnSent) +
            (after.retrySent - before.retrySent) +
            (after.resetsSent - before.resetsSent) +
            (after.refusalsSent - before.refusalsSent) +
            (after.connections - before.connections) +
            (after.resetsDetected - before.resetsDetected);
          // Datagrams routed to an existing connection are the only ones not counted here.
          expect(accounted).toBeLessThanOrEqual(1);
        }),
        { numRuns: 2000 },
      );
    }
  });

  it('mutated client Initials never throw', () => {
    const ep = makeEndpoint('always');
    const base = clientInitial(cid(0xd0), cid(0xc0, 4), new Uint8Array(60).fill(1));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 8,
        }),
        fc.nat(base.length),
        (edits, cut) => {
          const d = base.slice(0, Math.max(1, cut));
          for (const [i, v] of edits) if (i < d.length) d[i] = v;
          ep.receive(d, '10.1.1.2:2', 0);
          drain(ep);
        },
      ),
      { numRuns: 3000 },
    );
    expect(ep.stats().received).toBe(3000);
  });

  it('every proper prefix of a client Initial header is dropped as malformed or too small', () => {
    const ep = makeEndpoint('never');
    const base = clientInitial(cid(0xd0), cid(0xc0, 4), new Uint8Array(5).fill(1));
    for (let n = 0; n < 30; n++) ep.receive(base.subarray(0, n), '10.1.1.3:3', 0);
    const s = ep.stats();
    expect(s.connections).toBe(0);
    expect(s.dropped.malformed + s.dropped['initial-too-small']).toBe(30);
  });
});
