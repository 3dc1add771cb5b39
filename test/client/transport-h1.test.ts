/**
 * The SDK over HTTP/1.1 (where only HTTP/1.1 gets through): `transport: 'h1'` against our proxy's
 * TCP listener, one TLS connection per tunnel (RFC 9298 §3.3 Upgrade), connect-udp and bind
 * behaving as over HTTP/3 (datagrams as DATAGRAM capsules), refusals as MasqueErrors, QUIC-aware
 * refused with a clear error.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
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

async function peer(): Promise<Socket & { got: string[] }> {
  const s = Object.assign(createSocket('udp4'), { got: [] as string[] });
  s.on('message', (m) => s.got.push(m.toString()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** Access log lines of the proxy. */
let log: Array<Record<string, unknown>> = [];

async function h1Client(config: Record<string, unknown> = {}) {
  log = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') log.push(JSON.parse(line));
      cb();
    },
  });
  const proxy = await startTestProxy(config, { logger: pino({ level: 'info' }, sink) });
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const client = await MasqueClient.connect(template(proxy.proxy.port), {
    ca: [testCert.certPem],
    serverName: 'localhost',
    transport: 'h1',
  });
  cleanup.push(() => client.close());
  return { proxy, client };
}

describe('MasqueClient over HTTP/1.1', () => {
  it("transport 'h1': two tunnels echo, each on its own connection", async () => {
    const { proxy, client } = await h1Client();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    expect(client.transport).toBe('h1');
    expect(client.datagramsEnabled).toBe(false);
    const a = await client.connectUdp('127.0.0.1', echo.port);
    const b = await client.connectUdp('127.0.0.1', echo.port);
    const got: string[] = [];
    a.on('message', (m) => got.push(`a ${m}`));
    b.on('message', (m) => got.push(`b ${m}`));
    for (let i = 0; i < 10; i++) {
      a.send(`ping ${i}`);
      b.send(`ping ${i}`);
    }
    await waitFor(() => got.length === 20);
    expect(got.filter((g) => g.startsWith('a ')).sort()).toEqual(
      [...Array(10).keys()].map((i) => `a ping ${i}`).sort(),
    );
    const open = [...proxy.proxy.handler.tunnels];
    expect(open).toHaveLength(2);
    // The access log says h1, and one TCP connection per tunnel: two client addresses.
    const opened = log.filter((l) => l.event === 'open');
    expect(opened.map((l) => l.transport)).toEqual(['h1', 'h1']);
    expect(new Set(opened.map((l) => l.client)).size).toBe(2);
    expect(await proxy.proxy.metrics.metricsText()).toContain(
      'masque_tunnels_by_transport_total{transport="h1"} 2',
    );
    a.close();
    await waitFor(() => proxy.proxy.handler.stats().tunnelsActive === 1);
  });

  it('bind over HTTP/1.1: two peers reach the bound socket and get answers from it', async () => {
    const { client } = await h1Client({ bind: { compressAfter: 0 } });
    const bound = await client.bindUdp();
    expect(bound.bound).toBe(true);
    const pub = bound.address();
    const [p1, p2] = [await peer(), await peer()];
    const from = new Map<number, string>();
    bound.on('message', (m, r) => {
      from.set(r.port, m.toString());
      bound.send(`re ${m}`, r.port, r.address);
    });
    await waitFor(() => {
      p1.send('one', pub.port, '127.0.0.1');
      p2.send('two', pub.port, '127.0.0.1');
      return p1.got.length > 0 && p2.got.length > 0;
    });
    expect(from.get(p1.address().port)).toBe('one');
    expect(from.get(p2.address().port)).toBe('two');
    expect(p1.got[0]).toBe('re one');
    expect(p2.got[0]).toBe('re two');
  });

  it('refusals and QUIC-aware come back as MasqueErrors; a bad transport is named', async () => {
    const { client } = await h1Client();
    await expect(client.connectUdp('10.1.2.3', 53)).rejects.toMatchObject({
      code: MasqueErrorCode.PROXY_REFUSED,
      status: 502,
    });
    await expect(client.connectQuic('127.0.0.1', 9)).rejects.toMatchObject({
      code: MasqueErrorCode.NOT_SUPPORTED,
      message: expect.stringContaining('HTTP/1.1'),
    });
    await expect(
      MasqueClient.connect(template(1), { transport: 'h4' as 'h1' }),
    ).rejects.toMatchObject({
      code: MasqueErrorCode.INVALID_ARGUMENT,
      message: "transport must be 'h3', 'h2', 'h1' or 'auto', not h4",
    });
  });

  it('a proxy without HTTP/1.1 (http2.http1 false) is unreachable over it', async () => {
    const proxy = await startTestProxy({ http2: { http1: false } });
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    await expect(
      MasqueClient.connect(template(proxy.proxy.port), {
        ca: [testCert.certPem],
        serverName: 'localhost',
        transport: 'h1',
        connectTimeout: 3000,
      }),
    ).rejects.toMatchObject({ code: MasqueErrorCode.CONNECT_FAILED });
  });
});
