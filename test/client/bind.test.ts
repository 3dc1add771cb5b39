/**
 * `client.bindUdp()` over loopback against our proxy, with real UDP peers that were never dialled:
 * the uncompressed context, compression (automatic, explicit, the proxy's own), firewall mode,
 * bind with fallback (with and without bind on the proxy), IPv6, the legacy codepoints, and the
 * errors (a proxy without bind, a hostile proxy).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type MasqueBindOptions,
  MasqueBoundSocket,
  MasqueClient,
  MasqueError,
} from '../../src/client/index.js';
import { H3Server, type ServerConnectSession } from '../../src/runtime/server/index.js';
import { echoServer, startTestProxy, type TestProxy, testCert } from '../masque/proxy/loopback.js';
import { ipv6Available } from '../support/ipv6.js';
import { waitFor } from '../support/wait.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Peer {
  socket: Socket;
  port: number;
  got: Array<{ data: string; from: string }>;
}

async function peer(host = '127.0.0.1'): Promise<Peer> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const got: Peer['got'] = [];
  socket.on('message', (m, r) => got.push({ data: m.toString(), from: `${r.address}:${r.port}` }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, got };
}

async function setup(
  config: Record<string, unknown> = {},
): Promise<{ proxy: TestProxy; client: MasqueClient }> {
  const proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8', '::1/128'] }, ...config });
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const client = await MasqueClient.connect(proxy.proxy.template, { ca: [testCert.certPem] });
  cleanup.push(() => client.close());
  return { proxy, client };
}

async function bind(client: MasqueClient, options: MasqueBindOptions = {}) {
  const sock = await client.bindUdp(options);
  const got: Array<{ data: string; from: string }> = [];
  sock.on('message', (m, r) => got.push({ data: m.toString(), from: `${r.address}:${r.port}` }));
  return { sock, got };
}

async function codeOf(p: Promise<unknown>): Promise<MasqueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MasqueError);
  return err as MasqueError;
}

describe('client.bindUdp', () => {
  it('the uncompressed context: peers never dialled reach us, replies leave from the public address', async () => {
    const { client } = await setup();
    const { sock, got } = await bind(client, { compressAfter: 0 });
    expect(sock).toBeInstanceOf(MasqueBoundSocket);
    expect(sock.bound).toBe(true);
    const pub = sock.address();
    expect(pub).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(sock.contextOf('127.0.0.1', 9)).toEqual({
      contextId: 2,
      compressed: false,
      owner: 'client',
      acked: true,
    });
    const a = await peer();
    const b = await peer();
    a.socket.send('from a', pub.port, pub.address);
    b.socket.send('from b', pub.port, pub.address);
    await waitFor(() => got.length === 2);
    expect(got).toContainEqual({ data: 'from a', from: `127.0.0.1:${a.port}` });
    expect(got).toContainEqual({ data: 'from b', from: `127.0.0.1:${b.port}` });
    expect(sock.send('to a', a.port, '127.0.0.1')).toBe(true);
    expect(sock.send(Buffer.from('to b'), b.port, '127.0.0.1')).toBe(true);
    await waitFor(() => a.got.length === 1 && b.got.length === 1);
    expect(a.got[0]).toEqual({ data: 'to a', from: `127.0.0.1:${pub.port}` });
    expect(b.got[0]).toEqual({ data: 'to b', from: `127.0.0.1:${pub.port}` });
    expect(sock.stats()).toMatchObject({
      uncompressedSent: 2,
      uncompressedReceived: 2,
      compressedSent: 0,
      contexts: 1,
    });
  });

  it('compresses a peer automatically after compressAfter datagrams, both ways', async () => {
    const { client } = await setup({ bind: { compressAfter: 0 } });
    const { sock, got } = await bind(client, { compressAfter: 3 });
    const pub = sock.address();
    const a = await peer();
    for (let i = 0; i < 3; i++) sock.send(`u${i}`, a.port, '127.0.0.1');
    expect(sock.contextOf('127.0.0.1', a.port)).toMatchObject({ contextId: 2 }); // until the ACK
    await waitFor(() => sock.contextOf('127.0.0.1', a.port)?.compressed === true);
    expect(sock.contextOf('127.0.0.1', a.port)).toEqual({
      contextId: 4,
      compressed: true,
      owner: 'client',
      acked: true,
    });
    sock.send('c', a.port, '127.0.0.1');
    await waitFor(() => a.got.some((g) => g.data === 'c'));
    a.socket.send('back', pub.port, pub.address);
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'back', from: `127.0.0.1:${a.port}` });
    expect(sock.stats()).toMatchObject({ compressedSent: 1, compressedReceived: 1 });
    expect(a.got.map((g) => g.data).sort()).toEqual(['c', 'u0', 'u1', 'u2']);
  });

  it('compress(address, port) registers a peer explicitly', async () => {
    const { client } = await setup({ bind: { compressAfter: 0 } });
    const { sock, got } = await bind(client, { compressAfter: 0 });
    const a = await peer();
    expect(sock.compress('127.0.0.1', a.port)).toBe(true);
    expect(sock.compress('127.0.0.1', a.port)).toBe(false); // the tuple has one (§3.1)
    await waitFor(() => sock.contextOf('127.0.0.1', a.port)?.compressed === true);
    sock.send('x', a.port, '127.0.0.1');
    a.socket.send('y', sock.address().port, '127.0.0.1');
    await waitFor(() => a.got.length === 1 && got.length === 1);
    expect(sock.stats()).toMatchObject({
      compressedSent: 1,
      compressedReceived: 1,
      uncompressedSent: 0,
    });
  });

  it('firewall mode: without the uncompressed context only registered peers get through', async () => {
    const { client, proxy } = await setup();
    const { sock, got } = await bind(client, { uncompressed: false });
    const pub = sock.address();
    const a = await peer();
    const b = await peer();
    // Nothing can carry a datagram to b: a local drop, like UDP.
    expect(sock.send('to b', b.port, '127.0.0.1')).toBe(false);
    expect(sock.stats().drops).toMatchObject({ no_context: 1 });
    sock.compress('127.0.0.1', a.port);
    await waitFor(() => sock.contextOf('127.0.0.1', a.port)?.acked === true);
    expect(sock.contextOf('127.0.0.1', a.port)).toMatchObject({ contextId: 2, compressed: true });
    const noContext = () => proxy.proxy.handler.stats().drops.no_context ?? 0;
    b.socket.send('from b', pub.port, pub.address);
    await waitFor(() => noContext() === 1);
    a.socket.send('from a', pub.port, pub.address);
    await waitFor(() => got.length === 1);
    expect(got).toEqual([{ data: 'from a', from: `127.0.0.1:${a.port}` }]);
  });

  it("the proxy's own (odd) contexts are acknowledged and carry the peer's datagrams", async () => {
    const { client } = await setup({ bind: { compressAfter: 2 } });
    const { sock, got } = await bind(client, { compressAfter: 0 });
    const pub = sock.address();
    const a = await peer();
    a.socket.send('1', pub.port, pub.address);
    a.socket.send('2', pub.port, pub.address);
    await waitFor(() => sock.contextOf('127.0.0.1', a.port)?.owner === 'proxy');
    expect(sock.contextOf('127.0.0.1', a.port)).toMatchObject({ contextId: 1, compressed: true });
    // Our ACK travels on the stream: a's datagrams switch to Context ID 1 once it arrived.
    await waitFor(() => {
      a.socket.send('3', pub.port, pub.address);
      return sock.stats().compressedReceived > 0;
    });
    expect(got.every((g) => g.from === `127.0.0.1:${a.port}`)).toBe(true);
    // And we send on it too.
    sock.send('back', a.port, '127.0.0.1');
    await waitFor(() => a.got.length === 1);
    expect(sock.stats().compressedSent).toBe(1);
  });

  it('bind with fallback: Context ID 0 is the target, other peers are reachable too', async () => {
    const { client } = await setup();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const { sock, got } = await bind(client, { fallback: { host: '127.0.0.1', port: echo.port } });
    expect(sock.bound).toBe(true);
    expect(sock.contextOf('127.0.0.1', echo.port)).toMatchObject({ contextId: 0 });
    sock.send('ping');
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'ping', from: `127.0.0.1:${echo.port}` });
    const a = await peer();
    sock.send('hi', a.port, '127.0.0.1');
    await waitFor(() => a.got.length === 1);
    expect(a.got[0].from).toBe(`127.0.0.1:${sock.address().port}`);
  });

  it('bind with fallback to a proxy without bind: plain connect-udp to the target (bound: false)', async () => {
    const { client } = await setup({ bind: { enabled: false } });
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const { sock, got } = await bind(client, { fallback: { host: '127.0.0.1', port: echo.port } });
    expect(sock.bound).toBe(false);
    expect(sock.publicAddresses).toEqual([]);
    expect(() => sock.address()).toThrow(
      expect.objectContaining({ code: 'MASQUE_BIND_UNSUPPORTED' }),
    );
    sock.send('ping', echo.port, '127.0.0.1');
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'ping', from: `127.0.0.1:${echo.port}` });
    const a = await peer();
    const err = await new Promise<MasqueError | null>((r) =>
      sock.send('x', a.port, '127.0.0.1', r),
    );
    expect(err?.code).toBe('MASQUE_BIND_UNSUPPORTED');
  });

  it('a proxy without bind refuses */* : MASQUE_BIND_UNSUPPORTED with status 501', async () => {
    const { client } = await setup({ bind: { enabled: false } });
    const err = await codeOf(client.bindUdp());
    expect(err.code).toBe('MASQUE_BIND_UNSUPPORTED');
    expect(err.status).toBe(501);
    // The connection serves other tunnels on.
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const s = await client.connectUdp('127.0.0.1', echo.port);
    s.close();
  });

  it('IPv6: a peer on ::1 reaches us through the IPv6 public address', async () => {
    expect(await ipv6Available()).toBe(true);
    const { client } = await setup();
    const { sock, got } = await bind(client, { compressAfter: 2 });
    const v6 = sock.publicAddresses.find((a) => a.family === 'IPv6');
    expect(v6).toMatchObject({ address: '::1' });
    const p = await peer('::1');
    p.socket.send('six', v6?.port ?? 0, '::1');
    await waitFor(() => got.length === 1);
    expect(got[0]).toEqual({ data: 'six', from: `::1:${p.port}` });
    sock.send('back', p.port, '[::1]');
    sock.send('again', p.port, '0:0:0:0:0:0:0:1'); // the same peer, the same count
    await waitFor(() => p.got.length === 2);
    expect(p.got[0].from).toBe(`::1:${v6?.port}`);
    await waitFor(() => sock.contextOf('::1', p.port)?.compressed === true);
  });

  it('the legacy codepoints against a proxy set to legacy: the echo is the ACK', async () => {
    const { client } = await setup({ bind: { wire: 'legacy', compressAfter: 0 } });
    const { sock, got } = await bind(client, { wire: 'legacy', compressAfter: 2 });
    expect(sock.wire).toBe('legacy');
    const a = await peer();
    sock.send('1', a.port, '127.0.0.1');
    sock.send('2', a.port, '127.0.0.1');
    await waitFor(() => sock.contextOf('127.0.0.1', a.port)?.compressed === true);
    a.socket.send('c', sock.address().port, '127.0.0.1');
    await waitFor(() => got.length === 1);
    expect(sock.stats().compressedReceived).toBe(1);
  });

  it('a final-wire client gets no answer from a legacy-only proxy: MASQUE_TIMEOUT', async () => {
    const { client } = await setup({ bind: { wire: 'legacy' } });
    const err = await codeOf(client.bindUdp({ timeout: 300 }));
    expect(err.code).toBe('MASQUE_TIMEOUT');
  });

  it('async iteration yields each message with its sender', async () => {
    const { client } = await setup();
    const { sock } = await bind(client);
    const a = await peer();
    const it = sock[Symbol.asyncIterator]();
    a.socket.send('one', sock.address().port, '127.0.0.1');
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(first.value.msg.toString()).toBe('one');
    expect(first.value.rinfo).toMatchObject({ address: '127.0.0.1', port: a.port, family: 'IPv4' });
    sock.close();
    await sock.closed;
    expect((await it.next()).done).toBe(true);
    expect(sock.isClosed).toBe(true);
    const err = await new Promise<MasqueError | null>((r) =>
      sock.send('x', a.port, '127.0.0.1', r),
    );
    expect(err?.code).toBe('MASQUE_CLOSED');
  });

  it('refuses names and bad ports with MASQUE_INVALID_ARGUMENT', async () => {
    const { client } = await setup();
    const { sock } = await bind(client);
    const errs: string[] = [];
    sock.on('error', (e) => errs.push(e.code));
    sock.send('x', 53, 'example.com');
    sock.send('x', 0, '127.0.0.1');
    sock.send('x');
    await waitFor(() => errs.length === 3);
    expect(errs).toEqual(Array(3).fill('MASQUE_INVALID_ARGUMENT'));
  });
});

/**
 * The error a bind ends with: the rejection of bindUdp, or the socket's error when the proxy's
 * offence arrives after the uncompressed context's ACK was taken (the same packet may hold both).
 */
async function endOf(client: MasqueClient): Promise<unknown> {
  return client.bindUdp().then(
    (s) => s.closed.then(() => s.error),
    (e: unknown) => e,
  );
}

describe('client.bindUdp against a hostile proxy', () => {
  async function hostile(onSession: (s: ServerConnectSession) => void) {
    const server = await H3Server.listen({
      listen: '127.0.0.1:0',
      certPem: testCert.certPem,
      keyPem: testCert.keyPem,
    });
    cleanup.push(() => server.close({ timeout: 100 }));
    server.handleConnect(
      'connect-udp',
      (s) => {
        s.accept({ 'connect-udp-bind': '?1', 'proxy-public-address': '"127.0.0.1:9"' });
        onSession(s);
      },
      {
        knownCapsules: [
          [0x11, 64],
          [0x12, 16],
          [0x13, 16],
        ],
      },
    );
    const client = await MasqueClient.connect(
      `https://127.0.0.1:${server.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
      { ca: [testCert.certPem] },
    );
    cleanup.push(() => client.close());
    return { client };
  }

  it('an uncompressed registration from the proxy is malformed: H3_DATAGRAM_ERROR, MASQUE_PROTOCOL_ERROR', async () => {
    const { client } = await hostile((s) => {
      s.onCapsule((c) => {
        if (c.type === 0x11) {
          s.sendCapsule(0x12, Uint8Array.of(2)); // ACK of our uncompressed context
          s.sendCapsule(0x11, Uint8Array.of(1, 0)); // §4: IP Version 0 from the proxy
        }
      });
    });
    expect(await endOf(client)).toMatchObject({ code: 'MASQUE_PROTOCOL_ERROR', h3Code: 0x33 });
  });

  it('Context ID 0 on */* aborts the stream (§3)', async () => {
    const { client } = await hostile((s) => {
      s.onCapsule((c) => {
        if (c.type === 0x11) {
          s.sendCapsule(0x12, Uint8Array.of(2));
          s.sendDatagram(Uint8Array.of(0, 1, 2));
        }
      });
    });
    expect(await endOf(client)).toMatchObject({ code: 'MASQUE_PROTOCOL_ERROR', h3Code: 0x33 });
  });

  it('a legacy proxy: no echo of connect-udp-bind, an unquoted Proxy-Public-Address, still bound', async () => {
    const server = await H3Server.listen({
      listen: '127.0.0.1:0',
      certPem: testCert.certPem,
      keyPem: testCert.keyPem,
    });
    cleanup.push(() => server.close({ timeout: 100 }));
    server.handleConnect(
      'connect-udp',
      (s) => {
        s.accept({ 'proxy-public-address': '192.0.2.7:4433' });
        s.onCapsule((c) => s.sendCapsule(c.type, c.value)); // echo: the legacy ACK
      },
      {
        knownCapsules: [
          [0x1c0fe323, 64],
          [0x1c0fe324, 16],
        ],
      },
    );
    const client = await MasqueClient.connect(
      `https://127.0.0.1:${server.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
      { ca: [testCert.certPem] },
    );
    cleanup.push(() => client.close());
    const sock = await client.bindUdp({ wire: 'legacy' });
    expect(sock.bound).toBe(true);
    expect(sock.address()).toEqual({ address: '192.0.2.7', family: 'IPv4', port: 4433 });
    expect(sock.isClosed).toBe(false);
    expect(sock.send('x', 9, '192.0.2.1')).toBe(true);
  });

  it('a 2xx without connect-udp-bind and without an address, for */*: MASQUE_BIND_UNSUPPORTED', async () => {
    const server = await H3Server.listen({
      listen: '127.0.0.1:0',
      certPem: testCert.certPem,
      keyPem: testCert.keyPem,
    });
    cleanup.push(() => server.close({ timeout: 100 }));
    server.handleConnect('connect-udp', (s) => s.accept());
    const client = await MasqueClient.connect(
      `https://127.0.0.1:${server.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
      { ca: [testCert.certPem] },
    );
    cleanup.push(() => client.close());
    const err = await codeOf(client.bindUdp());
    expect(err.code).toBe('MASQUE_BIND_UNSUPPORTED');
    expect(err.status).toBe(200);
  });
});
