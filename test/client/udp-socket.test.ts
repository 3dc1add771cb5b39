import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleType } from '../../src/capsule/index.js';
import { MasqueError, MasqueUdpSocket, TunnelDatagramSocket } from '../../src/client/index.js';
import { fromHex } from '../../src/wire/index.js';
import { FakeSession } from '../masque/proxy/fakes.js';

function open(host = '192.0.2.1', port = 53) {
  const stream = new FakeSession([]);
  const sock = new MasqueUdpSocket(stream, { host, port }, [
    { proxy: 'p', nextHop: '192.0.2.1:53' },
  ]);
  return { stream, sock };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('sending', () => {
  it('frames each payload as a Context ID 0 HTTP datagram (RFC 9298 §5)', () => {
    const { stream, sock } = open();
    expect(sock.send(fromHex('0102'))).toBe(true);
    expect(sock.send('hi')).toBe(true);
    expect(stream.datagrams.map((d) => [...d])).toEqual([
      [0, 1, 2],
      [0, 0x68, 0x69],
    ]);
  });

  it('falls back to a DATAGRAM capsule when the payload does not fit a QUIC DATAGRAM', () => {
    const { stream, sock } = open();
    stream.maxDatagram = 50;
    expect(sock.send(new Uint8Array(100))).toBe(true);
    expect(stream.capsules).toHaveLength(1);
    expect(stream.capsules[0].type).toBe(CapsuleType.DATAGRAM);
    expect(stream.capsules[0].value.length).toBe(101);
  });

  it('reports a local drop as false, like UDP, when the queue is full', () => {
    const { stream, sock } = open();
    stream.datagramQueueOpen = false;
    expect(sock.send('x')).toBe(false);
    expect(sock.dropped).toBe(1);
  });

  it('signals backpressure: false while the transport asks to pause, then drain', async () => {
    const { stream, sock } = open();
    const drains: number[] = [];
    sock.on('drain', () => drains.push(stream.datagrams.length));
    expect(sock.send('a')).toBe(true);
    stream.datagramsWritable = false; // the QUIC queue went above its high-water mark
    expect(sock.send('b')).toBe(false); // queued all the same: not a drop
    expect(sock.send('c')).toBe(false);
    expect(sock.dropped).toBe(0);
    expect(stream.datagrams).toHaveLength(3);
    stream.becomeWritable();
    stream.becomeWritable(); // one drain per pause
    await tick();
    expect(drains).toEqual([3]);
    expect(sock.send('d')).toBe(true);
  });

  it('a refusal by a full transport is a counted drop, and drain follows when it empties', async () => {
    const { stream, sock } = open();
    let drained = false;
    sock.on('drain', () => {
      drained = true;
    });
    stream.datagramQueueOpen = false;
    stream.datagramsWritable = false;
    expect(sock.send('x')).toBe(false);
    expect(sock.dropped).toBe(1);
    stream.datagramQueueOpen = true;
    stream.becomeWritable();
    await tick();
    expect(drained).toBe(true);
  });

  it('refuses payloads over 65527 bytes and sends after close', () => {
    const { sock } = open();
    expect(() => sock.send(new Uint8Array(65_528))).toThrow(
      expect.objectContaining({ code: 'MASQUE_PAYLOAD_TOO_LARGE' }),
    );
    sock.close();
    expect(() => sock.send('x')).toThrow(expect.objectContaining({ code: 'MASQUE_CLOSED' }));
  });
});

describe('receiving', () => {
  it("emits 'message' with a copy of the payload and the target as rinfo", () => {
    const { stream, sock } = open('dns.example', 853);
    const got: Array<[string, unknown]> = [];
    sock.on('message', (m, rinfo) => got.push([m.toString('hex'), rinfo]));
    const buf = fromHex('00 aabb');
    stream.deliver(buf);
    buf.fill(0);
    expect(got).toEqual([['aabb', { address: 'dns.example', port: 853, family: 'name', size: 2 }]]);
    expect(sock.nextHop).toBe('192.0.2.1:53');
  });

  it('drops unknown Context IDs, accepts a non-minimal 0', () => {
    const { stream, sock } = open();
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('hex')));
    stream.deliver(fromHex('01 aa'));
    stream.deliver(fromHex('40'));
    stream.deliver(fromHex('4000 bb'));
    expect(got).toEqual(['bb']);
    expect(sock.unknownContextDrops).toBe(2);
  });

  it('arbitrary datagrams never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (bytes) => {
        const { stream, sock } = open();
        let n = 0;
        sock.on('message', () => n++);
        stream.deliver(bytes);
        expect(n + sock.unknownContextDrops).toBe(1);
      }),
      { numRuns: 2000 },
    );
  });

  it('iterates messages and ends when the proxy ends the tunnel', async () => {
    const { stream, sock } = open();
    const it = sock[Symbol.asyncIterator]();
    stream.deliver(fromHex('00 01'));
    stream.deliver(fromHex('00 02'));
    stream.finish({ kind: 'end' });
    expect([...((await it.next()).value as Buffer)]).toEqual([1]);
    expect([...((await it.next()).value as Buffer)]).toEqual([2]);
    expect((await it.next()).done).toBe(true);
  });

  it('the iterator keeps at most `backlog` messages, dropping the oldest', async () => {
    const stream = new FakeSession([]);
    const sock = new MasqueUdpSocket(stream, { host: '192.0.2.1', port: 1 }, [], { backlog: 2 });
    const it = sock[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) stream.deliver(new Uint8Array([0, i]));
    expect((await it.next()).value[0]).toBe(3);
    expect(sock.dropped).toBe(3);
  });
});

describe('ending', () => {
  it("a reset by the proxy emits 'error' (MASQUE_TUNNEL_RESET) then 'close'", async () => {
    const { stream, sock } = open();
    const events: string[] = [];
    sock.on('error', (e) => events.push(`error ${e.code} ${e.h3Code}`));
    sock.on('close', () => events.push('close'));
    stream.finish({ kind: 'reset', code: 0x10f });
    await tick();
    expect(events).toEqual(['error MASQUE_TUNNEL_RESET 271', 'close']);
    expect(sock.isClosed).toBe(true);
  });

  it('a lost connection emits MASQUE_CONNECTION_CLOSED; the iterator throws it', async () => {
    const { stream, sock } = open();
    const it = sock[Symbol.asyncIterator]();
    stream.finish({ kind: 'connection', code: 0 });
    await expect(it.next()).rejects.toMatchObject({ code: 'MASQUE_CONNECTION_CLOSED' });
    expect(sock.error).toBeInstanceOf(MasqueError);
  });

  it("an error without an 'error' listener is kept, not thrown", async () => {
    const { stream, sock } = open();
    stream.finish({ kind: 'reset', code: 0x10c });
    await sock.closed;
    expect(sock.error?.code).toBe('MASQUE_TUNNEL_RESET');
  });

  it("the proxy ending the tunnel cleanly emits only 'close'", async () => {
    const { stream, sock } = open();
    const events: string[] = [];
    sock.on('error', () => events.push('error'));
    sock.on('close', () => events.push('close'));
    stream.finish({ kind: 'end' });
    await tick();
    expect(events).toEqual(['close']);
  });

  it('close() sends a FIN, stops delivery and emits close once the stream is done', async () => {
    const { stream, sock } = open();
    const got: string[] = [];
    sock.on('message', () => got.push('m'));
    sock.close();
    expect(stream.ended).toBe('fin');
    stream.deliver(fromHex('00 01'));
    expect(got).toEqual([]);
    expect(sock.isClosed).toBe(false);
    stream.finish({ kind: 'end' });
    await sock.closed;
    expect(sock.error).toBeUndefined();
  });

  it('a proxy that never ends its side is reset after the grace period', async () => {
    const stream = new FakeSession([]);
    const sock = new MasqueUdpSocket(stream, { host: '192.0.2.1', port: 1 }, [], {
      closeGraceMs: 20,
    });
    sock.close();
    await sock.closed;
    expect(stream.ended).toBe(0x10c);
    expect(sock.error).toBeUndefined();
  });
});

describe('TunnelDatagramSocket (QUIC inside a tunnel)', () => {
  it('drops what exceeds both 1200 bytes and the tunnel datagram limit, as a path MTU', () => {
    const stream = new FakeSession([]);
    const sock = new MasqueUdpSocket(stream, { host: '192.0.2.1', port: 443 }, []);
    const inner = new TunnelDatagramSocket(sock, '192.0.2.1:443');
    stream.maxDatagram = 1400; // the outer connection's DATAGRAM frames carry 1400-byte payloads
    inner.send(new Uint8Array(1200), 443, '192.0.2.1');
    inner.send(new Uint8Array(1398), 443, '192.0.2.1'); // + Context ID = 1399: fits
    inner.send(new Uint8Array(1450), 443, '192.0.2.1'); // an inner PMTU probe that cannot fit
    expect(inner.droppedTooLarge).toBe(1);
    expect(stream.datagrams.map((d) => d.length)).toEqual([1201, 1399]);
    stream.maxDatagram = 1000; // smaller than QUIC's minimum: 1200 still passes (as a capsule)
    inner.send(new Uint8Array(1200), 443, '192.0.2.1');
    expect(inner.droppedTooLarge).toBe(1);
    expect(stream.capsules).toHaveLength(1);
  });
});
