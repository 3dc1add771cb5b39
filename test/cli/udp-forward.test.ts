/**
 * udp-forward past the proxy's per-connection tunnel limit: more connections when one is full,
 * the least recently used tunnel closed past `maxTunnels`, and every drop counted.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpForwarder } from '../../src/cli/udp-forward.js';
import { echoServer, startTestProxy, testCert } from '../masque/proxy/loopback.js';
import { waitFor } from '../support/wait.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function peers(n: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    cleanup.push(() => s.close());
    out.push(s);
  }
  return out;
}

/** Each peer asks until it hears its own answer (as dig retries), within the deadline. */
async function everyoneAsks(socks: Socket[], to: string): Promise<void> {
  const [host, port] = [
    to.slice(0, to.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'),
    Number(to.slice(to.lastIndexOf(':') + 1)),
  ];
  await Promise.all(
    socks.map(
      (s, i) =>
        new Promise<void>((resolve) => {
          const ask = (): void => s.send(`q${i}`, port, host);
          const timer = setInterval(ask, 500);
          s.once('message', (m) => {
            expect(m.toString()).toBe(`q${i}`);
            clearInterval(timer);
            resolve();
          });
          ask();
        }),
    ),
  );
}

async function setup(
  proxyLimits: Record<string, number>,
  fwd: Partial<Parameters<typeof UdpForwarder.start>[0]>,
) {
  const { proxy } = await startTestProxy({ limits: proxyLimits });
  cleanup.push(() => proxy.close({ timeout: 500 }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const forwarder = await UdpForwarder.start({
    proxy: proxy.template,
    listen: '127.0.0.1:0',
    target: `127.0.0.1:${echo.port}`,
    ca: [testCert.certPem],
    ...fwd,
  });
  cleanup.push(() => forwarder.close());
  return { proxy, forwarder };
}

describe('udp-forward with many local peers', () => {
  it('200 peers through a proxy allowing 64 tunnels per connection: all answered, no refusal', async () => {
    const { proxy, forwarder } = await setup({}, {});
    await everyoneAsks(await peers(200), forwarder.address);
    const st = forwarder.stats();
    expect(st.tunnelsOpened).toBe(200);
    expect(st.connections).toBe(4); // 64 + 64 + 64 + 8
    expect(st.tunnelsFailed).toBe(0);
    expect(proxy.handler.stats().rejected).toEqual({});
  });

  it('a proxy limit below ours (429) marks the connection full and opens another', async () => {
    const { proxy, forwarder } = await setup({ tunnelsPerConnection: 10 }, {});
    await everyoneAsks(await peers(25), forwarder.address);
    const st = forwarder.stats();
    expect(st.tunnelsOpened).toBe(25);
    expect(st.tunnelsFailed).toBe(0);
    expect(st.connections).toBeGreaterThanOrEqual(3);
    // Every 429 was retried on another connection: none reached the peers as a failure.
    expect(proxy.handler.stats().rejected.TUNNELS_PER_CONNECTION).toBeGreaterThanOrEqual(2);
  });

  it('past maxTunnels the least recently used tunnel closes for the newcomer', async () => {
    const { proxy, forwarder } = await setup({}, { maxTunnels: 5 });
    const socks = await peers(8);
    for (const s of socks) await everyoneAsks([s], forwarder.address);
    const st = forwarder.stats();
    expect(st.tunnelsEvicted).toBe(3);
    expect(forwarder.tunnels).toBe(5);
    await waitFor(() => proxy.handler.stats().tunnelsActive === 5);
    // The oldest peers were evicted; asking again reopens a tunnel (evicting the next oldest).
    await everyoneAsks([socks[0]], forwarder.address);
    expect(forwarder.stats().tunnelsEvicted).toBe(4);
    expect(forwarder.stats().drops).toMatchObject({ tunnel_failed: 0, pending_full: 0 });
  });

  it('a burst from one peer comes back whole and in order, on a localhost and an IPv6 listen', async () => {
    for (const [listen, family, host] of [
      ['localhost:0', 'udp4', '127.0.0.1'],
      ['[::1]:0', 'udp6', '::1'],
    ] as const) {
      const { forwarder } = await setup({}, { listen });
      const s = createSocket(family);
      await new Promise<void>((r) => s.bind(0, host, r));
      cleanup.push(() => s.close());
      await everyoneAsks([s], forwarder.address); // the tunnel is open
      const port = Number(forwarder.address.slice(forwarder.address.lastIndexOf(':') + 1));
      const got: string[] = [];
      s.on('message', (m) => got.push(m.toString()));
      // 40 back to back: the forwarder's local socket takes them in one turn or a few (a
      // recvmmsg drain where the addon is loaded), the replies leave one by one.
      for (let i = 0; i < 40; i++) s.send(`b${i}`, port, host);
      await waitFor(() => got.length >= 40);
      expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `b${i}`));
      const st = forwarder.stats();
      expect(st.datagramsOut).toBe(41);
      expect(st.drops).toMatchObject({ local_send_error: 0, send_refused: 0, pending_full: 0 });
    }
  });

  it('rejects a non-positive cap', async () => {
    await expect(
      UdpForwarder.start({
        proxy: 'https://127.0.0.1:1',
        listen: '127.0.0.1:0',
        target: '127.0.0.1:1',
        maxTunnels: 0,
      }),
    ).rejects.toThrow('maxTunnels must be a positive integer');
  });
});
