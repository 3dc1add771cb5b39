import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleType } from '../../../src/capsule/index.js';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import {
  type TunnelCloseReason,
  type TunnelOptions,
  UdpTunnel,
} from '../../../src/masque/proxy/index.js';
import { ManualClock } from '../../../src/util/clock.js';
import { fromHex } from '../../../src/wire/index.js';
import { FakeSession, FakeSocket } from './fakes.js';

const target = { address: '192.0.2.1', family: 4 as const, port: 53 };

function open(opts: Partial<TunnelOptions> = {}): {
  session: FakeSession;
  socket: FakeSocket;
  tunnel: UdpTunnel;
  closes: TunnelCloseReason[];
  clock: ManualClock;
} {
  const clock = new ManualClock(1_000);
  const session = new FakeSession([]);
  const socket = new FakeSocket(target);
  const closes: TunnelCloseReason[] = [];
  const tunnel = new UdpTunnel(session, socket, target, {
    idleTimeoutMs: 120_000,
    queueLimit: 1024,
    capsuleBacklogBytes: 65_536,
    largeDatagrams: 'capsule',
    clock,
    onClose: (_t, reason) => closes.push(reason),
    ...opts,
  });
  return { session, socket, tunnel, closes, clock };
}

describe('client → target', () => {
  it('a Context ID 0 datagram becomes one UDP payload to the target', () => {
    const { session, socket, tunnel } = open();
    session.deliver(fromHex('00 68656c6c6f'));
    expect(socket.sent).toEqual([new TextEncoder().encode('hello')]);
    expect(tunnel.counters.datagramsToTarget).toBe(1);
    expect(tunnel.counters.bytesToTarget).toBe(5);
  });

  it('copies the payload: the session may reuse its buffer after the callback', () => {
    const { session, socket } = open();
    const buf = fromHex('00 010203');
    session.deliver(buf);
    buf.fill(0xff);
    expect([...socket.sent[0]]).toEqual([1, 2, 3]);
  });

  it('an empty UDP payload is forwarded (RFC 9298 §5: "this field can be empty")', () => {
    const { session, socket } = open();
    session.deliver(fromHex('00'));
    expect(socket.sent).toEqual([new Uint8Array(0)]);
  });

  it('a non-minimal encoding of Context ID 0 is still Context ID 0', () => {
    const { session, socket } = open();
    session.deliver(fromHex('4000 aa'));
    session.deliver(fromHex('80000000 bb'));
    expect(socket.sent.map((b) => [...b])).toEqual([[0xaa], [0xbb]]);
  });

  it('an unknown Context ID is dropped and counted (RFC 9298 §4 MUST drop)', () => {
    const { session, socket, tunnel } = open();
    session.deliver(fromHex('02 aa'));
    session.deliver(fromHex('4001 aa'));
    expect(socket.sent).toEqual([]);
    expect(tunnel.counters.drops.get('unknown_context')).toBe(2);
  });

  it('a datagram without a complete Context ID is dropped as malformed or unknown', () => {
    const { session, socket, tunnel } = open();
    session.deliver(new Uint8Array(0));
    session.deliver(fromHex('40')); // 2-byte varint cut short
    expect(socket.sent).toEqual([]);
    expect(tunnel.counters.drops.get('malformed')).toBe(1);
    expect(tunnel.counters.drops.get('unknown_context')).toBe(1);
  });

  it('a UDP payload over 65527 bytes aborts the stream (RFC 9298 §5 MUST abort)', () => {
    const { session, socket, tunnel, closes } = open();
    const big = new Uint8Array(1 + 65_528);
    session.deliver(big);
    expect(socket.sent).toEqual([]);
    expect(session.ended).toBe(H3ErrorCode.H3_DATAGRAM_ERROR);
    expect(socket.closeCalls).toBe(1);
    expect(closes).toEqual(['protocol_error']);
    expect(tunnel.counters.drops.get('too_large')).toBe(1);
  });

  it('65527 bytes is still a legal UDP payload', () => {
    const { session, socket } = open();
    session.deliver(new Uint8Array(1 + 65_527));
    expect(socket.sent[0].length).toBe(65_527);
  });

  it('beyond the queue limit of unsent datagrams, more are dropped (bounded queue)', async () => {
    const { session, socket, tunnel } = open({ queueLimit: 3 });
    socket.holdSends = true;
    for (let i = 0; i < 5; i++) session.deliver(fromHex('00 01'));
    expect(socket.sent.length).toBe(3);
    expect(tunnel.counters.drops.get('queue_full')).toBe(2);
    for (const done of socket.held.splice(0)) done(null);
    session.deliver(fromHex('00 02'));
    expect(socket.sent.length).toBe(4);
    expect(tunnel.pending).toBe(1);
  });

  it('a send refused by the OS is counted; ECONNREFUSED closes the tunnel', () => {
    const { session, socket, tunnel, closes } = open();
    socket.holdSends = true;
    session.deliver(fromHex('00 01'));
    session.deliver(fromHex('00 02'));
    socket.held[0](Object.assign(new Error('EMSGSIZE'), { code: 'EMSGSIZE' }));
    expect(tunnel.counters.drops.get('send_error')).toBe(1);
    expect(tunnel.isClosed).toBe(false);
    socket.held[1](Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(closes).toEqual(['socket_error']);
    expect(session.ended).toBe(H3ErrorCode.H3_CONNECT_ERROR);
  });

  it('a datagram the socket sends at once takes no queue slot; its failure counts the same', () => {
    const { session, socket, tunnel, closes } = open({ queueLimit: 1 });
    socket.sendsAtOnce = true;
    for (let i = 0; i < 3; i++) session.deliver(fromHex(`4000 0${i}`)); // a 2-byte Context ID 0
    expect(socket.sent.map((b) => [...b])).toEqual([[0], [1], [2]]);
    expect(tunnel.pending).toBe(0);
    expect(tunnel.counters.drops.size).toBe(0);
    expect(tunnel.counters.datagramsToTarget).toBe(3);
    socket.sendsAtOnce = Object.assign(new Error('EMSGSIZE'), { code: 'EMSGSIZE' });
    session.deliver(fromHex('00 01'));
    expect(tunnel.counters.drops.get('send_error')).toBe(1);
    expect(tunnel.pending).toBe(0);
    socket.sendsAtOnce = Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' });
    session.deliver(fromHex('00 02'));
    expect(closes).toEqual(['socket_error']);
  });

  it('decoding arbitrary datagrams never throws and forwards exactly the Context ID 0 ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const { session, socket, tunnel } = open();
        session.deliver(bytes);
        const forwarded = socket.sent.length;
        const dropped = [...tunnel.counters.drops.values()].reduce((a, b) => a + b, 0);
        expect(forwarded + dropped).toBe(1);
        if (forwarded === 1) {
          const len = bytes.length === 0 ? 0 : 1 << (bytes[0] >> 6);
          const zero = bytes
            .subarray(0, len)
            .every((b, i) => (i === 0 ? (b & 0x3f) === 0 : b === 0));
          expect(zero).toBe(true);
          expect([...socket.sent[0]]).toEqual([...bytes.subarray(len)]);
        }
        tunnel.close('shutdown');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('target → client', () => {
  it('a UDP payload becomes a Context ID 0 HTTP datagram', () => {
    const { session, socket, tunnel } = open();
    socket.receive(fromHex('cafe'));
    expect(session.datagrams.map((d) => [...d])).toEqual([[0x00, 0xca, 0xfe]]);
    expect(tunnel.counters.datagramsToClient).toBe(1);
    expect(tunnel.counters.bytesToClient).toBe(2);
  });

  it('a payload too large for a QUIC DATAGRAM frame goes in a DATAGRAM capsule', () => {
    const { session, socket, tunnel } = open();
    session.maxDatagram = 100;
    socket.receive(new Uint8Array(150).fill(7));
    expect(tunnel.counters.capsuleFallbacks).toBe(1);
    // Known too large beforehand: no error is built per datagram.
    expect(session.tooLargeThrown).toBe(0);
    expect(session.datagrams).toEqual([]);
    expect(session.capsules.length).toBe(1);
    expect(session.capsules[0].type).toBe(CapsuleType.DATAGRAM);
    expect(session.capsules[0].value.length).toBe(151);
    expect(session.capsules[0].value[0]).toBe(0);
  });

  it("with largeDatagrams 'drop' (RFC 9298 §6.1 SHOULD NOT fall back) it is dropped", () => {
    const { session, socket, tunnel } = open({ largeDatagrams: 'drop' });
    session.maxDatagram = 100;
    socket.receive(new Uint8Array(150));
    expect(session.capsules).toEqual([]);
    expect(tunnel.counters.drops.get('too_large')).toBe(1);
  });

  it('without the Capsule Protocol a too-large payload can only be dropped', () => {
    const { session, socket, tunnel } = open();
    session.capsuleMode = false;
    session.maxDatagram = 100;
    socket.receive(new Uint8Array(150));
    expect(session.capsules).toEqual([]);
    expect(tunnel.counters.drops.get('too_large')).toBe(1);
  });

  it('a full DATAGRAM queue drops and counts (unreliable, as UDP is)', () => {
    const { session, socket, tunnel } = open();
    session.datagramQueueOpen = false;
    socket.receive(fromHex('01'));
    expect(tunnel.counters.drops.get('datagram_queue_full')).toBe(1);
    expect(tunnel.counters.datagramsToClient).toBe(0);
  });

  it('a stream backlog above the cap drops instead of queueing capsules', () => {
    const { session, socket, tunnel } = open({ capsuleBacklogBytes: 1000 });
    session.bufferedAmount = 1001;
    socket.receive(fromHex('01'));
    expect(session.datagrams).toEqual([]);
    expect(tunnel.counters.drops.get('capsule_backlog')).toBe(1);
  });
});

/** Lets promise callbacks (the session's `closed`) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('lifetime: the socket is closed exactly once (virtual time)', () => {
  it('the client ending the stream closes the socket', async () => {
    const { session, socket, closes } = open();
    session.finish({ kind: 'end' });
    await settle();
    expect(socket.closeCalls).toBe(1);
    expect(closes).toEqual(['client']);
  });

  it('a client reset closes the socket', async () => {
    const { session, socket, closes } = open();
    session.finish({ kind: 'reset', code: H3ErrorCode.H3_REQUEST_CANCELLED });
    await settle();
    expect(socket.closeCalls).toBe(1);
    expect(closes).toEqual(['client']);
  });

  it('the connection closing closes the socket', async () => {
    const { session, socket, closes } = open();
    session.finish({ kind: 'connection', code: 0 });
    await settle();
    expect(socket.closeCalls).toBe(1);
    expect(closes).toEqual(['connection']);
  });

  it('an idle tunnel ends its stream with a FIN and closes the socket', async () => {
    const { session, socket, closes, clock } = open({ idleTimeoutMs: 1000 });
    clock.advance(999);
    await settle();
    expect(socket.closeCalls).toBe(0);
    clock.advance(2);
    await settle();
    expect(socket.closeCalls).toBe(1);
    expect(session.ended).toBe('fin');
    expect(closes).toEqual(['idle']);
  });

  it('traffic either way keeps the tunnel open', async () => {
    const { session, socket, closes, clock } = open({ idleTimeoutMs: 1000 });
    for (let i = 0; i < 5; i++) {
      clock.advance(600);
      await settle();
      if (i % 2 === 0) session.deliver(fromHex('00 01'));
      else socket.receive(fromHex('01'));
    }
    expect(closes).toEqual([]);
    clock.advance(1001);
    await settle();
    expect(closes).toEqual(['idle']);
  });

  it('a client that never ends its side after our FIN is reset after the grace period', async () => {
    const { session, clock } = open({ idleTimeoutMs: 1000, closeGraceMs: 500 });
    clock.advance(1001);
    await settle();
    expect(session.ended).toBe('fin');
    clock.advance(501);
    await settle();
    expect(session.ended).toBe(H3ErrorCode.H3_NO_ERROR);
  });

  it('a socket error (ICMP unreachable) resets the stream with H3_CONNECT_ERROR', async () => {
    const { session, socket, closes } = open();
    socket.fail('ECONNREFUSED');
    expect(socket.closeCalls).toBe(1);
    expect(session.ended).toBe(H3ErrorCode.H3_CONNECT_ERROR);
    await settle();
    expect(closes).toEqual(['socket_error']);
  });

  it('shutdown, then every other cause: still one close', async () => {
    const { session, socket, tunnel, closes } = open();
    tunnel.close('shutdown');
    tunnel.close('idle');
    socket.fail('ECONNREFUSED');
    session.finish({ kind: 'connection' });
    await settle();
    expect(socket.closeCalls).toBe(1);
    expect(closes).toEqual(['shutdown']);
    expect(session.ended).toBe('fin');
  });

  it('nothing is relayed after close', async () => {
    const { session, socket, tunnel } = open();
    tunnel.close('shutdown');
    session.deliver(fromHex('00 01'));
    socket.receive(fromHex('01'));
    expect(socket.sent).toEqual([]);
    expect(session.datagrams).toEqual([]);
    await settle();
    expect(socket.closeCalls).toBe(1);
  });
});
