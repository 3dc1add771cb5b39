/**
 * `udp-forward --target localhost:PORT` end to end through a proxy on 127.0.0.1: the proxy
 * resolves the name as the system does (/etc/hosts), where its c-ares resolver said NXDOMAIN.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpForwarder } from '../../src/cli/udp-forward.js';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('udp-forward to a name in /etc/hosts', () => {
  it('--target localhost reaches the echo server on 127.0.0.1', async () => {
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const echo = await echoServer('127.0.0.1');
    cleanup.push(() => echo.close());
    const forwarder = await UdpForwarder.start({
      proxy: proxy.template,
      listen: '127.0.0.1:0',
      target: `localhost:${echo.port}`,
      ca: [testCert.certPem],
    });
    cleanup.push(() => forwarder.close());
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    cleanup.push(() => peer.close());
    const port = Number(forwarder.address.slice(forwarder.address.lastIndexOf(':') + 1));
    // As dig does: ask again until answered (the first datagram may wait for the tunnel).
    const answer = await new Promise<string>((resolve) => {
      const ask = (): void => peer.send('hello localhost', port, '127.0.0.1');
      const timer = setInterval(ask, 500);
      peer.once('message', (m) => {
        clearInterval(timer);
        resolve(m.toString());
      });
      ask();
    });
    expect(answer).toBe('hello localhost');
    expect(echo.received).toBeGreaterThan(0);
    expect(forwarder.stats().tunnelsFailed).toBe(0);
    expect(proxy.handler.stats().rejected).toEqual({});
  });
});
