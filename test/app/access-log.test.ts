/**
 * The proxy's access log: one structured info line when a tunnel opens and one when it closes,
 * with what an operator asks of a tunnel afterwards (who, where, which mode, the answer, how much
 * each way, what was dropped, how long, why it ended); refusals at info with their target; a
 * configuration switch turns the tunnel lines off.
 */
import { Writable } from 'node:stream';
import { MasqueClient } from 'masque';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../../src/app/index.js';
import { parseConfig } from '../../src/config/index.js';
import { echoServer, testCert } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Line = Record<string, unknown>;

/** A proxy whose log lines (JSON) are collected; logLevel as an operator would leave it. */
async function proxyWithLog(config: Record<string, unknown>): Promise<{
  proxy: RunningProxy;
  lines: Line[];
}> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l));
      done();
    },
  });
  const proxy = await startProxy(parseConfig({ listen: '127.0.0.1:0', ...config }), {
    certPem: testCert.certPem,
    keyPem: testCert.keyPem,
    logger: pino({ level: 'info' }, sink),
  });
  cleanup.push(() => proxy.close({ timeout: 0 }));
  return { proxy, lines };
}

async function client(proxy: RunningProxy): Promise<MasqueClient> {
  const c = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
  cleanup.push(() => c.close());
  return c;
}

describe('access log', () => {
  it('logs a tunnel at open and at close with its counters, mode, status and close reason', async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const { proxy, lines } = await proxyWithLog({ targets: { allow: ['127.0.0.0/8'] } });
    const start = lines.find((l) => l.msg === 'proxy listening');
    expect(start).toMatchObject({ level: 30, listen: `${proxy.address} (HTTP/3, UDP)` });
    const c = await client(proxy);
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    let echoed = 0;
    sock.on('message', () => {
      echoed++;
    });
    for (let i = 0; i < 3; i++) sock.send(new Uint8Array(100 + i));
    await waitFor(() => echoed === 3, { what: 'three echoes' });
    const open = lines.find((l) => l.log === 'access' && l.event === 'open');
    expect(open).toMatchObject({
      level: 30,
      client: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      target: `127.0.0.1:${echo.port}`,
      mode: 'plain',
      status: 200,
      proxyStatus: expect.stringContaining('next-hop'),
    });
    sock.close();
    await waitFor(() => lines.some((l) => l.event === 'close'), { what: 'the close line' });
    const close = lines.find((l) => l.event === 'close') as Line;
    expect(close).toMatchObject({
      log: 'access',
      client: open?.client,
      target: `127.0.0.1:${echo.port}`,
      mode: 'plain',
      status: 200,
      reason: 'client',
      datagramsToTarget: 3,
      bytesToTarget: 100 + 101 + 102,
      datagramsToClient: 3,
      bytesToClient: 100 + 101 + 102,
      dropped: 0,
      drops: {},
    });
    expect(close.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('logs a refusal at info with its target, status and Proxy-Status', async () => {
    const { proxy, lines } = await proxyWithLog({});
    const c = await client(proxy);
    await expect(c.connectUdp('127.0.0.1', 9)).rejects.toMatchObject({ status: 502 });
    const refused = lines.find((l) => l.event === 'refused');
    expect(refused).toMatchObject({
      level: 30,
      log: 'access',
      path: '/.well-known/masque/udp/127.0.0.1/9/',
      status: 502,
      proxyStatus: expect.stringContaining('destination_ip_prohibited'),
    });
  });

  it('accessLog: false leaves out the tunnel lines (refusals stay)', async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const { proxy, lines } = await proxyWithLog({
      targets: { allow: ['127.0.0.0/8'] },
      accessLog: false,
    });
    const c = await client(proxy);
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    sock.close();
    await waitFor(() => proxy.handler.stats().tunnelsActive === 0, { what: 'the tunnel closed' });
    expect(lines.filter((l) => l.event === 'open' || l.event === 'close')).toEqual([]);
  });
});
