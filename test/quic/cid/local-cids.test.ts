import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LocalCid, LocalCids, type LocalCidsOptions } from '../../../src/quic/cid/index.js';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import { StatelessResetKey } from '../../../src/quic/path/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex, toHex } from '../../../src/wire/index.js';

const resetKey = new StatelessResetKey(fromHex('000102030405060708090a0b0c0d0e0f'));

function make(opts: Partial<LocalCidsOptions> = {}): LocalCids {
  return new LocalCids({
    cidLength: 8,
    random: new SeededRandom(1),
    resetTokenFor: resetKey.tokenFor,
    ...opts,
  });
}

function thrown(fn: () => unknown): TransportError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    return err as TransportError;
  }
  throw new Error('expected a TransportError');
}

const OTHER_DCID = fromHex('ffffffffffffffff');

describe('issuing connection IDs (RFC 9000 §5.1.1)', () => {
  it('starts with the handshake CID as sequence 0, with its reset token, announced as added', () => {
    const initialCid = fromHex('0011223344556677');
    const cids = make({ initialCid });
    expect(cids.initial.seq).toBe(0);
    expect(cids.initial.cid).toEqual(initialCid);
    expect(cids.initial.resetToken).toEqual(resetKey.tokenFor(initialCid));
    const events = cids.drainEvents();
    expect(events).toEqual([{ kind: 'added', entry: cids.initial }]);
    expect(cids.drainEvents()).toEqual([]);
  });

  it('issues new CIDs with consecutive sequence numbers up to the peer limit (default 2)', () => {
    const cids = make();
    const first = cids.issue();
    expect(first.map((c) => c.seq)).toEqual([1]);
    expect(cids.issue()).toEqual([]);
    cids.setPeerLimit(4);
    const more = cids.issue();
    expect(more.map((c) => c.seq)).toEqual([2, 3]);
    expect(cids.activeCount).toBe(4);
    for (const c of [...first, ...more]) {
      expect(c.cid).toHaveLength(8);
      expect(c.resetToken).toEqual(resetKey.tokenFor(c.cid));
    }
    expect(new Set(cids.active().map((c) => toHex(c.cid))).size).toBe(4);
  });

  it('issues at most `count` when asked, and never beyond our own cap', () => {
    const cids = make({ maxActive: 5 });
    cids.setPeerLimit(1000);
    expect(cids.issue(2)).toHaveLength(2);
    expect(cids.issue()).toHaveLength(2);
    expect(cids.activeCount).toBe(5);
  });

  it('a peer active_connection_id_limit below 2 is TRANSPORT_PARAMETER_ERROR', () => {
    const err = thrown(() => make().setPeerLimit(1));
    expect(err.code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  it('an endpoint with zero-length CIDs never issues more', () => {
    const cids = make({ cidLength: 0 });
    cids.setPeerLimit(8);
    expect(cids.initial.cid).toHaveLength(0);
    expect(cids.issue()).toEqual([]);
    expect(cids.rotate()).toBeUndefined();
  });

  it('skips a generated CID that is already active or taken elsewhere in the endpoint', () => {
    const queue = ['aaaaaaaaaaaaaaaa', 'aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'];
    const cids = make({
      generateCid: () => fromHex(queue.shift()!),
      isTaken: (cid) => toHex(cid) === 'bbbbbbbbbbbbbbbb',
    });
    cids.setPeerLimit(3);
    expect(cids.initial.cid).toEqual(fromHex('aaaaaaaaaaaaaaaa'));
    expect(cids.issue(1).map((c) => toHex(c.cid))).toEqual(['cccccccccccccccc']);
  });

  it('gives up when no unused CID can be generated', () => {
    expect(() =>
      make({
        initialCid: fromHex('0101010101010101'),
        generateCid: () => fromHex('0101010101010101'),
      }).issue(),
    ).toThrow(/could not generate/);
  });
});

describe('RETIRE_CONNECTION_ID from the peer (RFC 9000 §19.16)', () => {
  it('removes the CID, announces the removal, and lets a replacement be issued', () => {
    const cids = make();
    const [one] = cids.issue();
    cids.drainEvents();
    const retired = cids.onRetire(0, one.cid);
    expect(retired?.seq).toBe(0);
    expect(cids.drainEvents()).toEqual([{ kind: 'removed', entry: retired }]);
    const [two] = cids.issue();
    expect(two.seq).toBe(2);
    expect(cids.drainEvents()).toEqual([{ kind: 'added', entry: two }]);
  });

  it('a repeated RETIRE_CONNECTION_ID changes nothing', () => {
    const cids = make();
    const [one] = cids.issue();
    cids.onRetire(0, one.cid);
    cids.drainEvents();
    expect(cids.onRetire(0, one.cid)).toBeUndefined();
    expect(cids.drainEvents()).toEqual([]);
  });

  it('a sequence number never issued is PROTOCOL_VIOLATION', () => {
    const cids = make();
    cids.issue();
    const err = thrown(() => cids.onRetire(2, OTHER_DCID));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect(err.frameType).toBe(0x19);
  });

  it('retiring the CID the carrying packet was addressed to is PROTOCOL_VIOLATION', () => {
    const cids = make();
    const [one] = cids.issue();
    const err = thrown(() => cids.onRetire(1, one.cid));
    expect(err.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect(cids.get(1)).toBe(one);
  });

  it('any RETIRE_CONNECTION_ID to an endpoint using zero-length CIDs is PROTOCOL_VIOLATION', () => {
    const cids = make({ cidLength: 0 });
    expect(thrown(() => cids.onRetire(0, new Uint8Array(0))).code).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
  });
});

describe('rotation with Retire Prior To (RFC 9000 §5.1.2)', () => {
  it('asks the peer to retire everything issued so far and issues a full set of replacements', () => {
    const cids = make();
    cids.setPeerLimit(3);
    cids.issue();
    const fresh = cids.rotate()!;
    expect(cids.retirePriorTo).toBe(3);
    expect(fresh.map((c) => c.seq)).toEqual([3, 4, 5]);
    // The old ones are still accepted until the peer retires them, but no longer counted.
    expect(cids.active()).toHaveLength(6);
    expect(cids.activeCount).toBe(3);
  });

  it('does not raise Retire Prior To again before the previous rotation was retired', () => {
    const cids = make();
    cids.issue();
    const fresh = cids.rotate()!;
    expect(cids.rotate()).toBeUndefined();
    cids.onRetire(0, fresh[0].cid);
    expect(cids.rotate()).toBeUndefined();
    cids.onRetire(1, fresh[0].cid);
    expect(cids.rotate()?.map((c) => c.seq)).toEqual([4, 5]);
    expect(cids.retirePriorTo).toBe(4);
  });
});

describe('properties', () => {
  type Op =
    | { kind: 'issue'; count: number }
    | { kind: 'retire'; pick: number; viaOwn: boolean }
    | { kind: 'rotate' }
    | { kind: 'limit'; limit: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('issue' as const), count: fc.integer({ min: 0, max: 5 }) }),
    fc.record({
      kind: fc.constant('retire' as const),
      pick: fc.nat(50),
      viaOwn: fc.boolean(),
    }),
    fc.constant({ kind: 'rotate' as const }),
    fc.record({ kind: fc.constant('limit' as const), limit: fc.integer({ min: 2, max: 10 }) }),
  );

  it('never exceeds the limit; the event feed always mirrors the active set', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.integer(), (ops, seed) => {
        const cids = make({ random: new SeededRandom(seed), maxActive: 6 });
        const routing = new Map<string, number>();
        const apply = () => {
          for (const ev of cids.drainEvents()) {
            const key = toHex(ev.entry.cid);
            if (ev.kind === 'added') {
              expect(routing.has(key)).toBe(false);
              routing.set(key, ev.entry.seq);
            } else {
              expect(routing.get(key)).toBe(ev.entry.seq);
              routing.delete(key);
            }
          }
        };
        let issuedMax = 0;
        for (const op of ops) {
          if (op.kind === 'issue') cids.issue(op.count);
          else if (op.kind === 'rotate') cids.rotate();
          else if (op.kind === 'limit') {
            if (op.limit >= cids.activeCount) cids.setPeerLimit(op.limit);
          } else {
            const active = cids.active();
            const seq = op.pick % (cids.nextSeq + 1);
            const other = active.find((c) => c.seq !== seq);
            const dcid = op.viaOwn ? cids.get(seq)?.cid : other?.cid;
            try {
              cids.onRetire(seq, dcid ?? OTHER_DCID);
              expect(seq < cids.nextSeq && !(op.viaOwn && dcid)).toBe(true);
            } catch (err) {
              expect((err as TransportError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
              expect(seq >= cids.nextSeq || (op.viaOwn && dcid !== undefined)).toBe(true);
            }
          }
          apply();
          expect(cids.activeCount).toBeLessThanOrEqual(cids.limit);
          const active: readonly LocalCid[] = cids.active();
          expect(routing.size).toBe(active.length);
          for (const c of active) expect(routing.get(toHex(c.cid))).toBe(c.seq);
          for (let i = 1; i < active.length; i++) {
            expect(active[i].seq).toBeGreaterThan(active[i - 1].seq);
          }
          expect(cids.nextSeq).toBeGreaterThanOrEqual(issuedMax);
          issuedMax = cids.nextSeq;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
