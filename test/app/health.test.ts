/**
 * Health and status: `/healthz` (liveness) and `/readyz` (readiness: 503 while draining) on the
 * metrics listener; the HTTP/3 status endpoint answers only authenticated clients when the proxy
 * has authentication on.
 */
import { MasqueClient } from 'masque';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../../src/app/index.js';
import { parseConfig } from '../../src/config/index.js';
import { echoServer, testCert } from '../masque/proxy/loopback.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(config: Record<string, unknown>): Promise<RunningProxy> {
  const proxy = await startProxy(
    parseConfig({ listen: '127.0.0.1:0', logLevel: 'silent', ...config }),
    { certPem: testCert.certPem, keyPem: testCert.keyPem, logger: pino({ level: 'silent' }) },
  );
  cleanup.push(() => proxy.close({ timeout: 0 }));
  return proxy;
}

async function get(proxy: RunningProxy, path: string): Promise<[number, string]> {
  const res = await fetch(`http://${proxy.metricsAddress}${path}`);
  return [res.status, await res.text()];
}

describe('health endpoints', () => {
  it('/healthz and /readyz answer 200; while draining /readyz says 503 and /healthz stays 200', async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const proxy = await start({
      metrics: { listen: '127.0.0.1:0' },
      targets: { allow: ['127.0.0.0/8'] },
    });
    expect(await get(proxy, '/healthz')).toEqual([200, 'ok\n']);
    expect(await get(proxy, '/readyz')).toEqual([200, 'ok\n']);
    expect((await fetch(`http://${proxy.metricsAddress}/readyz`, { method: 'POST' })).status).toBe(
      405,
    );
    const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
    cleanup.push(() => client.close());
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    // Drain with a tunnel running: readiness goes, liveness stays, until the tunnel ends.
    const closed = proxy.close({ drain: 60_000 });
    expect(await get(proxy, '/readyz')).toEqual([503, 'draining\n']);
    expect(await get(proxy, '/healthz')).toEqual([200, 'ok\n']);
    sock.close();
    await closed;
  });
});

describe('the HTTP/3 status endpoint', () => {
  it('answers anyone without authentication', async () => {
    const proxy = await start({});
    const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
    cleanup.push(() => client.close());
    const res = await client.request({ path: '/.well-known/masque/status' });
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toMatchObject({ status: 'ok' });
  });

  it('with authentication on, 401 and the challenge without credentials, 200 with them', async () => {
    const proxy = await start({ auth: { mode: 'bearer', tokens: ['tok'] } });
    const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
    cleanup.push(() => client.close());
    const anon = await client.request({ path: '/.well-known/masque/status' });
    expect(anon.status).toBe(401);
    expect(anon.header('www-authenticate')).toBe('Bearer realm="masque"');
    await anon.text();
    const wrong = await client.request({
      path: '/.well-known/masque/status',
      headers: { 'proxy-authorization': 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    await wrong.text();
    const ok = await client.request({
      path: '/.well-known/masque/status',
      headers: { 'proxy-authorization': 'Bearer tok' },
    });
    expect(ok.status).toBe(200);
    expect(JSON.parse(await ok.text())).toMatchObject({ status: 'ok' });
  });
});
