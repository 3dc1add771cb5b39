import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalCids, PeerCids, type PeerCidsOptions } from '../../../src/quic/cid/index.js';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import { StatelessResetKey } from '../../../src/quic/path/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { fromHex } from '../../../src/wire/index.js';

const cid = (n: number) => fromHex(`c1d0${n.toString(16).padStart(4, '0')}`);
const token = (n: number) => fromHex(`70${n.toString(16).padStart(2, '0')}`.padEnd(32, 'e'));

function make(opts: Partial<PeerCidsOptions> = {}): PeerCids {
  return new PeerCids({ initialCid: cid(0), activeLimit: 2, ...opts });
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

function drainRetires(p: PeerCids): number[] {
  const out: number[] = [];
  for (let s = p.pollRetire(); s !== undefined; s = p.pollRetire()) out.push(s);
  return out;
}

describe('NEW_CONNECTION_ID from the peer (RFC 9000 §19.15)', () => {
  it('starts on the handshake CID and stores new ones as unused', () => {
    const p = make();
    expect(p.current?.seq).toBe(0);
    expect(p.current?.cid).toEqual(cid(0));
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.active().map((c) => c.seq)).toEqual([0, 1]);
    expect(p.unusedCount).toBe(1);
  });

  it('copies the CID and token, which may be views into a packet buffer', () => {
    const p = make();
    const packet = new Uint8Array([...cid(1), ...token(1)]);
    p.onNewConnectionId(1, 0, packet.subarray(0, 4), packet.subarray(4));
    packet.fill(0);
    expect(p.active()[1].cid).toEqual(cid(1));
    expect(p.active()[1].resetToken).toEqual(token(1));
  });

  it('accepts the same frame twice without error', () => {
    const p = make();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.active()).toHaveLength(2);
  });

  it('a sequence number reused for a different CID or token is PROTOCOL_VIOLATION', () => {
    const p = make();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(thrown(() => p.onNewConnectionId(1, 0, cid(9), token(1))).code).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
    expect(thrown(() => p.onNewConnectionId(1, 0, cid(1), token(9))).code).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
  });

  it('a CID or a reset token repeated under a new sequence number is PROTOCOL_VIOLATION', () => {
    const p = make({ activeLimit: 4 });
    p.onNewConnectionId(1, 0, cid(1), token(1));
    const sameCid = thrown(() => p.onNewConnectionId(2, 0, cid(1), token(2)));
    expect(sameCid.code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
    expect(sameCid.frameType).toBe(0x18);
    expect(thrown(() => p.onNewConnectionId(2, 0, cid(2), token(1))).code).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
  });

  it('Retire Prior To greater than the Sequence Number is FRAME_ENCODING_ERROR', () => {
    expect(thrown(() => make().onNewConnectionId(1, 2, cid(1), token(1))).code).toBe(
      TransportErrorCode.FRAME_ENCODING_ERROR,
    );
  });

  it('a CID length outside 1..20 is FRAME_ENCODING_ERROR', () => {
    expect(thrown(() => make().onNewConnectionId(1, 0, new Uint8Array(0), token(1))).code).toBe(
      TransportErrorCode.FRAME_ENCODING_ERROR,
    );
    expect(thrown(() => make().onNewConnectionId(1, 0, new Uint8Array(21), token(1))).code).toBe(
      TransportErrorCode.FRAME_ENCODING_ERROR,
    );
  });

  it('a peer that exceeds our active_connection_id_limit gets CONNECTION_ID_LIMIT_ERROR', () => {
    const p = make({ activeLimit: 3 });
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.onNewConnectionId(2, 0, cid(2), token(2));
    const err = thrown(() => p.onNewConnectionId(3, 0, cid(3), token(3)));
    expect(err.code).toBe(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
  });

  it('a frame may exceed the limit temporarily when its Retire Prior To retires the excess', () => {
    const p = make({ activeLimit: 2 });
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.onNewConnectionId(2, 1, cid(2), token(2));
    expect(p.active().map((c) => c.seq)).toEqual([1, 2]);
    expect(drainRetires(p)).toEqual([0]);
  });

  it('Retire Prior To retires older CIDs, moving off the current one to an unused one', () => {
    const p = make({ activeLimit: 4 });
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.onNewConnectionId(2, 0, cid(2), token(2));
    p.onNewConnectionId(3, 2, cid(3), token(3));
    expect(p.current?.seq).toBe(2);
    expect(p.retirePriorTo).toBe(2);
    expect(drainRetires(p).sort()).toEqual([0, 1]);
  });

  it('a smaller Retire Prior To than already received is ignored', () => {
    const p = make({ activeLimit: 4 });
    p.onNewConnectionId(1, 1, cid(1), token(1));
    drainRetires(p);
    p.onNewConnectionId(2, 0, cid(2), token(2));
    expect(p.retirePriorTo).toBe(1);
    expect(p.active().map((c) => c.seq)).toEqual([1, 2]);
    expect(drainRetires(p)).toEqual([]);
  });

  it('a late CID below the current Retire Prior To is retired at once, exactly once', () => {
    const p = make({ activeLimit: 2 });
    p.onNewConnectionId(3, 3, cid(3), token(3));
    expect(drainRetires(p)).toEqual([0]);
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.active().map((c) => c.seq)).toEqual([3]);
    expect(drainRetires(p)).toEqual([1]);
    p.onNewConnectionId(1, 0, cid(1), token(1)); // Retransmitted.
    expect(drainRetires(p)).toEqual([]);
  });

  it('too many retirements awaiting acknowledgment is CONNECTION_ID_LIMIT_ERROR', () => {
    const p = make({ activeLimit: 2 }); // Up to 4 pending.
    p.onNewConnectionId(10, 10, cid(10), token(10)); // Retires 0.
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.onNewConnectionId(2, 0, cid(2), token(2));
    p.onNewConnectionId(3, 0, cid(3), token(3));
    expect(p.pendingRetires).toBe(4);
    const err = thrown(() => p.onNewConnectionId(4, 0, cid(4), token(4)));
    expect(err.code).toBe(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR);
  });

  it('a NEW_CONNECTION_ID while we use a zero-length DCID is PROTOCOL_VIOLATION', () => {
    const p = make({ initialCid: new Uint8Array(0) });
    expect(thrown(() => p.onNewConnectionId(1, 0, cid(1), token(1))).code).toBe(
      TransportErrorCode.PROTOCOL_VIOLATION,
    );
  });

  it('the preferred_address CID is sequence 1', () => {
    const p = make();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.rotate()?.seq).toBe(1);
  });
});

describe('choosing and retiring our Destination Connection ID (RFC 9000 §5.1.2, §9.5)', () => {
  it('rotates to an unused CID and retires the old one', () => {
    const p = make({ activeLimit: 3 });
    p.onNewConnectionId(2, 0, cid(2), token(2));
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.rotate()?.seq).toBe(1);
    expect(p.current?.cid).toEqual(cid(1));
    expect(drainRetires(p)).toEqual([0]);
    expect(p.rotate()?.seq).toBe(2);
    expect(p.rotate()).toBeUndefined();
    expect(p.current?.seq).toBe(2);
  });

  it('takes an unused CID for a probe without changing the current one', () => {
    const p = make();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.takeUnused()?.seq).toBe(1);
    expect(p.current?.seq).toBe(0);
    expect(p.takeUnused()).toBeUndefined();
    expect(p.setCurrent(1)).toBe(true);
    expect(p.retire(0)).toBe(true);
    expect(p.retire(0)).toBe(false);
    expect(drainRetires(p)).toEqual([0]);
  });

  it('has no current CID when the peer provided none to replace a retired one', () => {
    const p = make();
    p.retire(0);
    expect(p.current).toBeUndefined();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.current?.seq).toBe(1);
  });

  it('resends a lost RETIRE_CONNECTION_ID and forgets an acknowledged one', () => {
    const p = make();
    p.onNewConnectionId(1, 0, cid(1), token(1));
    p.rotate();
    expect(p.pollRetire()).toBe(0);
    expect(p.pollRetire()).toBeUndefined();
    expect(p.pendingRetires).toBe(1);
    p.onRetireLost(0);
    expect(p.pollRetire()).toBe(0);
    p.onRetireAcked(0);
    expect(p.pendingRetires).toBe(0);
    p.onRetireLost(0); // Late loss report after the ack: nothing to resend.
    expect(p.pollRetire()).toBeUndefined();
  });

  it('replaces the handshake CID during the handshake only', () => {
    const p = make();
    p.replaceInitial(cid(7));
    expect(p.current?.cid).toEqual(cid(7));
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(() => p.replaceInitial(cid(8))).toThrow();
  });
});

describe('stateless reset detection (RFC 9000 §10.3.1)', () => {
  it('matches the token of a CID we used, including the server transport parameter one', () => {
    const p = make();
    expect(p.isStatelessReset(token(0))).toBe(false);
    p.setInitialResetToken(token(0));
    expect(p.isStatelessReset(token(0))).toBe(true);
    expect(p.isStatelessReset(token(5))).toBe(false);
    expect(p.isStatelessReset(token(0).subarray(1))).toBe(false);
  });

  it('ignores tokens of CIDs not yet used, and of retired CIDs', () => {
    const p = make();
    p.setInitialResetToken(token(0));
    p.onNewConnectionId(1, 0, cid(1), token(1));
    expect(p.isStatelessReset(token(1))).toBe(false);
    p.rotate();
    expect(p.isStatelessReset(token(1))).toBe(true);
    expect(p.isStatelessReset(token(0))).toBe(false);
  });
});

describe('properties', () => {
  type Op =
    | { kind: 'peerIssue' }
    | { kind: 'peerRotate' }
    | { kind: 'deliverNcid'; pick: number; duplicate: boolean }
    | { kind: 'weRotate' }
    | { kind: 'sendRetire' }
    | { kind: 'deliverRetire'; pick: number; lose: boolean };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.constant({ kind: 'peerIssue' as const }),
    fc.constant({ kind: 'peerRotate' as const }),
    fc.record({
      kind: fc.constant('deliverNcid' as const),
      pick: fc.nat(20),
      duplicate: fc.boolean(),
    }),
    fc.constant({ kind: 'weRotate' as const }),
    fc.constant({ kind: 'sendRetire' as const }),
    fc.record({
      kind: fc.constant('deliverRetire' as const),
      pick: fc.nat(20),
      lose: fc.boolean(),
    }),
  );

  it('a conforming issuer and receiver, with reordering, duplication and loss, stay within limits', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 120 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer(),
        (ops, limit, seed) => {
          const key = new StatelessResetKey(new Uint8Array(32).fill(seed & 0xff));
          const issuer = new LocalCids({
            cidLength: 8,
            random: new SeededRandom(seed),
            resetTokenFor: key.tokenFor,
          });
          issuer.setPeerLimit(limit);
          const receiver = new PeerCids({
            initialCid: issuer.initial.cid,
            initialResetToken: issuer.initial.resetToken,
            activeLimit: limit,
          });
          type Ncid = { seq: number; rpt: number; cid: Uint8Array; token: Uint8Array };
          const ncids: Ncid[] = [];
          const retires: { seq: number; dcid: Uint8Array }[] = [];
          const send = (
            list: readonly { seq: number; cid: Uint8Array; resetToken: Uint8Array }[],
          ) => {
            for (const c of list) {
              ncids.push({
                seq: c.seq,
                rpt: issuer.retirePriorTo,
                cid: c.cid,
                token: c.resetToken,
              });
            }
          };
          for (const op of ops) {
            switch (op.kind) {
              case 'peerIssue':
                send(issuer.issue());
                break;
              case 'peerRotate':
                send(issuer.rotate() ?? []);
                break;
              case 'deliverNcid': {
                if (ncids.length === 0) break;
                const i = op.pick % ncids.length;
                const f = ncids[i];
                if (!op.duplicate) ncids.splice(i, 1);
                receiver.onNewConnectionId(f.seq, f.rpt, f.cid, f.token);
                break;
              }
              case 'weRotate':
                receiver.rotate();
                break;
              case 'sendRetire': {
                const current = receiver.current;
                if (!current) break;
                const seq = receiver.pollRetire();
                if (seq !== undefined) retires.push({ seq, dcid: current.cid });
                break;
              }
              case 'deliverRetire': {
                if (retires.length === 0) break;
                const [r] = retires.splice(op.pick % retires.length, 1);
                if (op.lose) {
                  receiver.onRetireLost(r.seq);
                } else {
                  issuer.onRetire(r.seq, r.dcid);
                  receiver.onRetireAcked(r.seq);
                  send(issuer.issue());
                }
                break;
              }
            }
            expect(issuer.activeCount).toBeLessThanOrEqual(limit);
            const active = receiver.active();
            expect(active.length).toBeLessThanOrEqual(limit);
            for (const c of active) expect(c.seq).toBeGreaterThanOrEqual(receiver.retirePriorTo);
            const current = receiver.current;
            if (current) {
              expect(active).toContain(current);
              // Every CID the receiver may use is one the issuer still accepts.
              expect(issuer.get(current.seq)?.cid).toEqual(current.cid);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('a peer that sends arbitrary NEW_CONNECTION_ID frames never pushes us past our limits', () => {
    const frameArb = fc.record({
      seq: fc.nat(12),
      rptDelta: fc.nat(4),
      cidN: fc.nat(15),
      tokenN: fc.nat(15),
    });
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 40 }),
        fc.integer({ min: 2, max: 4 }),
        (frames, limit) => {
          const p = make({ activeLimit: limit });
          for (const f of frames) {
            const rpt = Math.max(0, f.seq - f.rptDelta);
            try {
              p.onNewConnectionId(f.seq, rpt, cid(f.cidN), token(f.tokenN));
            } catch (err) {
              expect(err).toBeInstanceOf(TransportError);
              expect([
                TransportErrorCode.PROTOCOL_VIOLATION,
                TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
              ]).toContain((err as TransportError).code);
              return; // The connection closes.
            }
            expect(p.active().length).toBeLessThanOrEqual(limit);
            expect(p.pendingRetires).toBeLessThanOrEqual(2 * limit);
            drainRetires(p);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
