/**
 * connect-udp over HTTP/2 (RFC 8441 extended CONNECT, RFC 9298 §3.3-3.4), for networks that block
 * UDP: the proxy listens on TCP beside UDP, same port number and certificate. The client here is
 * node:http2 itself (code we did not write) with the capsules framed by hand from RFC 9297.
 */
import { type ClientHttp2Session, connect } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { datagramCapsule, capsuleReader as reader } from '../../support/capsule-frames.js';
import { waitFor } from '../../support/wait.js';
import { echoServer, startTestProxy, type TestProxy, testCert } from './loopback.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function h2(proxy: TestProxy): Promise<ClientHttp2Session> {
  const port = proxy.proxy.h2Port as number;
  const session = connect(`https://127.0.0.1:${port}`, {
    ca: testCert.certPem,
    servername: 'localhost',
  });
  cleanup.push(async () => session.destroy());
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', (s) => {
      // RFC 8441 §3: extended CONNECT only once the server said so.
      expect(s.enableConnectProtocol).toBe(true);
      resolve();
    });
    session.once('error', reject);
  });
  return session;
}

describe('connect-udp over HTTP/2 (node:http2 as the client)', () => {
  it('the TCP listener shares the UDP port number; datagrams echo as DATAGRAM capsules', async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    expect(proxy.proxy.h2Port).toBe(proxy.proxy.port);
    const session = await h2(proxy);
    const req = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'connect-udp',
        ':scheme': 'https',
        ':authority': `localhost:${proxy.proxy.port}`,
        ':path': `/.well-known/masque/udp/127.0.0.1/${echo.port}/`,
        'capsule-protocol': '?1',
      },
      { endStream: false },
    );
    const response = await new Promise<Record<string, unknown>>((r) => req.once('response', r));
    expect(response[':status']).toBe(200);
    expect(response['capsule-protocol']).toBe('?1');
    const r = reader();
    req.on('data', (c: Buffer) => r.push(c));
    for (let i = 0; i < 20; i++) req.write(datagramCapsule([i, 1, 2, 3]));
    await waitFor(() => r.payloads.length === 20);
    expect(r.payloads.map((p) => p[0]).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(proxy.proxy.handler.stats().tunnelsActive).toBe(1);
    req.close();
    await waitFor(() => proxy.proxy.handler.stats().tunnelsActive === 0);
  });

  it('refusals carry Proxy-Status; a malformed capsule resets only its stream (PROTOCOL_ERROR)', async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const session = await h2(proxy);
    const connectTo = (path: string) =>
      session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'connect-udp',
          ':scheme': 'https',
          ':authority': `localhost:${proxy.proxy.port}`,
          ':path': path,
          'capsule-protocol': '?1',
        },
        { endStream: false },
      );
    const refused = connectTo('/.well-known/masque/udp/10.1.2.3/53/');
    const head = await new Promise<Record<string, unknown>>((r) => refused.once('response', r));
    expect(head[':status']).toBe(502);
    expect(String(head['proxy-status'])).toContain('destination_ip_prohibited');

    const good = connectTo(`/.well-known/masque/udp/127.0.0.1/${echo.port}/`);
    const big = connectTo(`/.well-known/masque/udp/127.0.0.1/${echo.port}/`);
    await Promise.all([good, big].map((s) => new Promise((r) => s.once('response', r))));
    // A COMPRESSION_ASSIGN (0x11) longer than any valid one: above its cap, malformed.
    big.on('error', () => {}); // the reset surfaces as an error event too
    big.write(Buffer.concat([Buffer.from([0x11, 0x40, 0x40]), Buffer.alloc(64)]));
    const code = await new Promise<number>((r) => big.once('close', () => r(big.rstCode)));
    expect(code).toBe(0x1); // PROTOCOL_ERROR
    const rd = reader();
    good.on('data', (c: Buffer) => rd.push(c));
    good.write(datagramCapsule([9, 9]));
    await waitFor(() => rd.payloads.length === 1);
  });

  it('other requests get 404 with Alt-Svc pointing at HTTP/3', async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const session = await h2(proxy);
    const req = session.request({ ':path': '/' });
    const head = await new Promise<Record<string, unknown>>((r) => req.once('response', r));
    expect(head[':status']).toBe(404);
    expect(head['alt-svc']).toBe(`h3=":${proxy.proxy.port}"; ma=86400`);
    req.close();
  });
});
