/**
 * Batched UDP send (issue 13): the endpoint hands the datagrams of one flush to the socket at
 * once; the node:dgram socket sends them in one sendmmsg(2) through the native addon where it is
 * loaded (Linux), falling back to node's `send` for a datagram the kernel refuses and the rest.
 */
import { createSocket, type Socket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon, nativeBinding } from '../../../src/crypto/native.js';
import {
  bindUdpSocket,
  type DatagramSocket,
  DgramSocket,
  socketFd,
} from '../../../src/runtime/udp/datagram-socket.js';
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

const addon = loadNativeAddon();

describe.skipIf(sendmmsg === undefined)('the addon sockaddr, send and sendmmsg', () => {
  const send = sendmmsg as NonNullable<typeof sendmmsg>;
  const sendOne = addon?.send as NonNullable<NonNullable<typeof addon>['send']>;
  const sockaddr = addon?.sockaddr as NonNullable<NonNullable<typeof addon>['sockaddr']>;

  async function sender(type: 'udp4' | 'udp6' = 'udp4', host = '127.0.0.1') {
    const sock = createSocket(type);
    await new Promise<void>((r) => sock.bind(0, host, () => r()));
    open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
    const fd = socketFd(sock) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    return { fd, sock };
  }

  it('sockaddr encodes IPv4 and IPv6 literals as struct sockaddr_in / sockaddr_in6', () => {
    const a4 = sockaddr('127.0.0.2', 4433);
    expect(a4.length).toBe(16);
    expect(new Uint16Array(a4.buffer, 0, 1)[0]).toBe(2); // AF_INET, host order
    expect([...a4.subarray(2, 8)]).toEqual([0x11, 0x51, 127, 0, 0, 2]); // port 4433 big-endian
    const a6 = sockaddr('::ffff:10.0.0.1', 1);
    expect(a6.length).toBe(28);
    expect(new Uint16Array(a6.buffer, 0, 1)[0]).toBe(10); // AF_INET6
    expect([...a6.subarray(2, 4)]).toEqual([0, 1]);
    expect([...a6.subarray(8, 24)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 1]);
    for (const bad of ['localhost', '999.0.0.1', 'fe80::1%eth0', '', 'x'.repeat(200), '1.2.3']) {
      expect(() => sockaddr(bad, 1), bad).toThrowError(RangeError);
    }
    const f = sockaddr as unknown as (...a: unknown[]) => Uint8Array;
    expect(() => f('127.0.0.1', 65_536)).toThrowError(RangeError);
    expect(() => f('127.0.0.1', -1)).toThrowError(RangeError);
    expect(() => f(7, 1)).toThrowError(TypeError);
    expect(() => f('127.0.0.1')).toThrowError(TypeError);
  });

  it('sends a batch in one call, from start up to count', async () => {
    const { port, got } = await receiver();
    const { fd } = await sender();
    const data = [0, 1, 2, 3, 4].map((i) => datagram(i, 10 + i));
    const addrs = data.map(() => sockaddr('127.0.0.1', port));
    expect(send(fd, data, addrs, 0, 3)).toBe(3);
    expect(send(fd, data, addrs, 3, 5)).toBe(2);
    expect(send(fd, data, addrs, 5, 5)).toBe(0); // nothing to send
    await until(() => got.length === 5);
    expect(got.map((b) => [b.length, b[0]]).sort()).toEqual(data.map((d) => [d.length, d[0]]));
  });

  it('send: one datagram from a slice, to an address or to the connected peer', async () => {
    const { port, got } = await receiver();
    const { fd } = await sender();
    const data = Uint8Array.of(9, 1, 2, 3, 9);
    expect(sendOne(fd, data, 1, 3, sockaddr('127.0.0.1', port))).toBe(3);
    const connected = createSocket('udp4');
    await new Promise<void>((r) => connected.connect(port, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise<void>((r) => connected.close(() => r())) });
    expect(sendOne(socketFd(connected) as number, data, 0, 0, null)).toBe(0); // empty datagram
    await until(() => got.length === 2);
    expect(got.map((b) => [...b])).toEqual([[1, 2, 3], []]);
    // Unconnected and no address: EDESTADDRREQ (-89), not an exception.
    expect(sendOne(fd, data, 0, 1, null)).toBe(-89);
    const f = sendOne as unknown as (...a: unknown[]) => number;
    expect(() => f(fd, data, 4, 2, null)).toThrowError(RangeError); // past the end
    expect(() => f(fd, data, 6, 0, null)).toThrowError(RangeError);
    expect(() => f(fd, data, 0, 1, new Uint8Array(16))).toThrowError(RangeError); // family 0
    expect(() => f(fd, data, 0, 1, 'x')).toThrowError(TypeError);
  });

  it('errors come back as -errno, not exceptions', async () => {
    const { port, got } = await receiver();
    const { fd } = await sender();
    const data = [0, 1, 2].map((i) => datagram(i));
    const to = sockaddr('127.0.0.1', port);
    // IPv6 destination from an IPv4 socket: the kernel refuses (EAFNOSUPPORT / EINVAL).
    expect(send(fd, data, [sockaddr('::1', port), to], 0, 2)).toBeLessThan(0);
    // Too large for UDP: EMSGSIZE (-90) for the first, nothing sent.
    expect(send(fd, [new Uint8Array(70_000), data[0]], [to, to], 0, 2)).toBe(-90);
    expect(sendOne(fd, new Uint8Array(70_000), 0, 70_000, to)).toBe(-90);
    // Not a socket: ENOTSOCK (-88), and the process goes on.
    const file = openSync(new URL(import.meta.url), 'r');
    try {
      expect(send(file, data, [to, to], 0, 2)).toBe(-88);
      expect(sendOne(file, data[0], 0, 1, to)).toBe(-88);
    } finally {
      closeSync(file);
    }
    expect(send(fd, data, [to, to], 0, 2)).toBe(2);
    await until(() => got.length === 2);
  });

  it('gso: a run to one peer is one message; where the kernel refuses segmentation the socket sends without', async () => {
    const { port, got } = await receiver();
    const { fd, sock } = await sender();
    const to = sockaddr('127.0.0.1', port);
    const data = [datagram(0, 300), datagram(1, 300), datagram(2, 100), datagram(3, 300)];
    expect(send(fd, data, [to, to, to, to], 0, 4, true)).toBe(4);
    await until(() => got.length === 4);
    expect(got.map((m) => [m.length, m[0]])).toEqual([
      [300, 1],
      [300, 2],
      [100, 3],
      [300, 4],
    ]);
    // A kernel without UDP_SEGMENT (or a device without checksum offload) answers EIO: the socket
    // sends the same batch without it, and asks no more.
    const calls: boolean[] = [];
    const refusing = {
      ...(addon as NonNullable<typeof addon>),
      sendmmsg: (...args: Parameters<typeof send>) => {
        calls.push(args[5] === true);
        return args[5] === true ? -5 : send(...args);
      },
    };
    const socket = new DgramSocket(sock, 4, silent, refusing);
    socket.sendMany(
      data,
      data.map(() => `127.0.0.1:${port}`),
      4,
    );
    socket.sendMany(
      data,
      data.map(() => `127.0.0.1:${port}`),
      2,
    );
    await until(() => got.length === 10);
    expect(calls).toEqual([true, false, false]);
    expect(socket.nativeSends).toBe(6);
  });

  it('rejects arguments of the wrong type or out of range without crashing', async () => {
    const { fd } = await sender();
    const data = [datagram(0), datagram(1)];
    const to = sockaddr('127.0.0.1', 9);
    const addrs = [to, to];
    const f = send as unknown as (...a: unknown[]) => number;
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => f(bad, data, addrs, 0, 2)).toThrowError(RangeError);
    }
    for (const bad of [undefined, '3', null]) {
      expect(() => f(bad, data, addrs, 0, 2)).toThrowError(TypeError);
    }
    for (const bad of [undefined, null, data[0], 'x', {}]) {
      expect(() => f(fd, bad, addrs, 0, 2)).toThrowError(TypeError);
      expect(() => f(fd, data, bad, 0, 2)).toThrowError(TypeError);
    }
    expect(() => f(fd, [datagram(0), 'x'], addrs, 0, 2)).toThrowError(TypeError);
    expect(() => f(fd, [datagram(0), new Uint16Array(4)], addrs, 0, 2)).toThrowError(TypeError);
    expect(() => f(fd, data, [to, '127.0.0.1'], 0, 2)).toThrowError(TypeError);
    // Not a sockaddr: wrong length or family.
    expect(() => f(fd, data, [to, new Uint8Array(15)], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, [to, new Uint8Array(28)], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, addrs, 0, 3)).toThrowError(RangeError);
    expect(() => f(fd, data, [to], 0, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, addrs, 3, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, addrs, -1, 2)).toThrowError(RangeError);
    expect(() => f(fd, data, addrs)).toThrowError(TypeError);
  });
});

describe('DatagramSocket.sendMany (node:dgram, batched where the addon is loaded)', () => {
  it('delivers every datagram and counts the batched ones', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const data = Array.from({ length: 70 }, (_, i) => datagram(i, 50 + i));
    // Reused arrays longer than count: only the first `count` entries are sent.
    const remotes = [...data.map(() => `127.0.0.1:${port}`), '127.0.0.2:1'];
    socket.sendMany?.(data, remotes, data.length);
    await until(() => got.length === data.length);
    expect(got.map((b) => b.length).sort((a, b) => a - b)).toEqual(data.map((d) => d.length));
    expect(socket.nativeSends).toBe(BATCHING ? data.length : 0);
    expect(socket.sendErrors).toBe(0);
  });

  it('a datagram the kernel refuses and the rest fall back to node send', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const data = [datagram(0), datagram(1), new Uint8Array(70_000), datagram(3), datagram(4)];
    socket.sendMany?.(
      data,
      data.map(() => `127.0.0.1:${port}`),
      data.length,
    );
    await until(() => got.length === 4 && socket.sendErrors === 1);
    expect(got.map((b) => b[0]).sort()).toEqual([1, 2, 4, 5]);
    expect(socket.nativeSends).toBe(BATCHING ? 2 : 0);
  });

  it('a single datagram leaves natively too; an unparsable remote is dropped and counted', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    socket.sendMany?.([datagram(0)], [`127.0.0.1:${port}`], 1);
    expect(socket.nativeSends).toBe(BATCHING ? 1 : 0);
    const data = [datagram(1), datagram(2), datagram(3)];
    socket.sendMany?.(data, [`127.0.0.1:${port}`, 'not an address', `127.0.0.1:${port}`], 3);
    await until(() => got.length === 3);
    expect(got.map((b) => b[0])).toEqual([1, 2, 4]);
    expect(socket.sendErrors).toBe(1);
  });

  it('runs to one peer leave segmented (UDP GSO) and arrive as the datagrams they were', async () => {
    const a = await receiver();
    const b = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const sizes = [1200, 1200, 1200, 700, 1200, 1200, 900, 1200];
    const peers = [a, a, a, a, a, b, b, a];
    const data = sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
    socket.sendMany?.(
      data,
      peers.map((p) => `127.0.0.1:${p.port}`),
      data.length,
    );
    await until(() => a.got.length === 6 && b.got.length === 2);
    // In order, each datagram whole: the kernel cut the runs where they were joined.
    expect(a.got.map((m) => [m.length, m[0]])).toEqual([
      [1200, 1],
      [1200, 2],
      [1200, 3],
      [700, 4],
      [1200, 5],
      [1200, 8],
    ]);
    expect(b.got.map((m) => [m.length, m[0]])).toEqual([
      [1200, 6],
      [900, 7],
    ]);
    expect(socket.nativeSends).toBe(BATCHING ? 8 : 0);
  });

  it('while node holds sends of ours, new ones queue behind them (order kept)', async () => {
    const { port, got } = await receiver();
    const socket = await bindUdpSocket('127.0.0.1:0', silent);
    open.push(socket);
    const to = `127.0.0.1:${port}`;
    // The oversized one goes to node (EMSGSIZE natively), so the next one must follow it there.
    socket.sendMany?.([datagram(0), new Uint8Array(70_000)], [to, to], 2);
    socket.sendMany?.([datagram(2)], [to], 1);
    const before = socket.nativeSends;
    await until(() => got.length === 2 && socket.sendErrors === 1);
    expect(got.map((b) => b[0])).toEqual([1, 3]);
    expect(before).toBe(BATCHING ? 1 : 0);
    // Node's callbacks ran: native again.
    socket.sendMany?.([datagram(4)], [to], 1);
    await until(() => got.length === 3);
    expect(socket.nativeSends).toBe(BATCHING ? 2 : 0);
  });

  it.skipIf(!HAS_V6)(
    'a dual-stack socket reaches IPv4 peers (IPv4-mapped) in a batch',
    async () => {
      const v4 = await receiver();
      const v6 = await receiver('udp6', '::1');
      const socket = await bindUdpSocket('[::]:0', silent);
      open.push(socket);
      const data = [datagram(0), datagram(1), datagram(2)];
      const to = [`127.0.0.1:${v4.port}`, `[::1]:${v6.port}`, `127.0.0.1:${v4.port}`];
      socket.sendMany?.(data, to, 3);
      await until(() => v4.got.length === 2 && v6.got.length === 1);
      expect(socket.nativeSends).toBe(BATCHING ? 3 : 0);
    },
  );

  it('what waits behind a datagram is read in one recvmmsg, in order, with the same remotes', async () => {
    const socket = await bindUdpSocket(HAS_V6 ? '[::]:0' : '127.0.0.1:0', silent);
    open.push(socket);
    const got: string[] = [];
    socket.onMessage((data, remote) => got.push(`${data.length}:${data[0]}@${remote}`));
    const port = socket.address().port;
    const senders: Array<{ sock: Socket; host: string }> = [];
    for (const [type, host] of HAS_V6
      ? ([
          ['udp4', '127.0.0.1'],
          ['udp6', '::1'],
        ] as const)
      : ([['udp4', '127.0.0.1']] as const)) {
      const sock = createSocket(type);
      await new Promise<void>((r) => sock.bind(0, host, () => r()));
      open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
      senders.push({ sock, host });
    }
    // All queued before this turn ends, so node's first callback finds the rest waiting.
    const expected: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { sock, host } = senders[i % senders.length];
      const size = 100 + i * 37;
      sock.send(new Uint8Array(size).fill(i), port, host);
      const local = sock.address().port;
      expected.push(`${size}:${i}@${host.includes(':') ? `[${host}]` : host}:${local}`);
    }
    await until(() => got.length === expected.length);
    expect(got).toEqual(expected);
    expect(socket.receiveErrors).toBe(0);
    if (BATCHING) expect(socket.drainedReceives).toBeGreaterThan(0);
    else expect(socket.drainedReceives).toBe(0);
  });

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
  segmentation = true;
  disableSegmentation(): void {
    this.segmentation = false;
  }
  send(data: Uint8Array, port: number, host: string): void {
    this.calls.push(`send ${data[0]}@${host}:${port}`);
  }
  sendMany(data: readonly Uint8Array[], remotes: readonly string[], count: number): void {
    const items = [];
    for (let i = 0; i < count; i++) items.push(`${data[i][0]}@${remotes[i]}`);
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

  it('several datagrams: one sendMany in order; one datagram: a sendMany of one', async () => {
    const { socket, ep, conn } = await setup();
    conn.outbox.push(
      { data: Uint8Array.of(1), to: '127.0.0.1:9' },
      { data: Uint8Array.of(2), to: '[::1]:10' },
      { data: Uint8Array.of(3), to: '127.0.0.1:11' },
    );
    ep.flushNow(conn);
    expect(socket.calls).toEqual(['sendMany 1@127.0.0.1:9 2@[::1]:10 3@127.0.0.1:11']);
    conn.outbox.push({ data: Uint8Array.of(4), to: '127.0.0.1:9' });
    ep.flushNow(conn);
    expect(socket.calls[1]).toBe('sendMany 4@127.0.0.1:9');
  });

  it('an endpoint writing a key log sends no segmented runs (captures stay dissectable)', async () => {
    const plain = new RecordingSocket();
    const logged = new RecordingSocket();
    const dir = mkdtempSync(join(tmpdir(), 'masque-gso-'));
    try {
      const create = () => new FakeConnection('c', [cid(0xb1)]);
      open.push(
        await UdpEndpoint.bind<FakeConnection, null>({
          socket: plain,
          createClientConnection: create,
        }),
      );
      open.push(
        await UdpEndpoint.bind<FakeConnection, null>({
          socket: logged,
          createClientConnection: create,
          keylogFile: join(dir, 'keys.log'),
        }),
      );
      expect(process.env.SSLKEYLOGFILE).toBeUndefined();
      expect(plain.segmentation).toBe(true);
      expect(logged.segmentation).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a long flush goes out in batches of 64', async () => {
    const { socket, ep, conn } = await setup();
    for (let i = 0; i < 130; i++) conn.outbox.push({ data: Uint8Array.of(i), to: '127.0.0.1:9' });
    ep.flushNow(conn);
    expect(socket.calls.map((c) => c.split(' ').length - 1)).toEqual([64, 64, 2]);
  });
});
