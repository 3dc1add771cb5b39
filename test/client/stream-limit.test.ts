/**
 * Stream credit and tunnel limits: the proxy's stream credit follows its tunnel limit, so the
 * tunnel past the limit is refused (429) instead of hanging; and a client that waits for credit
 * says so in its error.
 */

import { MasqueClient, MasqueError, type MasqueUdpSocket } from 'masque';
import { H3Server } from 'masque/http3';
import { afterEach, describe, expect, it } from 'vitest';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function errorOf(p: Promise<unknown>): Promise<MasqueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MasqueError);
  return err as MasqueError;
}

describe('stream credit and tunnel limits', () => {
  it('the tunnel past a limit above 100 is refused with 429, not left waiting for credit', async () => {
    const limit = 130; // above the QUIC default of 100 concurrent streams
    const { proxy } = await startTestProxy({ limits: { tunnelsPerConnection: limit } });
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
    cleanup.push(() => client.close());
    const socks: MasqueUdpSocket[] = [];
    for (let i = 0; i < limit; i++) socks.push(await client.connectUdp('127.0.0.1', echo.port));
    const over = await errorOf(client.connectUdp('127.0.0.1', echo.port, { timeout: 5000 }));
    expect(over.code).toBe('MASQUE_PROXY_REFUSED');
    expect(over.status).toBe(429);
    expect(proxy.handler.stats().rejected).toEqual({ TUNNELS_PER_CONNECTION: 1 });
    // One tunnel closes: the next request gets its place.
    socks[0].close();
    await socks[0].closed;
    await expect.poll(() => proxy.handler.stats().tunnelsActive).toBe(limit - 1);
    const again = await client.connectUdp('127.0.0.1', echo.port);
    expect(again.isClosed).toBe(false);
  });

  it('a request waiting for stream credit fails with MASQUE_STREAM_LIMIT, naming the limit', async () => {
    const server = await H3Server.listen({
      listen: '127.0.0.1:0',
      certPem: testCert.certPem,
      keyPem: testCert.keyPem,
      transport: { initialMaxStreamsBidi: 2 },
    });
    cleanup.push(() => server.close({ timeout: 200 }));
    server.handleConnect('connect-udp', (s) => s.accept(), { capsuleProtocol: 'always' });
    const template = `https://127.0.0.1:${server.port}/.well-known/masque/udp/{target_host}/{target_port}/`;
    const client = await MasqueClient.connect(template, { ca: [testCert.certPem] });
    cleanup.push(() => client.close());
    await client.connectUdp('192.0.2.1', 1);
    await client.connectUdp('192.0.2.1', 2);
    const err = await errorOf(client.connectUdp('192.0.2.1', 3, { timeout: 300 }));
    expect(err.code).toBe('MASQUE_STREAM_LIMIT');
    expect(err.message).toContain('allows 2 concurrent requests');
  });
});
