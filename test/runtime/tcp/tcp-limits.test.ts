/**
 * The TCP listener (HTTP/2, HTTP/1.1) under the proxy's connection limits, like the UDP one
 * (issue 10): a connection over the per-source or total limit is closed before any TLS and
 * counted on /metrics; the listener presents a reloaded certificate to new connections.
 */
import { once } from 'node:events';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { startTestProxy, testCert } from '../../masque/proxy/loopback.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A TLS connection; resolves 'secure' once its handshake is done or 'closed' if cut first. */
function dial(port: number, ca: string): { sock: TLSSocket; outcome: Promise<string> } {
  const sock = tlsConnect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca,
    ALPNProtocols: ['h2'],
  });
  cleanup.push(() => sock.destroy());
  const outcome = new Promise<string>((resolve) => {
    sock.once('secureConnect', () => resolve('secure'));
    sock.once('error', (err) => resolve(`error: ${err.message}`));
    sock.once('close', () => resolve('closed'));
  });
  return { sock, outcome };
}

async function metric(text: () => Promise<string>, line: string): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if ((await text()).split('\n').includes(line)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('TCP listener limits', () => {
  it('closes a connection over the per-source limit before TLS, counts it, and admits again once one ends', async () => {
    const { proxy } = await startTestProxy(
      { limits: { connectionsPerSource: 2 } },
      { metricsIntervalMs: 20 },
    );
    cleanup.push(() => proxy.close({ timeout: 100 }));
    const port = proxy.h2Port as number;
    const a = dial(port, testCert.certPem);
    const b = dial(port, testCert.certPem);
    expect(await a.outcome).toBe('secure');
    expect(await b.outcome).toBe('secure');
    const c = dial(port, testCert.certPem);
    expect(await c.outcome).not.toBe('secure');
    const text = () => proxy.metrics.metricsText();
    expect(
      await metric(text, 'masque_tcp_connections_refused_total{reason="source_limit"} 1'),
    ).toBe(true);
    expect(await metric(text, 'masque_tcp_connections 2')).toBe(true);
    a.sock.destroy();
    expect(await metric(text, 'masque_tcp_connections 1')).toBe(true);
    expect(await dial(port, testCert.certPem).outcome).toBe('secure');
  });

  it('applies the total limit across sources', async () => {
    const { proxy } = await startTestProxy(
      { limits: { connections: 1 } },
      { metricsIntervalMs: 20 },
    );
    cleanup.push(() => proxy.close({ timeout: 100 }));
    const port = proxy.h2Port as number;
    expect(await dial(port, testCert.certPem).outcome).toBe('secure');
    expect(await dial(port, testCert.certPem).outcome).not.toBe('secure');
    expect(
      await metric(
        () => proxy.metrics.metricsText(),
        'masque_tcp_connections_refused_total{reason="connection_limit"} 1',
      ),
    ).toBe(true);
  });

  it('presents a reloaded certificate to new TCP connections; open ones keep theirs', async () => {
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 100 }));
    const port = proxy.h2Port as number;
    const old = dial(port, testCert.certPem);
    expect(await old.outcome).toBe('secure');
    const next = generateDevCert();
    await proxy.reload(proxy.config, { certPem: next.certPem, keyPem: next.keyPem });
    expect(await dial(port, next.certPem).outcome).toBe('secure');
    expect(await dial(port, testCert.certPem).outcome).toMatch(/^error: /);
    expect(old.sock.destroyed).toBe(false);
    old.sock.destroy();
    await once(old.sock, 'close');
  });
});
