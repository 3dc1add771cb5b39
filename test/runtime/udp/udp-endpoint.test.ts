/**
 * The Node adapter over real loopback UDP, with fake connections: datagrams reach connections by
 * CID, their output leaves through the socket, the single timer fires, errors are only logged.
 */
import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerInitialInfo, Transmit } from '../../../src/quic/endpoint/index.js';
import type { DatagramSocket } from '../../../src/runtime/udp/datagram-socket.js';
import { UdpEndpoint } from '../../../src/runtime/udp/index.js';
import { randomBytes, SeededRandom } from '../../../src/util/random.js';
import { cid, clientInitial, FakeConnection, shortDatagram } from '../../quic/endpoint/fakes.js';
import { ipv6Available } from '../../support/ipv6.js';

const HAS_V6 = await ipv6Available();

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A server connection that answers each datagram with a short header to the client's CID. */
class Replier extends FakeConnection {
  override receive(datagram: Uint8Array, remote: string, now: number): void {
    super.receive(datagram, remote, now);
    const scid = this.info?.scid;
    if (scid) this.outbox.push({ data: shortDatagram(scid, 64), to: remote });
  }
}

async function echoServer(listen: string) {
  const random = new SeededRandom(1);
  const accepted: FakeConnection[] = [];
  const ep = await UdpEndpoint.bind<FakeConnection>({
    listen,
    random,
    createServerConnection: (info: ServerInitialInfo) => {
      const c = new FakeConnection('s', [randomBytes(random, 8)], info);
      c.echo = true;
      return c;
    },
    onConnection: (c) => accepted.push(c),
  });
  open.push(ep);
  return { ep, accepted };
}

async function rawClient(type: 'udp4' | 'udp6', host: string) {
  const sock: Socket = createSocket(type);
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  return { sock, got };
}

describe.each([
  { name: 'IPv4', listen: '127.0.0.1:0', host: '127.0.0.1', type: 'udp4' as const, skip: false },
  { name: 'IPv6', listen: '[::1]:0', host: '::1', type: 'udp6' as const, skip: !HAS_V6 },
])('UdpEndpoint over $name loopback', ({ listen, host, type, skip }) => {
  it.skipIf(skip)(
    'a client Initial creates a connection whose echo comes back intact',
    async () => {
      const { ep, accepted } = await echoServer(listen);
      const { sock, got } = await rawClient(type, host);
      const initial = clientInitial(cid(0xd0), cid(0xc0));
      const port = Number(ep.address.slice(ep.address.lastIndexOf(':') + 1));
      sock.send(initial, port, host);
      await waitFor(() => got.length === 1);
      expect(new Uint8Array(got[0])).toEqual(initial);
      expect(accepted).toHaveLength(1);
      // A short header to the connection's own CID is routed to it too.
      sock.send(shortDatagram(accepted[0].localCids[0], 50), port, host);
      await waitFor(() => got.length === 2);
      expect(got[1].length).toBe(50);
      const addr = sock.address();
      const expected =
        type === 'udp6' ? `[${addr.address}]:${addr.port}` : `${addr.address}:${addr.port}`;
      expect(accepted[0].received[1].remote).toBe(expected);
    },
  );

  it.skipIf(skip)('two adapters: a client connection reaches a server and hears back', async () => {
    const random = new SeededRandom(2);
    const server = await UdpEndpoint.bind<FakeConnection>({
      listen,
      random,
      createServerConnection: (info) => new Replier('s', [randomBytes(random, 8)], info),
    });
    open.push(server);
    const client = await UdpEndpoint.bind<FakeConnection, { dcid: Uint8Array }>({
      listen,
      random,
      createClientConnection: (config, remote) => {
        const c = new FakeConnection('c', [cid(0xc1)]);
        c.outbox.push({ data: clientInitial(config.dcid, cid(0xc1)), to: remote });
        return c;
      },
    });
    open.push(client);
    const conn = client.connect({ dcid: cid(0xd1) }, server.address);
    await waitFor(() => conn.received.length === 1);
    expect(conn.received[0].remote).toBe(server.address);
    expect(server.endpoint.stats().connections).toBe(1);
  });
});

describe('UdpEndpoint timer, lifetime and errors', () => {
  it('fires the earliest connection deadline and reports the closed connection', async () => {
    const random = new SeededRandom(3);
    const closed: FakeConnection[] = [];
    let now = 0;
    const ep = await UdpEndpoint.bind<FakeConnection, null>({
      listen: '127.0.0.1:0',
      random,
      clock: () => now,
      createClientConnection: () => new FakeConnection('c', [cid(1)]),
      onClosed: (c) => closed.push(c),
    });
    open.push(ep);
    now = 1000;
    const conn = ep.connect(null, '127.0.0.1:9');
    conn.deadline = 1010;
    conn.onTimeout = () => {
      conn.state = 'closed';
    };
    ep.flush(conn); // the deadline changed outside any input: flag the connection
    now = 1010;
    await waitFor(() => closed.length === 1, 2000);
    expect(conn.timeoutsRun).toEqual([1010]);
    expect(ep.endpoint.stats().connections).toBe(0);
  });

  it('send errors and unparsable destinations are logged, never thrown', async () => {
    const logs: string[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (s: string) => void logs.push(JSON.parse(s).msg) },
    );
    const ep = await UdpEndpoint.bind({
      listen: '127.0.0.1:0',
      random: new SeededRandom(4),
      logger,
    });
    open.push(ep);
    ep.endpoint.sendRaw(new Uint8Array(10), 'not an address');
    ep.endpoint.sendRaw(new Uint8Array(10), '[2001:db8::1]:443'); // IPv6 from an IPv4 socket
    ep.endpoint.sendRaw(new Uint8Array(10), '127.0.0.1:1'); // nobody listens
    expect(() => ep.flush()).not.toThrow();
    await waitFor(() => logs.some((m) => m.includes('send')), 2000);
    expect(logs).toContain('dropping a datagram to an unparsable address');
  });

  it('close() sends the connections’ CONNECTION_CLOSE and releases the socket', async () => {
    const { sock, got } = await rawClient('udp4', '127.0.0.1');
    const random = new SeededRandom(5);
    const ep = await UdpEndpoint.bind<FakeConnection, null>({
      listen: '127.0.0.1:0',
      random,
      createClientConnection: () => new FakeConnection('c', [cid(2)]),
    });
    const bound = ep.address;
    const conn = ep.connect(null, `127.0.0.1:${sock.address().port}`);
    conn.close = (code: number) => {
      conn.closedWith = { code, reason: undefined };
      conn.outbox.push({
        data: new Uint8Array([0x1d, code]),
        to: `127.0.0.1:${sock.address().port}`,
      });
    };
    await ep.close(9);
    await waitFor(() => got.length === 1);
    expect([...got[0]]).toEqual([0x1d, 9]);
    expect(conn.closedWith?.code).toBe(9);
    // The port is free again.
    const again = await UdpEndpoint.bind({ listen: bound, random });
    open.push(again);
  });
});

/** A socket whose datagrams the test delivers by hand and whose sends it records. */
class ManualSocket implements DatagramSocket {
  readonly sent: Array<{ data: Uint8Array; to: string }> = [];
  deliver: (data: Uint8Array, remote: string) => void = () => {};
  send(data: Uint8Array, port: number, host: string): void {
    this.sent.push({ data, to: `${host}:${port}` });
  }
  onMessage(handler: (data: Uint8Array, remote: string) => void): void {
    this.deliver = handler;
  }
  address(): { host: string; port: number; family: 4 | 6 } {
    return { host: '127.0.0.1', port: 4433, family: 4 };
  }
  async close(): Promise<void> {}
}

/** Answers with one datagram per poll that reports how many datagrams it has received (an ACK). */
class Acker extends FakeConnection {
  #reported = 0;
  override pollTransmit(now: number): Transmit | undefined {
    const queued = super.pollTransmit(now);
    if (queued !== undefined) return queued;
    if (this.received.length === this.#reported) return undefined;
    this.#reported = this.received.length;
    return { data: Uint8Array.of(this.#reported), to: '127.0.0.1:9' };
  }
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('UdpEndpoint sends once per event-loop turn', () => {
  async function setup() {
    const socket = new ManualSocket();
    const random = new SeededRandom(6);
    const woken: number[] = [];
    const ep = await UdpEndpoint.bind<FakeConnection, null>({
      socket,
      random,
      createClientConnection: () => new Acker('c', [cid(0xa1)]),
      onWake: (active) => woken.push(active.length),
    });
    open.push(ep);
    const conn = ep.connect(null, '127.0.0.1:9');
    await nextTurn();
    return { socket, ep, conn, woken };
  }

  it('datagrams of one turn are taken in first: one onWake, one answer covering them all', async () => {
    const { socket, conn, woken } = await setup();
    for (let i = 0; i < 3; i++) socket.deliver(shortDatagram(cid(0xa1), 40), '127.0.0.1:9');
    // Nothing leaves while the turn is still delivering.
    expect(socket.sent).toEqual([]);
    expect(conn.received).toHaveLength(3);
    await nextTurn();
    expect(woken).toEqual([1]);
    expect(socket.sent.map((s) => [...s.data])).toEqual([[3]]);
  });

  it('flush() waits for the end of the turn; flushNow() sends at once, after onWake', async () => {
    const { socket, ep, conn, woken } = await setup();
    conn.outbox.push({ data: Uint8Array.of(0xf1), to: '127.0.0.1:9' });
    ep.flush(conn);
    expect(socket.sent).toEqual([]);
    await nextTurn();
    expect(socket.sent.map((s) => [...s.data])).toEqual([[0xf1]]);
    // Input pending when flushNow comes: onWake sees the connection before polling settles it.
    socket.deliver(shortDatagram(cid(0xa1), 40), '127.0.0.1:9');
    conn.outbox.push({ data: Uint8Array.of(0xf2), to: '127.0.0.1:9' });
    ep.flushNow(conn);
    expect(woken).toEqual([1]);
    expect(socket.sent.map((s) => [...s.data])).toEqual([[0xf1], [0xf2], [1]]);
  });
});
