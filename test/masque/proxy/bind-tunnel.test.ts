/**
 * The bound tunnel (connect-udp-listen) without sockets: a fake session plays the client, fake
 * unconnected sockets play the peers, virtual time drives the timers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { LegacyCompressionCapsuleType } from '../../../src/masque/bind/wire.js';
import {
  type CompressionCapsule,
  CompressionCapsuleType,
  decodeCompressionCapsule,
  encodeCompressionValue,
} from '../../../src/masque/capsules/compression.js';
import { TargetPolicy } from '../../../src/masque/connect-udp/policy.js';
import { parseTargetRule } from '../../../src/masque/connect-udp/target-rule.js';
import { ipToBytes } from '../../../src/masque/payload/ip.js';
import {
  BindTunnel,
  type BindTunnelOptions,
  PeerPolicyCache,
  type TunnelCloseReason,
} from '../../../src/masque/proxy/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { concatBytes, fromHex } from '../../../src/wire/index.js';
import { FakeBoundSocket, FakeSession } from './fakes.js';

const {
  COMPRESSION_ASSIGN: ASSIGN,
  COMPRESSION_ACK: ACK,
  COMPRESSION_CLOSE: CLOSE,
} = CompressionCapsuleType;

const policy = new PeerPolicyCache(
  new TargetPolicy([parseTargetRule('192.0.2.66/32', 'deny')], { allowSpecial: true }),
);

function open(opts: Partial<BindTunnelOptions> & { noV6?: boolean } = {}) {
  const clock = new ManualClock(1_000);
  const session = new FakeSession([]);
  const v4 = new FakeBoundSocket(4, '0.0.0.0', 40_000);
  const v6 = opts.noV6 ? undefined : new FakeBoundSocket(6, '::', 40_001);
  const closes: TunnelCloseReason[] = [];
  const tunnel = new BindTunnel(
    session,
    { v4, v6 },
    {
      idleTimeoutMs: 120_000,
      queueLimit: 1024,
      capsuleBacklogBytes: 65_536,
      largeDatagrams: 'capsule',
      clock,
      maxContexts: 8,
      compressAfter: 0,
      maxUnackedAssigns: 2,
      wire: 'auto',
      responseBacklogBytes: 65_536,
      policy,
      onClose: (_t, reason) => closes.push(reason),
      ...opts,
    },
  );
  /** The client sends a compression capsule in the final form. */
  const capsule = (c: CompressionCapsule): void =>
    session.deliverCapsule(c.type, encodeCompressionValue(c));
  /** Capsules the proxy sent, decoded (final form). */
  const answers = (): CompressionCapsule[] =>
    session.capsules.map((c) => decodeCompressionCapsule(c.type, c.value));
  return { session, v4, v6: v6 as FakeBoundSocket, tunnel, closes, clock, capsule, answers };
}

const uncompressed = (id: number): CompressionCapsule => ({
  type: ASSIGN,
  contextId: id,
  ipVersion: 0,
});
const compressed = (id: number, ip: string, port: number): CompressionCapsule => {
  const address = ipToBytes(ip);
  return {
    type: ASSIGN,
    contextId: id,
    ipVersion: address.length === 4 ? 4 : 6,
    address,
    port,
  };
};
/** Context ID, then IP Version, IP Address, UDP Port and the payload (connect-udp-listen §4). */
function udg(id: number, ip: string, port: number, payload: number[]): Uint8Array {
  const a = ipToBytes(ip);
  return concatBytes(
    Uint8Array.of(id, a.length === 4 ? 4 : 6),
    a,
    Uint8Array.of(port >> 8, port & 0xff),
    Uint8Array.from(payload),
  );
}
const text = (b: Uint8Array): number[] => [...b];

describe('the uncompressed context', () => {
  it('is acknowledged, and carries datagrams to the peer each one names (§4)', () => {
    const { session, v4, v6, capsule, answers, tunnel } = open();
    capsule(uncompressed(2));
    expect(answers()).toEqual([{ type: ACK, contextId: 2 }]);
    session.deliver(udg(2, '198.51.100.7', 5000, [1, 2, 3]));
    session.deliver(udg(2, '2001:db8::7', 6000, [4]));
    expect(v4.sent.map((s) => [s.address, s.port, text(s.data)])).toEqual([
      ['198.51.100.7', 5000, [1, 2, 3]],
    ]);
    expect(v6.sent.map((s) => [s.address, s.port, text(s.data)])).toEqual([
      ['2001:db8::7', 6000, [4]],
    ]);
    expect(tunnel.counters.datagramsToTarget).toBe(2);
  });

  it('carries any peer back with its address and port', () => {
    const { session, v4, v6, capsule } = open();
    capsule(uncompressed(2));
    v4.receive(Uint8Array.of(9, 9), '203.0.113.5', 7000);
    v6.receive(Uint8Array.of(8), '2001:db8::5', 7001);
    expect(session.datagrams.map(text)).toEqual([
      text(udg(2, '203.0.113.5', 7000, [9, 9])),
      text(udg(2, '2001:db8::5', 7001, [8])),
    ]);
  });

  it('checks every destination and source against the policy, and counts what it drops', () => {
    const { session, v4, capsule, tunnel } = open();
    capsule(uncompressed(2));
    session.deliver(udg(2, '192.0.2.66', 53, [1]));
    session.deliver(udg(2, '192.0.2.67', 0, [1])); // port 0 is no destination
    v4.receive(Uint8Array.of(1), '192.0.2.66', 53);
    expect(v4.sent).toEqual([]);
    expect(session.datagrams).toEqual([]);
    expect(tunnel.counters.drops.get('destination_denied')).toBe(2);
    expect(tunnel.counters.drops.get('source_denied')).toBe(1);
  });

  it('drops malformed payloads (IP Version not 4 or 6, truncated) and goes on', () => {
    const { session, v4, capsule, tunnel } = open();
    capsule(uncompressed(2));
    session.deliver(fromHex('02 05 c0000201 0035 aa'));
    session.deliver(fromHex('02 04 c00002'));
    session.deliver(fromHex('02'));
    session.deliver(udg(2, '198.51.100.1', 53, [7]));
    expect(tunnel.counters.drops.get('malformed')).toBe(3);
    expect(v4.sent.length).toBe(1);
    expect(tunnel.isClosed).toBe(false);
  });

  it('a family without a socket: datagrams dropped, registrations refused', () => {
    const { session, capsule, answers, tunnel } = open({ noV6: true });
    capsule(uncompressed(2));
    session.deliver(udg(2, '2001:db8::1', 53, [1]));
    capsule(compressed(4, '2001:db8::1', 53));
    expect(tunnel.counters.drops.get('family_unavailable')).toBe(1);
    expect(answers()).toEqual([
      { type: ACK, contextId: 2 },
      { type: CLOSE, contextId: 4 },
    ]);
  });
});

describe('compressed contexts', () => {
  it('carry datagrams to and from their peer without the address (§5)', () => {
    const { session, v4, capsule, answers } = open();
    capsule(compressed(4, '198.51.100.9', 4444));
    expect(answers()).toEqual([{ type: ACK, contextId: 4 }]);
    session.deliver(fromHex('04 aabb'));
    expect(v4.sent.map((s) => [s.address, s.port, text(s.data)])).toEqual([
      ['198.51.100.9', 4444, [0xaa, 0xbb]],
    ]);
    v4.receive(Uint8Array.of(0xcc), '198.51.100.9', 4444);
    expect(session.datagrams.map(text)).toEqual([[4, 0xcc]]);
  });

  it('a registration to a denied peer is answered with COMPRESSION_CLOSE', () => {
    const { capsule, answers } = open();
    capsule(compressed(4, '192.0.2.66', 53));
    expect(answers()).toEqual([{ type: CLOSE, contextId: 4 }]);
  });

  it('datagrams on a closed context are discarded silently; unknown ones dropped', () => {
    const { session, v4, capsule, tunnel } = open();
    capsule(compressed(4, '198.51.100.9', 4444));
    capsule({ type: CLOSE, contextId: 4 });
    session.deliver(fromHex('04 aa'));
    session.deliver(fromHex('06 aa'));
    expect(v4.sent).toEqual([]);
    expect(tunnel.counters.drops.get('closed_context')).toBe(1);
    expect(tunnel.counters.drops.get('unknown_context')).toBe(1);
    expect(tunnel.isClosed).toBe(false);
  });
});

describe('the firewall property (§6.1)', () => {
  it('without the uncompressed context, only peers with a compressed context get through', () => {
    const { session, v4, capsule, tunnel } = open();
    capsule(compressed(4, '198.51.100.9', 4444));
    v4.receive(Uint8Array.of(1), '198.51.100.10', 4444); // unknown sender
    v4.receive(Uint8Array.of(2), '198.51.100.9', 4444);
    expect(session.datagrams.map(text)).toEqual([[4, 2]]);
    expect(tunnel.counters.drops.get('no_context')).toBe(1);
  });

  it('closing the uncompressed context shuts unknown senders out again', () => {
    const { session, v4, capsule, tunnel } = open({ compressAfter: 1 });
    capsule(uncompressed(2));
    capsule({ type: CLOSE, contextId: 2 });
    v4.receive(Uint8Array.of(1), '198.51.100.10', 4444);
    expect(session.datagrams).toEqual([]);
    expect(session.capsules.length).toBe(1); // the ACK only: no context of ours was opened
    expect(tunnel.counters.drops.get('no_context')).toBe(1);
  });
});

describe('Context ID 0', () => {
  it('with */* aborts the stream (§2 MUST abort)', () => {
    const { session, closes, v4 } = open();
    session.deliver(fromHex('00 aa'));
    expect(session.ended).toBe(H3ErrorCode.H3_DATAGRAM_ERROR);
    expect(closes).toEqual(['protocol_error']);
    expect(v4.closeCalls).toBe(1);
  });

  it("with a real target keeps RFC 9298's meaning, both ways", () => {
    const fallback = { address: '198.51.100.53', family: 4 as const, port: 53 };
    const { session, v4, capsule, answers } = open({ fallback });
    session.deliver(fromHex('00 aa'));
    expect(v4.sent.map((s) => [s.address, s.port, text(s.data)])).toEqual([
      ['198.51.100.53', 53, [0xaa]],
    ]);
    capsule(uncompressed(2));
    v4.receive(Uint8Array.of(0xbb), '198.51.100.53', 53);
    expect(session.datagrams.map(text)).toEqual([[0, 0xbb]]);
    // The target's tuple is Context ID 0's: a compressed context for it is refused.
    capsule(compressed(4, '198.51.100.53', 53));
    expect(answers().at(-1)).toEqual({ type: CLOSE, contextId: 4 });
  });
});

describe('malformed capsules end the tunnel with H3_DATAGRAM_ERROR (RFC 9297 §3.3)', () => {
  const cases: Array<[string, CompressionCapsule[]]> = [
    ['an odd Context ID from the client', [uncompressed(3)]],
    ['the same ID twice', [uncompressed(2), compressed(2, '198.51.100.1', 1)]],
    ['a second uncompressed context', [uncompressed(2), uncompressed(4)]],
    ['the same tuple twice', [compressed(2, '198.51.100.1', 1), compressed(4, '198.51.100.1', 1)]],
    ['an ACK for an ID we did not assign', [{ type: ACK, contextId: 5 }]],
  ];
  for (const [name, capsules] of cases) {
    it(name, () => {
      const { session, capsule, closes, v4 } = open();
      for (const c of capsules) capsule(c);
      expect(session.ended).toBe(H3ErrorCode.H3_DATAGRAM_ERROR);
      expect(closes).toEqual(['protocol_error']);
      expect(v4.closeCalls).toBe(1);
    });
  }

  it('a value that does not parse (trailing bytes)', () => {
    const { session } = open();
    session.deliverCapsule(ASSIGN, fromHex('02 00 ff'));
    expect(session.ended).toBe(H3ErrorCode.H3_DATAGRAM_ERROR);
  });
});

describe('proxy-side compression', () => {
  it('assigns an odd context to a peer heard often, and uses it once acknowledged', () => {
    const { session, v4, capsule, answers } = open({ compressAfter: 3 });
    capsule(uncompressed(2));
    for (let i = 0; i < 3; i++) v4.receive(Uint8Array.of(i), '198.51.100.20', 9000);
    const assign = answers().at(-1);
    expect(assign).toEqual(compressed(1, '198.51.100.20', 9000));
    v4.receive(Uint8Array.of(3), '198.51.100.20', 9000); // not acknowledged yet: uncompressed
    capsule({ type: ACK, contextId: 1 });
    v4.receive(Uint8Array.of(4), '198.51.100.20', 9000);
    expect(session.datagrams.map(text).slice(-2)).toEqual([
      text(udg(2, '198.51.100.20', 9000, [3])),
      [1, 4],
    ]);
    session.deliver(fromHex('01 77'));
    expect(v4.sent.at(-1)).toMatchObject({ address: '198.51.100.20', port: 9000 });
  });

  it('is off with compressAfter 0, and bounded by the unacknowledged limit', () => {
    const off = open({ compressAfter: 0 });
    off.capsule(uncompressed(2));
    for (let i = 0; i < 50; i++) off.v4.receive(Uint8Array.of(i), '198.51.100.20', 9000);
    expect(off.session.capsules.length).toBe(1);

    const capped = open({ compressAfter: 1, maxUnackedAssigns: 2 });
    capped.capsule(uncompressed(2));
    for (let p = 1; p <= 5; p++) capped.v4.receive(Uint8Array.of(0), '198.51.100.20', p);
    expect(capped.answers().filter((c) => c.type === ASSIGN).length).toBe(2);
  });

  it('a client that closes our context gets its datagrams on the uncompressed one again', () => {
    const { session, v4, capsule } = open({ compressAfter: 1 });
    capsule(uncompressed(2));
    v4.receive(Uint8Array.of(0), '198.51.100.20', 9000);
    capsule({ type: CLOSE, contextId: 1 });
    v4.receive(Uint8Array.of(5), '198.51.100.20', 9000);
    expect(session.datagrams.map(text).at(-1)).toEqual(text(udg(2, '198.51.100.20', 9000, [5])));
  });
});

describe('the legacy wire form (before -10)', () => {
  const legacy = (c: CompressionCapsule): [number, Uint8Array] => [
    c.type === CLOSE
      ? LegacyCompressionCapsuleType.COMPRESSION_CLOSE
      : LegacyCompressionCapsuleType.COMPRESSION_ASSIGN,
    encodeCompressionValue(c),
  ];

  it('acknowledges by echoing the ASSIGN, and assigns and closes with the legacy types', () => {
    const { session, v4 } = open({ compressAfter: 1, wire: 'auto' });
    session.deliverCapsule(...legacy(uncompressed(2)));
    expect(session.capsules[0].type).toBe(LegacyCompressionCapsuleType.COMPRESSION_ASSIGN);
    expect(text(session.capsules[0].value)).toEqual(text(encodeCompressionValue(uncompressed(2))));
    v4.receive(Uint8Array.of(0), '198.51.100.20', 9000);
    expect(session.capsules[1].type).toBe(LegacyCompressionCapsuleType.COMPRESSION_ASSIGN);
    // The client echoes our ASSIGN: that is its acknowledgement.
    session.deliverCapsule(
      LegacyCompressionCapsuleType.COMPRESSION_ASSIGN,
      session.capsules[1].value,
    );
    v4.receive(Uint8Array.of(6), '198.51.100.20', 9000);
    expect(session.datagrams.map(text).at(-1)).toEqual([1, 6]);
    session.deliverCapsule(...legacy({ type: CLOSE, contextId: 2 }));
    v4.receive(Uint8Array.of(7), '198.51.100.21', 9000);
    expect(session.datagrams.length).toBe(2);
  });

  it("a proxy set to 'final' ignores the legacy codepoints", () => {
    const { session } = open({ wire: 'final' });
    session.deliverCapsule(...legacy(uncompressed(2)));
    expect(session.capsules).toEqual([]);
  });
});

describe('limits and lifetime', () => {
  it('answers that cannot leave abort the stream with H3_EXCESSIVE_LOAD (§7)', () => {
    const { session, capsule, closes } = open({ responseBacklogBytes: 100 });
    session.bufferedAmount = 101;
    capsule(uncompressed(2));
    expect(session.ended).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
    expect(closes).toEqual(['overload']);
  });

  it('past maxContexts, registrations are refused with COMPRESSION_CLOSE', () => {
    const { capsule, answers } = open({ maxContexts: 2 });
    capsule(uncompressed(2));
    capsule(compressed(4, '198.51.100.1', 1));
    capsule(compressed(6, '198.51.100.2', 1));
    expect(answers().map((c) => c.type)).toEqual([ACK, ACK, CLOSE]);
  });

  it('idles out with a FIN and closes both sockets once', async () => {
    const { session, v4, v6, clock, closes } = open({ idleTimeoutMs: 1000 });
    clock.advance(1000);
    expect(session.ended).toBe('fin');
    session.finish({ kind: 'end' });
    await Promise.resolve();
    expect(closes).toEqual(['idle']);
    expect([v4.closeCalls, v6.closeCalls]).toEqual([1, 1]);
  });

  it('arbitrary datagrams and capsules never throw', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 40 }).map((d) => ({ kind: 'dgram' as const, d })),
            fc
              .record({
                type: fc.constantFrom(
                  ASSIGN,
                  ACK,
                  CLOSE,
                  LegacyCompressionCapsuleType.COMPRESSION_ASSIGN,
                ),
                value: fc.uint8Array({ maxLength: 24 }),
              })
              .map((c) => ({ kind: 'capsule' as const, ...c })),
          ),
          { maxLength: 20 },
        ),
        (events) => {
          const { session, v4 } = open({ compressAfter: 1 });
          for (const e of events) {
            if (e.kind === 'dgram') session.deliver(e.d);
            else session.deliverCapsule(e.type, e.value);
            v4.receive(Uint8Array.of(1), '198.51.100.20', 9000);
          }
        },
      ),
    );
  });
});

describe('a failure of ours', () => {
  it('costs only its tunnel: reset with H3_INTERNAL_ERROR, sockets closed', () => {
    const { session, closes, v4, tunnel } = open();
    // Break the tunnel's capsule path from inside (a stand-in for a bug).
    Object.defineProperty(session, 'bufferedAmount', {
      get() {
        throw new Error('boom');
      },
    });
    session.deliverCapsule(ASSIGN, encodeCompressionValue(uncompressed(2)));
    expect(session.ended).toBe(H3ErrorCode.H3_INTERNAL_ERROR);
    expect(closes).toEqual(['internal_error']);
    expect(v4.closeCalls).toBe(1);
    expect(tunnel.isClosed).toBe(true);
  });
});
