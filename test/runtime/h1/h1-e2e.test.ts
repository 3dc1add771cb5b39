/**
 * connect-udp over HTTP/1.1 (RFC 9298 §3.3-3.4: GET + `Upgrade: connect-udp`, answered 101), on
 * the proxy's TCP listener beside HTTP/2, same port and certificate, ALPN choosing. The clients
 * here are not ours: node:http doing the Upgrade handshake, raw TLS bytes, and curl; capsules are
 * framed by hand from RFC 9297.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  echoServer,
  startTestProxy,
  type TestProxy,
  testCert,
} from '../../masque/proxy/loopback.js';
import { capsuleReader, datagramCapsule } from '../../support/capsule-frames.js';
import { waitFor } from '../../support/wait.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const tls = (port: number, alpn: string[] = ['http/1.1']): TLSSocket =>
  tlsConnect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca: testCert.certPem,
    ALPNProtocols: alpn,
  });

interface Answer {
  res: IncomingMessage;
  /** The connection, when the proxy switched protocols. */
  socket?: Duplex;
}

/** An upgrade request by node:http over TLS with ALPN http/1.1. */
function upgrade(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      method,
      path,
      headers: {
        Host: `localhost:${port}`,
        Connection: 'Upgrade',
        Upgrade: 'connect-udp',
        'Capsule-Protocol': '?1',
        ...headers,
      },
      createConnection: () => {
        const s = tls(port);
        cleanup.push(async () => s.destroy());
        return s;
      },
    });
    req.on('upgrade', (res, socket) => resolve({ res, socket }));
    req.on('response', (res) => {
      res.resume();
      resolve({ res });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes `bytes` on a fresh TLS connection and reads until the proxy ends it. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls(port);
    cleanup.push(async () => s.destroy());
    let text = '';
    s.on('secureConnect', () => s.write(bytes));
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

const udpPath = (port: number) => `/.well-known/masque/udp/127.0.0.1/${port}/`;

async function setup(config: Record<string, unknown> = {}) {
  const proxy = await startTestProxy(config);
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  return { proxy, echo, port: proxy.proxy.h2Port as number };
}

async function echoes(socket: Duplex, n: number, tag = 0): Promise<void> {
  const r = capsuleReader();
  socket.on('data', (c: Buffer) => r.push(c));
  for (let i = 0; i < n; i++) socket.write(datagramCapsule([tag, i, 1, 2, 3]));
  await waitFor(() => r.payloads.length === n);
  expect(r.payloads.map((p) => p[1]).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
    ...Array(n).keys(),
  ]);
  expect(r.payloads.every((p) => p[0] === tag)).toBe(true);
}

const stats = (p: TestProxy) => p.proxy.handler.stats();

describe('connect-udp over HTTP/1.1 (node:http as the client)', () => {
  it('101 with Connection/Upgrade/Capsule-Protocol; DATAGRAM capsules echo both ways', async () => {
    const { proxy, echo, port } = await setup();
    expect(port).toBe(proxy.proxy.port);
    const { res, socket } = await upgrade(port, udpPath(echo.port));
    expect(res.statusCode).toBe(101);
    expect(res.headers.connection).toBe('Upgrade');
    expect(res.headers.upgrade).toBe('connect-udp');
    expect(res.headers['capsule-protocol']).toBe('?1');
    expect(String(res.headers['proxy-status'])).toContain('next-hop=');
    expect((socket as TLSSocket).alpnProtocol).toBe('http/1.1');
    await echoes(socket as Duplex, 20);
    expect(stats(proxy).tunnelsActive).toBe(1);
    expect(await proxy.proxy.metrics.metricsText()).toContain(
      'masque_tunnels_by_transport_total{transport="h1"} 1',
    );
    // RFC 9297 §3.3 clean end: our FIN ends the tunnel, and the proxy ends its side.
    const ended = new Promise((r) => socket?.once('end', r));
    socket?.end();
    await ended;
    await waitFor(() => stats(proxy).tunnelsActive === 0);
  });

  it('capsules sent right behind the request head (before the 101) are relayed', async () => {
    const { echo, port } = await setup();
    const s = tls(port);
    cleanup.push(async () => s.destroy());
    await new Promise((r) => s.once('secureConnect', r));
    const head =
      `GET https://localhost:${port}${udpPath(echo.port)} HTTP/1.1\r\n` +
      `Host: ignored.example\r\nConnection: keep-alive, Upgrade\r\nUpgrade: CONNECT-UDP\r\n` +
      'Capsule-Protocol: ?1\r\n\r\n';
    let text = '';
    const r = capsuleReader();
    let inBody = false;
    s.on('data', (d: Buffer) => {
      if (inBody) return r.push(d);
      text += d.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      if (at < 0) return;
      inBody = true;
      r.push(Buffer.from(text.slice(at + 4), 'latin1'));
      text = text.slice(0, at);
    });
    s.write(Buffer.concat([Buffer.from(head, 'latin1'), datagramCapsule([7, 7])]));
    await waitFor(() => r.payloads.length === 1);
    // Absolute-form target (RFC 9298's example), Upgrade token in another case, Connection a list.
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text).toContain('\r\nUpgrade: connect-udp\r\n');
    expect(r.payloads[0]).toEqual([7, 7]);
  });

  it('bind (Connect-UDP-Bind: ?1) is answered 101 with its echo and Proxy-Public-Address', async () => {
    const { port } = await setup({ bind: { enabled: true } });
    const { res, socket } = await upgrade(port, '/.well-known/masque/udp/%2A/%2A/', {
      'Connect-UDP-Bind': '?1',
    });
    expect(res.statusCode).toBe(101);
    expect(res.headers['connect-udp-bind']).toBe('?1');
    const publicAddress = String(res.headers['proxy-public-address']);
    expect(publicAddress).toMatch(/:\d+/);
    socket?.end();
  });

  it('a malformed capsule stream closes its connection only; the other tunnel goes on', async () => {
    const { proxy, echo, port } = await setup();
    const good = await upgrade(port, udpPath(echo.port));
    const bad = await upgrade(port, udpPath(echo.port));
    expect([good.res.statusCode, bad.res.statusCode]).toEqual([101, 101]);
    await waitFor(() => stats(proxy).tunnelsActive === 2);
    // A COMPRESSION_ASSIGN (0x11) longer than any valid one: above its cap, malformed (§3.3).
    const closed = new Promise((r) => bad.socket?.once('close', r));
    bad.socket?.on('error', () => {});
    bad.socket?.write(Buffer.concat([Buffer.from([0x11, 0x40, 0x40]), Buffer.alloc(64)]));
    await closed;
    await waitFor(() => stats(proxy).tunnelsActive === 1);
    await echoes(good.socket as Duplex, 5, 1);
  });

  it('a capsule cut short by the client FIN is malformed (RFC 9297 §3.3)', async () => {
    const { proxy, echo, port } = await setup();
    const { socket } = await upgrade(port, udpPath(echo.port));
    await waitFor(() => stats(proxy).tunnelsActive === 1);
    socket?.on('error', () => {});
    // Declares 10 bytes of value, sends 2.
    socket?.end(Buffer.from([0x00, 0x0a, 0x00, 0x01]));
    // The close code is the adapter's to show (h1-connect-session.test.ts); here: it ended.
    await waitFor(() => stats(proxy).tunnelsActive === 0);
    expect(stats(proxy).closed.client).toBe(1);
  });

  it('wrong requests get the right status, with Proxy-Status, counted as refusals', async () => {
    const { proxy, echo, port } = await setup();
    const status = async (a: Promise<Answer>) => {
      const { res } = await a;
      return [res.statusCode, String(res.headers['proxy-status'] ?? '')];
    };
    // RFC 9298 §3.3: the method SHALL be GET.
    const post = await status(upgrade(port, udpPath(echo.port), {}, 'POST'));
    expect(post[0]).toBe(400);
    expect(post[1]).toContain('H1_METHOD_NOT_GET');
    // No `Connection: Upgrade`: node sees no upgrade; still a malformed connect-udp request.
    const noConn = await status(upgrade(port, udpPath(echo.port), { Connection: 'keep-alive' }));
    expect(noConn[0]).toBe(400);
    expect(noConn[1]).toContain('H1_CONNECTION_NOT_UPGRADE');
    // A bad target (port 0) and one the policy denies: the handler's own answers.
    expect((await status(upgrade(port, '/.well-known/masque/udp/127.0.0.1/0/')))[0]).toBe(400);
    const denied = await status(upgrade(port, '/.well-known/masque/udp/10.1.2.3/53/'));
    expect(denied[0]).toBe(502);
    expect(denied[1]).toContain('destination_ip_prohibited');
    // RFC 9297 §3.2: no content with the Capsule Protocol.
    const body = await status(upgrade(port, udpPath(echo.port), { 'Content-Length': '0' }));
    expect(body[0]).toBe(400);
    expect(body[1]).toContain('CONTENT_HEADER');
    // Two Host fields (RFC 9298 §3.3 "a single Host header field"): raw bytes, node will not.
    const twoHosts = await raw(
      port,
      `GET ${udpPath(echo.port)} HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\n` +
        'Upgrade: connect-udp\r\n\r\n',
    );
    expect(twoHosts).toMatch(/^HTTP\/1\.1 400 /);
    expect(twoHosts).toContain('H1_HOST_INVALID');
    const rejected = stats(proxy).rejected;
    expect(rejected).toMatchObject({
      H1_METHOD_NOT_GET: 1,
      H1_CONNECTION_NOT_UPGRADE: 1,
      H1_HOST_INVALID: 1,
      TARGET_PORT_INVALID: 1,
      CONTENT_HEADER: 1,
    });
    expect(await proxy.proxy.metrics.metricsText()).toContain(
      'masque_tunnels_rejected_total{reason="H1_METHOD_NOT_GET"} 1',
    );
    expect(stats(proxy).tunnelsActive).toBe(0);
  });

  it('Capsule-Protocol is optional unless request.requireCapsuleProtocol says otherwise', async () => {
    const lax = await setup();
    const a = await upgrade(lax.port, udpPath(lax.echo.port), { 'Capsule-Protocol': '?0' });
    expect(a.res.statusCode).toBe(101);
    const strict = await setup({ request: { requireCapsuleProtocol: true } });
    const b = await upgrade(strict.port, udpPath(strict.echo.port), { 'Capsule-Protocol': '?0' });
    expect(b.res.statusCode).toBe(400);
    expect(String(b.res.headers['proxy-status'])).toContain('CAPSULE_PROTOCOL_MISSING');
  });

  it('other requests get 404 with Alt-Svc; an over-long head gets node’s 431', async () => {
    const { proxy, port } = await setup();
    const plain = await upgrade(port, '/', { Connection: 'close', Upgrade: 'websocket' });
    expect(plain.res.statusCode).toBe(404);
    expect(plain.res.headers['alt-svc']).toBe(`h3=":${proxy.proxy.port}"; ma=86400`);
    const long = await raw(
      port,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(long).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('curl --http1.1: a request without Upgrade gets 404 + Alt-Svc, a POST upgrade 400', async () => {
    const { proxy, echo, port } = await setup();
    const dir = await mkdtemp(join(tmpdir(), 'masque-h1-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, testCert.certPem);
    const base = ['--http1.1', '-sS', '-i', '--cacert', ca];
    const url = (path: string) => `https://localhost:${port}${path}`;
    const curl = async (args: string[]) =>
      (
        await promisify(execFile)(
          'curl',
          [...base, '--resolve', `localhost:${port}:127.0.0.1`, ...args],
          { timeout: 10_000 },
        )
      ).stdout;
    const plain = await curl([url('/')]);
    expect(plain).toMatch(/^HTTP\/1\.1 404 /);
    expect(plain.toLowerCase()).toContain(`alt-svc: h3=":${proxy.proxy.port}"; ma=86400`);
    const post = await curl([
      '-X',
      'POST',
      '-H',
      'Connection: Upgrade',
      '-H',
      'Upgrade: connect-udp',
      url(udpPath(echo.port)),
    ]);
    expect(post).toMatch(/^HTTP\/1\.1 400 /);
    expect(post).toContain('H1_METHOD_NOT_GET');
  });
});
