/**
 * The SDK over HTTP/2 (where UDP is blocked): `transport: 'h2'` against our proxy's TCP listener,
 * connect-udp and bind behaving as over HTTP/3 (datagrams as DATAGRAM capsules), QUIC-aware
 * refused with a clear error, and `transport: 'auto'` falling back when UDP to the proxy goes
 * nowhere (the template points at a port where only TCP answers).
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpForwarder } from '../../src/cli/udp-forward.js';
import { MasqueClient } from '../../src/client/client.js';
import { MasqueErrorCode } from '../../src/client/errors.js';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const template = (port: number) =>
  `https://127.0.0.1:${port}/.well-known/masque/udp/{target_host}/{target_port}/`;

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('MasqueClient over HTTP/2', () => {
  it("transport 'h2': connect-udp echoes and bind works, as over HTTP/3", async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const client = await MasqueClient.connect(template(proxy.proxy.port), {
      ca: [testCert.certPem],
      serverName: 'localhost',
      transport: 'h2',
    });
    cleanup.push(() => client.close());
    expect(client.transport).toBe('h2');
    expect(client.datagramsEnabled).toBe(false);
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString()));
    for (let i = 0; i < 10; i++) sock.send(`ping ${i}`);
    await waitFor(() => got.length === 10);
    expect(got.sort()).toEqual([...Array(10).keys()].map((i) => `ping ${i}`).sort());

    const bound = await client.bindUdp();
    expect(bound.bound).toBe(true);
    const replies: string[] = [];
    bound.on('message', (m) => replies.push(m.toString()));
    await waitFor(() => {
      bound.send('via bind', echo.port, '127.0.0.1');
      return replies.length > 0;
    });
    expect(replies[0]).toBe('via bind');

    await expect(client.connectQuic('127.0.0.1', echo.port)).rejects.toMatchObject({
      code: MasqueErrorCode.NOT_SUPPORTED,
    });
  });

  it("transport 'auto' falls back to HTTP/2 when UDP to the proxy goes nowhere", async () => {
    const tcp = await freePort();
    const proxy = await startTestProxy({ http2: { listen: `127.0.0.1:${tcp}` } });
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    expect(proxy.proxy.h2Port).toBe(tcp);
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    // Nothing answers UDP on `tcp`: HTTP/3 cannot connect, HTTP/2 can.
    const client = await MasqueClient.connect(template(tcp), {
      ca: [testCert.certPem],
      serverName: 'localhost',
      transport: 'auto',
      h3HeadStart: 100,
      connectTimeout: 3000,
    });
    cleanup.push(() => client.close());
    expect(client.transport).toBe('h2');
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString()));
    await waitFor(() => {
      sock.send('hello');
      return got.length > 0;
    });
  });

  it("transport 'auto' falls back to HTTP/1.1 when UDP goes nowhere and the proxy's TCP side offers only HTTP/1.1", async () => {
    const tcp = await freePort();
    const proxy = await startTestProxy({ http2: { listen: `127.0.0.1:${tcp}`, h2: false } });
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const client = await MasqueClient.connect(template(tcp), {
      ca: [testCert.certPem],
      serverName: 'localhost',
      transport: 'auto',
      h3HeadStart: 100,
      connectTimeout: 3000,
    });
    cleanup.push(() => client.close());
    // One TLS connection offered h2 and http/1.1; the proxy chose http/1.1.
    expect(client.transport).toBe('h1');
    const socks = await Promise.all([0, 1].map(() => client.connectUdp('127.0.0.1', echo.port)));
    for (const [i, sock] of socks.entries()) {
      const got: string[] = [];
      sock.on('message', (m) => got.push(m.toString()));
      await waitFor(() => {
        sock.send(`hello ${i}`);
        return got.length > 0;
      });
      expect(got[0]).toBe(`hello ${i}`);
    }
    // And a client asking for HTTP/2 alone is told the proxy does not speak it there.
    await expect(
      MasqueClient.connect(template(tcp), {
        ca: [testCert.certPem],
        serverName: 'localhost',
        transport: 'h2',
        connectTimeout: 3000,
      }),
    ).rejects.toMatchObject({ code: MasqueErrorCode.CONNECT_FAILED });
  });

  it("transport 'auto' keeps HTTP/3 when it connects within its head start", async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const client = await MasqueClient.connect(template(proxy.proxy.port), {
      ca: [testCert.certPem],
      serverName: 'localhost',
      transport: 'auto',
      h3HeadStart: 5000,
    });
    cleanup.push(() => client.close());
    expect(client.transport).toBe('h3');
  });

  it('udp-forward --transport h2 carries a local port through the proxy over HTTP/2', async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const fwd = await UdpForwarder.start({
      proxy: `https://127.0.0.1:${proxy.proxy.port}`,
      listen: '127.0.0.1:0',
      target: `127.0.0.1:${echo.port}`,
      ca: [testCert.certPem],
      transport: 'h2',
    });
    cleanup.push(() => fwd.close());
    const local = createSocket('udp4');
    cleanup.push(() => new Promise<void>((r) => local.close(() => r())));
    const got: string[] = [];
    local.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => local.bind(0, '127.0.0.1', () => r()));
    const port = Number(fwd.address.slice(fwd.address.lastIndexOf(':') + 1));
    await waitFor(() => {
      local.send('over h2', port, '127.0.0.1');
      return got.length > 0;
    });
    expect(got[0]).toBe('over h2');
    expect(proxy.proxy.handler.stats().tunnelsActive).toBe(1);
  });
});
