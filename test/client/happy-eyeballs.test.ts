/**
 * The SDK reaching a proxy by a host name with both families (client.ts, RFC 8305 §5): the
 * preferred IPv6 address goes nowhere (nothing listens there, or the host has no IPv6), and the
 * IPv4 handshake, started after the attempt delay or at the IPv6 failure, carries the tunnel.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MasqueClient } from '../../src/client/index.js';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('MasqueClient.connect to a dual-stack proxy name', () => {
  it('falls to IPv4 when the IPv6 handshake does not complete, and the tunnel works', async () => {
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 200 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const asked: string[] = [];
    const template = proxy.template.replace('127.0.0.1', 'proxy.test');
    const client = await MasqueClient.connect(template, {
      ca: [testCert.certPem],
      serverName: 'localhost',
      connectTimeout: 3000,
      lookup: async (host) => {
        asked.push(host);
        return [
          { address: '127.0.0.1', family: 4 },
          { address: '::1', family: 6 },
        ];
      },
      happyEyeballs: { prefer: 'ipv6', attemptDelayMs: 50 },
    });
    cleanup.push(() => client.close());
    expect(asked).toEqual(['proxy.test']);
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const answer = new Promise<Buffer>((r) => sock.once('message', (m: Buffer) => r(m)));
    sock.send(Buffer.from('over IPv4'));
    expect((await answer).toString()).toBe('over IPv4');
  });
});
