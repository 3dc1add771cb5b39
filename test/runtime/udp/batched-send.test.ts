/**
 * Batched UDP send (issue 13): the endpoint hands the datagrams of one flush to the socket at
 * once; the node:dgram socket sends them in one sendmmsg(2) through the native addon where it is
 * loaded (Linux), falling back to node's `send` for a datagram the kernel refuses and the rest.
 */
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeBinding } from '../../../src/crypto/native.js';
import { bindUdpSocket, type DatagramSocket } from '../../../src/runtime/udp/datagram-socket.js';
import { UdpEndpoint } from '../../../src/runtime/udp/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { cid, FakeConnection } from '../../quic/endpoint/fakes.js';
import { ipv6Available } from '../../support/ipv6.js';

const HAS_V6 = await ipv6Available();
const sendmmsg = loadNativeAddon()?.sendmmsg;
/** Whether sockets made by bindUdpSocket batch in this process (addon in use, Linux). */
const BATCHING = nativeBinding()?.sendmmsg !== undefined;
const silent = pino({ level: 'silent' });

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function receiver(type: 'udp4' | 'udp6' = 'udp4', host = '127.0.0.1') {
  const sock: Socket = createSocket(type);
  const got: Buffer[] = [];
  sock.on('message', (m) => got.push(m));
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  return { port: sock.address().port, got };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const datagram = (i: number, size = 100) => new Uint8Array(size).fill(i + 1);

describe.skipIf(sendmmsg === undefined)('the addon sendmmsg', () => {
  const send = sendmmsg as NonNullable<typeof sendmmsg>;

  async function sender() {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
    const key = Object.getOwnPropertySymbols(sock).find((s) => s.description === 'state symbol');
    const fd = (sock as unknown as Record<symbol, { handle: { fd: number } }>)[key as symbol].handle
      .fd;
    expect(fd).toBeGreaterThanOrEqual(0);
    return fd;
  }

  it('sends a batch in one call, from start up to count', async () => {
    const { port, got } = await receiver();
    const fd = await sender();
    const data = [0, 1, 2, 3, 4].map((i) => datagram(i, 10 + i));
    const hosts = data.map(() => '127.0.0.1');
    const ports = data.map(() => port);
    expect(send(fd, data, hosts, ports, 0, 3)).toBe(3);
    expect(send(fd, data, hosts, ports, 3, 5)).toBe(2);
    expect(send(fd, data, hosts, ports, 5, 5)).toBe(-22); // nothing to send: -EINVAL
    await until(() => got.length === 5);
    expect(got.map((b) => [b.length, b[0]]).sort()).toEqual(data.map((d) => [d.length, d[0]]));
  });

  it('stops at a host that does not parse; errors come back as -errno, not exceptions', async () => {
    const { port, got } = await receiver();
    const fd = await sender();
    const data = [0, 1, 2].map((i) => datagram(i));
    const ports = [port, port, port];
    expect(send(fd, data, ['127.0.0.1', '127.0.0.1', 'localhost'], ports, 0, 3)).toBe(2);
    expect(send(fd, data, ['999.0.0.1', '127.0.0.1', '127.0.0.1'], ports, 0, 3)).toBe(-22);
    expect(send(fd, data, ['x'.repeat(200), '127.0.0.1'], ports, 0, 2)).toBe(-22);
    // IPv6 destination from an IPv4 socket: the kernel refuses (EAFNOSUPPORT / EINVAL).
    expect(send(fd, data, ['::1', '127.0.0.1'], ports, 0, 2)).toBeLessThan(0);
    // Too large for UDP: EMSGSIZE (-90) for the first, nothing sent.
    expect(
      send(fd, [new Uint8Array(70_000), data[0]], ['127.0.0.1', '127.0.0.1'], ports, 0, 2),
    ).toBe(-90);
    // Not a socket: ENOTSOCK (-88), and the process goes on.
    const file = openSync(new URL(import.meta.url), 'r');
    try {
      expect(send(file, data, ['127.0.0.1', '127.0.0.1'], ports, 0, 2)).toBe(-88);
    } finally {
      closeSync(file);
    }
    await until(() => got.length === 2);
  });

  it('rejects arguments of the wrong type or out of range without crashing', async () => {
    const fd = await sender();
    const data = [datagram(0), datagram(1)];
    const hosts = ['127.0.0.1', '127.0.0.1'];
    const ports = [9, 9];
    const f = send as unknown as (...a: unknown[]) => number;
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => f(bad, data, hosts, ports, 0, 2)).toThrowError(RangeError);
    }
    for (const bad of [undefined, '3', null]) {
      expect(() => f(bad, data, hosts, ports, 0, 2)).toThrowError(TypeError);
    }
    for (const bad of [undefined, null, data[0], 'x', {}]) {
      expect(() => f(fd, bad, hosts, ports, 0, 2)).toThrowError(TypeError);
      expect(() => f(fd, data, bad, ports, 0, 2)).toThrowError(TypeError);
      expect(() => f(fd, data, hosts, bad, 0, 2)).toThrowError(TypeError);
    }
    expect(() => f(fd, [datagram(0), 'x'], hosts, ports, 0, 2)).toThrowError(TypeError);
    expect(() => f(fd, [datagram(0), new Uint16Array(4)], hosts, ports, 0, 2)).toThrowError(
      TypeError,
    );
    expect(() => f(fd, data, ['127.0.0.1', 7], ports, 0, 2)).toThrowError(TypeError);
    expect(() => f(fd, data, hosts, [9, 70_000], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, [9, -1], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, [9, '9'], 0, 2)).toThrowError(TypeError);
    expect(() => f(fd, data, hosts, ports, 0, 3)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, [9], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, ports, 3, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, ports, -1, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, hosts, ports)).toThrowError(TypeError);
  });
});

describe('DatagramSocket.sendMany (node:dgram, batched where the addon is loaded)', () => {
  it('delivers every datagram and counts the batched ones', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const data = Array.from({ length: 70 }, (_, i) => datagram(i, 50 + i));
    // Reused arrays longer than count: only the first `count` entries are sent.
    const ports = [...data.map(() => port), 1];
    const hosts = [...data.map(() => '127.0.0.1'), '127.0.0.2'];
    socket.sendMany?.(data, ports, hosts, data.length);
    await until(() => got.length === data.length);
    expect(got.map((b) => b.length).sort((a, b) => a - b)).toEqual(data.map((d) => d.length));
    expect(socket.batchedSends).toBe(BATCHING ? data.length : 0);
    expect(socket.sendErrors).toBe(0);
  });

  it('a datagram the kernel refuses and the rest fall back to node send', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const data = [datagram(0), datagram(1), new Uint8Array(70_000), datagram(3), datagram(4)];
    socket.sendMany?.(
      data,
      data.map(() => port),
      data.map(() => '127.0.0.1'),
      data.length,
    );
    await until(() => got.length === 4 && socket.sendErrors === 1);
    expect(got.map((b) => b[0]).sort()).toEqual([1, 2, 4, 5]);
    expect(socket.batchedSends).toBe(BATCHING ? 2 : 0);
  });

  it.skipIf(!HAS_V6)(
    'a dual-stack socket reaches IPv4 peers (IPv4-mapped) in a batch',
    async () => {
      const v4 = await receiver();
      const v6 = await receiver('udp6', '::1');
      const socket = await bindUdpSocket('[::]:0', silent);
      open.push(socket);
      const data = [datagram(0), datagram(1), datagram(2)];
      socket.sendMany?.(data, [v4.port, v6.port, v4.port], ['127.0.0.1', '::1', '127.0.0.1'], 3);
      await until(() => v4.got.length === 2 && v6.got.length === 1);
      expect(socket.batchedSends).toBe(BATCHING ? 3 : 0);
    },
  );

  it('the addon is used for batches here unless MASQUE_NATIVE=0 (Linux CI notices a regression)', () => {
    if (process.env['MASQUE_NATIVE'] === '0' || process.platform !== 'linux') {
      expect(BATCHING).toBe(false);
      return;
    }
    expect(BATCHING).toBe(true);
  });
});

/** Records how the endpoint hands datagrams to its socket. */
class RecordingSocket implements DatagramSocket {
  readonly calls: string[] = [];
  send(data: Uint8Array, port: number, host: string): void {
    this.calls.push(`send ${data[0]}@${host}:${port}`);
  }
  sendMany(
    data: readonly Uint8Array[],
    ports: readonly number[],
    hosts: readonly string[],
    count: number,
  ): void {
    const items = [];
    for (let i = 0; i < count; i++) items.push(`${data[i][0]}@${hosts[i]}:${ports[i]}`);
    this.calls.push(`sendMany ${items.join(' ')}`);
  }
  onMessage(): void {}
  address(): { host: string; port: number; family: 4 | 6 } {
    return { host: '127.0.0.1', port: 4433, family: 4 };
  }
  async close(): Promise<void> {}
}

describe('UdpEndpoint hands one flush to the socket at once', () => {
  async function setup() {
    const socket = new RecordingSocket();
    const ep = await UdpEndpoint.bind<FakeConnection, null>({
      socket,
      random: new SeededRandom(9),
      createClientConnection: () => new FakeConnection('c', [cid(0xb1)]),
    });
    open.push(ep);
    const conn = ep.connect(null, '127.0.0.1:9');
    await new Promise((r) => setImmediate(r));
    socket.calls.length = 0;
    return { socket, ep, conn };
  }

  it('several datagrams: one sendMany in order; one datagram: a plain send', async () => {
    const { socket, ep, conn } = await setup();
    conn.outbox.push(
      { data: Uint8Array.of(1), to: '127.0.0.1:9' },
      { data: Uint8Array.of(2), to: '[::1]:10' },
      { data: Uint8Array.of(3), to: '127.0.0.1:11' },
    );
    ep.flushNow(conn);
    expect(socket.calls).toEqual(['sendMany 1@127.0.0.1:9 2@::1:10 3@127.0.0.1:11']);
    conn.outbox.push({ data: Uint8Array.of(4), to: '127.0.0.1:9' });
    ep.flushNow(conn);
    expect(socket.calls[1]).toBe('send 4@127.0.0.1:9');
  });

  it('a long flush goes out in batches of 64, an unparsable address is dropped', async () => {
    const { socket, ep, conn } = await setup();
    for (let i = 0; i < 130; i++) conn.outbox.push({ data: Uint8Array.of(i), to: '127.0.0.1:9' });
    conn.outbox.splice(5, 0, { data: Uint8Array.of(255), to: 'not an address' });
    ep.flushNow(conn);
    expect(socket.calls.map((c) => c.split(' ').length - 1)).toEqual([64, 64, 2]);
    expect(socket.calls.join(' ')).not.toContain('255@');
  });
});
