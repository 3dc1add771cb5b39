/**
 * The client's Context ID table of a bound tunnel (connect-udp-listen §3, §4, §5, §8.1): every
 * MUST of the client's role, without sockets, and a property: arbitrary capsule sequences from the
 * proxy either throw a CapsuleError or keep the table's invariants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../../src/capsule/errors.js';
import {
  type BindPeer,
  ClientBindContexts,
  type ClientBindContextsOptions,
} from '../../../src/masque/bind/client-contexts.js';
import {
  type CompressionCapsule,
  CompressionCapsuleType as T,
} from '../../../src/masque/capsules/compression.js';
import { ipToBytes } from '../../../src/masque/payload/ip.js';

const uncompressed = (contextId: number): CompressionCapsule => ({
  type: T.COMPRESSION_ASSIGN,
  contextId,
  ipVersion: 0,
});
const compressed = (contextId: number, address: string, port: number): CompressionCapsule => {
  const bytes = ipToBytes(address);
  return {
    type: T.COMPRESSION_ASSIGN,
    contextId,
    ipVersion: bytes.length === 4 ? 4 : 6,
    address: bytes,
    port,
  };
};
const ack = (contextId: number): CompressionCapsule => ({ type: T.COMPRESSION_ACK, contextId });
const close = (contextId: number): CompressionCapsule => ({ type: T.COMPRESSION_CLOSE, contextId });
const peer = (address: string, port: number): BindPeer => ({ address, port });
const A = peer('192.0.2.1', 53);
const B = peer('2001:db8::1', 443);

function table(opts: Partial<ClientBindContextsOptions> = {}): ClientBindContexts {
  return new ClientBindContexts({ maxContexts: 8, compressAfter: 0, retryAfterMs: 1000, ...opts });
}

/** A table with its uncompressed context (ID 2) acknowledged. */
function opened(opts: Partial<ClientBindContextsOptions> = {}): ClientBindContexts {
  const t = table(opts);
  expect(t.openUncompressed()).toEqual(uncompressed(2));
  expect(t.receive(ack(2), 0)).toEqual([]);
  return t;
}

describe('our registrations', () => {
  it('opens the uncompressed context with an even ID and IP Version 0, once (§4)', () => {
    const t = table();
    expect(t.outbound(A)).toEqual({ kind: 'none', reason: 'no_context' });
    expect(t.openUncompressed()).toEqual(uncompressed(2));
    // "A client MUST NOT open an uncompressed Context ID if one is already open."
    expect(t.openUncompressed()).toBeUndefined();
    // Before its ACK it is used anyway (nothing else can carry the datagram, §3.1 MAY).
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
    t.receive(ack(2), 0);
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
    // Closed, it may be reopened with a new ID.
    expect(t.closeUncompressed()).toEqual([close(2)]);
    expect(t.outbound(A)).toEqual({ kind: 'none', reason: 'no_context' });
    expect(t.openUncompressed()).toEqual(uncompressed(4));
  });

  it('allocates even IDs 2, 4, 6 ... and never one twice (RFC 9298 §4, §3.1)', () => {
    const t = opened();
    const ids = [peer('192.0.2.1', 1), peer('192.0.2.1', 2), B].map(
      (p) => t.register(p)?.contextId,
    );
    expect(ids).toEqual([4, 6, 8]);
    t.close(4);
    expect(t.register(peer('192.0.2.1', 1))?.contextId).toBe(10);
  });

  it('a compressed context carries datagrams only once acknowledged; until then the uncompressed one (§3.1)', () => {
    const t = opened();
    const a = t.register(A);
    expect(a).toMatchObject({ type: T.COMPRESSION_ASSIGN, contextId: 4, ipVersion: 4, port: 53 });
    expect([...(a?.address ?? [])]).toEqual([192, 0, 2, 1]);
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
    t.receive(ack(4), 0);
    expect(t.outbound(A)).toEqual({ kind: 'compressed', contextId: 4 });
    expect(t.inbound(4)).toEqual({ kind: 'compressed', peer: A });
  });

  it('registers no tuple twice (§3.1 "MUST NOT register a Context ID for a tuple ... existing")', () => {
    const t = opened();
    expect(t.register(A)?.contextId).toBe(4);
    expect(t.register(A)).toBeUndefined(); // awaiting its ACK
    t.receive(ack(4), 0);
    expect(t.register(A)).toBeUndefined();
    expect(t.receive(compressed(1, '2001:db8::1', 443), 0)).toEqual([ack(1)]);
    expect(t.register(B)).toBeUndefined(); // the proxy's
  });

  it('a refused registration falls back to the uncompressed context and is not retried for retryAfterMs', () => {
    const t = opened({ compressAfter: 2, retryAfterMs: 1000 });
    expect(t.noteTraffic(A, 0)).toBeUndefined();
    expect(t.noteTraffic(A, 0)?.contextId).toBe(4);
    expect(t.receive(close(4), 100)).toEqual([]);
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
    expect(t.inbound(4)).toEqual({ kind: 'closed' });
    for (let i = 0; i < 10; i++) expect(t.noteTraffic(A, 500)).toBeUndefined();
    // After the pause, counting starts over.
    expect(t.noteTraffic(A, 1100)).toBeUndefined();
    expect(t.noteTraffic(A, 1100)?.contextId).toBe(6);
    // An explicit registration does not wait.
    t.receive(close(6), 1200);
    expect(t.register(A)?.contextId).toBe(8);
  });

  it('automatic registration after compressAfter datagrams; 0 turns it off', () => {
    const t = opened({ compressAfter: 3 });
    expect(t.noteTraffic(A, 0)).toBeUndefined();
    expect(t.noteTraffic(B, 0)).toBeUndefined();
    expect(t.noteTraffic(A, 0)).toBeUndefined();
    expect(t.noteTraffic(A, 0)).toMatchObject({ contextId: 4, port: 53 });
    expect(t.noteTraffic(A, 0)).toBeUndefined(); // has one now
    const off = opened({ compressAfter: 0 });
    for (let i = 0; i < 100; i++) expect(off.noteTraffic(A, 0)).toBeUndefined();
  });

  it('an ACK for an ID we did not register is malformed; one crossing our CLOSE is not (§3.2)', () => {
    const t = opened();
    expect(() => t.receive(ack(6), 0)).toThrow(/did not assign/);
    expect(() => t.receive(ack(3), 0)).toThrow(CapsuleError);
    // RFC 9297 §3.3: a malformed capsule aborts the stream with H3_DATAGRAM_ERROR.
    expect(() => t.receive(ack(6), 0)).toThrow(expect.objectContaining({ code: 0x33 }));
    t.register(A);
    expect(t.close(4)).toEqual([close(4)]);
    expect(t.receive(ack(4), 0)).toEqual([]);
    expect(t.inbound(4)).toEqual({ kind: 'closed' });
  });

  it('a CLOSE of Context ID 0 is malformed; of an unknown or closed ID changes nothing (§3.3)', () => {
    const t = opened();
    expect(() => t.receive(close(0), 0)).toThrow(/Context ID 0/);
    expect(t.receive(close(99), 0)).toEqual([]);
    expect(t.close(99)).toEqual([]);
  });

  it('the proxy closing the uncompressed context leaves only compressed ones (§8.1)', () => {
    const t = opened();
    t.register(A);
    t.receive(ack(4), 0);
    t.receive(close(2), 0);
    expect(t.uncompressedOpen).toBe(false);
    expect(t.outbound(A)).toEqual({ kind: 'compressed', contextId: 4 });
    expect(t.outbound(B)).toEqual({ kind: 'none', reason: 'no_context' });
    expect(t.inbound(2)).toEqual({ kind: 'closed' });
  });

  it('the limit on contexts counts ours awaiting an answer and the proxy’s (§9)', () => {
    const t = opened({ maxContexts: 2 });
    expect(t.register(A)?.contextId).toBe(4);
    expect(t.register(B)).toBeUndefined();
    expect(t.receive(compressed(1, '2001:db8::1', 443), 0)).toEqual([close(1)]);
    t.close(4);
    expect(t.receive(compressed(3, '2001:db8::1', 443), 0)).toEqual([ack(3)]);
  });

  it('registers nothing and sends nothing for a family the proxy did not offer (§7 SHOULD NOT)', () => {
    const t = opened({ families: [4], compressAfter: 1 });
    expect(t.register(B)).toBeUndefined();
    expect(t.noteTraffic(B, 0)).toBeUndefined();
    expect(t.outbound(B)).toEqual({ kind: 'none', reason: 'family' });
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
  });
});

describe("the proxy's registrations", () => {
  it('are acknowledged and usable both ways at once (§3.1)', () => {
    const t = opened();
    expect(t.receive(compressed(1, '192.0.2.1', 53), 0)).toEqual([ack(1)]);
    expect(t.inbound(1)).toEqual({ kind: 'compressed', peer: A });
    expect(t.outbound(A)).toEqual({ kind: 'compressed', contextId: 1 });
    expect(t.contextOf(A)).toMatchObject({ id: 1, owner: 'proxy', acked: true });
    // We may close it; the peer goes back to the uncompressed context.
    expect(t.close(1)).toEqual([close(1)]);
    expect(t.outbound(A)).toEqual({ kind: 'uncompressed', contextId: 2 });
  });

  it('an even Context ID from the proxy is malformed (RFC 9298 §4)', () => {
    expect(() => opened().receive(compressed(4, '192.0.2.1', 53), 0)).toThrow(/not odd/);
  });

  it('IP Version 0 from the proxy is malformed (§4 "MUST treat it as malformed")', () => {
    expect(() => opened().receive(uncompressed(1), 0)).toThrow(/uncompressed/);
  });

  it('an ID assigned twice is malformed, even after it closed (§3.1, §3.3)', () => {
    const t = opened();
    t.receive(compressed(1, '192.0.2.1', 53), 0);
    expect(() => t.receive(compressed(1, '192.0.2.2', 53), 0)).toThrow(/assigned twice/);
    t.receive(close(1), 0);
    expect(() => t.receive(compressed(1, '192.0.2.3', 53), 0)).toThrow(/assigned twice/);
    // A refused one is spent too.
    const full = opened({ maxContexts: 1 });
    expect(full.receive(compressed(5, '192.0.2.1', 53), 0)).toEqual([close(5)]);
    expect(() => full.receive(compressed(5, '192.0.2.1', 53), 0)).toThrow(/assigned twice/);
  });

  it('the same tuple twice from the proxy is malformed (§3.1)', () => {
    const t = opened();
    t.receive(compressed(1, '192.0.2.1', 53), 0);
    expect(() => t.receive(compressed(3, '192.0.2.1', 53), 0)).toThrow(/already has Context ID 1/);
  });

  it("a crossing registration closes the proxy's context and keeps ours (§3.1)", () => {
    const t = opened();
    expect(t.register(A)?.contextId).toBe(4);
    // What our proxy sends on a crossing: its ASSIGN (sent before it saw ours), then CLOSE, ACK.
    expect(t.receive(compressed(1, '192.0.2.1', 53), 0)).toEqual([close(1)]);
    expect(t.receive(close(1), 0)).toEqual([]);
    expect(t.receive(ack(4), 0)).toEqual([]);
    expect(t.outbound(A)).toEqual({ kind: 'compressed', contextId: 4 });
    expect(t.inbound(1)).toEqual({ kind: 'closed' });
  });

  it('are refused while we have no uncompressed context (§3.1, §8.1 the firewall)', () => {
    const never = table();
    expect(never.receive(compressed(1, '192.0.2.1', 53), 0)).toEqual([close(1)]);
    const closed = opened();
    closed.closeUncompressed();
    // It may have crossed our CLOSE: refused, not malformed.
    expect(closed.receive(compressed(1, '192.0.2.1', 53), 0)).toEqual([close(1)]);
    expect(closed.inbound(1)).toEqual({ kind: 'closed' });
  });

  it('are refused for the fallback target, which has Context ID 0 (§3.1 one per tuple)', () => {
    const t = opened({ fallback: A });
    expect(t.receive(compressed(1, '192.0.2.1', 53), 0)).toEqual([close(1)]);
  });
});

describe('datagram routes', () => {
  it('Context ID 0: the fallback target with one, abort without (§3)', () => {
    expect(opened().inbound(0)).toEqual({ kind: 'abort' });
    const t = opened({ fallback: A, compressAfter: 1 });
    expect(t.inbound(0)).toEqual({ kind: 'fallback' });
    expect(t.outbound(A)).toEqual({ kind: 'fallback', contextId: 0 });
    expect(t.register(A)).toBeUndefined();
    expect(t.noteTraffic(A, 0)).toBeUndefined();
  });

  it('closed contexts are discarded silently, never-assigned ones dropped (§3.3, RFC 9298 §4)', () => {
    const t = opened();
    t.register(A);
    expect(t.inbound(4)).toEqual({ kind: 'compressed', peer: A }); // before its ACK too
    t.receive(close(4), 0);
    expect(t.inbound(4)).toEqual({ kind: 'closed' });
    expect(t.inbound(2)).toEqual({ kind: 'uncompressed' });
    expect(t.inbound(7)).toEqual({ kind: 'unknown' });
  });

  it('firewall mode: without the uncompressed context only registered peers have a route', () => {
    const t = table();
    t.register(A);
    // Awaiting its ACK, and nothing else can carry it: used early (§3.1 MAY).
    expect(t.outbound(A)).toEqual({ kind: 'compressed', contextId: 2 });
    expect(t.outbound(B)).toEqual({ kind: 'none', reason: 'no_context' });
  });
});

describe('robustness', () => {
  const capsule = fc.oneof(
    fc.record({
      type: fc.constant(T.COMPRESSION_ASSIGN),
      contextId: fc.integer({ min: 0, max: 20 }),
      ipVersion: fc.constant(0 as const),
    }),
    fc.record({
      type: fc.constant(T.COMPRESSION_ASSIGN),
      contextId: fc.integer({ min: 0, max: 20 }),
      ipVersion: fc.constant(4 as const),
      address: fc.constantFrom(Uint8Array.of(192, 0, 2, 1), Uint8Array.of(192, 0, 2, 2)),
      port: fc.constantFrom(53, 443),
    }),
    fc.record({
      type: fc.constantFrom(T.COMPRESSION_ACK, T.COMPRESSION_CLOSE),
      contextId: fc.integer({ min: 0, max: 20 }),
    }),
  ) as fc.Arbitrary<CompressionCapsule>;
  const op = fc.oneof(
    capsule.map((c) => ({ kind: 'capsule' as const, c })),
    fc.record({ kind: fc.constant('register' as const), port: fc.constantFrom(53, 443, 80) }),
    fc.record({ kind: fc.constant('traffic' as const), port: fc.constantFrom(53, 443, 80) }),
    fc.record({ kind: fc.constant('close' as const), id: fc.integer({ min: 1, max: 20 }) }),
    fc.constant({ kind: 'uncompressed' as const }),
    fc.constant({ kind: 'firewall' as const }),
  );

  const some = (c: CompressionCapsule | undefined): CompressionCapsule[] => (c ? [c] : []);

  it('any sequence either throws CapsuleError or keeps the invariants', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const t = table({ maxContexts: 4, compressAfter: 2 });
        const sent = new Set<number>();
        for (const [i, o] of ops.entries()) {
          let out: CompressionCapsule[] = [];
          try {
            if (o.kind === 'capsule') out = t.receive(o.c, i);
            else if (o.kind === 'register') out = some(t.register(peer('192.0.2.1', o.port)));
            else if (o.kind === 'traffic') out = some(t.noteTraffic(peer('192.0.2.2', o.port), i));
            else if (o.kind === 'close') out = t.close(o.id);
            else if (o.kind === 'uncompressed') out = some(t.openUncompressed());
            else out = t.closeUncompressed();
          } catch (err) {
            expect(err).toBeInstanceOf(CapsuleError);
            return;
          }
          for (const c of out) {
            // Our ASSIGNs: even, never repeated, IP Version 0 only while none is open.
            if (c.type === T.COMPRESSION_ASSIGN) {
              expect(c.contextId % 2).toBe(0);
              expect(sent.has(c.contextId)).toBe(false);
              sent.add(c.contextId);
            }
            expect(c.contextId).toBeGreaterThan(0);
          }
          const all = t.contexts();
          expect(all.length).toBeLessThanOrEqual(4);
          expect(all.filter((c) => c.peer === undefined).length).toBeLessThanOrEqual(1);
          const tuples = all.flatMap((c) => (c.peer ? [`${c.peer.address}|${c.peer.port}`] : []));
          expect(new Set(tuples).size).toBe(tuples.length);
          for (const c of all) expect(c.id % 2).toBe(c.owner === 'client' ? 0 : 1);
        }
      }),
    );
  });
});
