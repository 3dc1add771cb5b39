/**
 * 100 tunnels at once on one client connection, 10,000 datagrams each way across them, every one
 * accounted for. Loopback injects no loss and the sender keeps a bounded window in flight (the
 * QUIC DATAGRAM queues are bounded, and a UDP proxy may drop), so every datagram must arrive;
 * a shortfall fails with the numbers that say where it was lost.
 */
import { afterEach, expect, it } from 'vitest';
import { MasqueClient, type MasqueUdpSocket } from '../../../src/client/index.js';
import { echoServer, startTestProxy, testCert } from './loopback.js';

const TUNNELS = 100;
const TOTAL = 10_000;
const WINDOW = 32;
const PAYLOAD = 200;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

it('100 tunnels, 10,000 datagrams each way, all accounted for', async () => {
  const { proxy, sockets } = await startTestProxy({ limits: { tunnelsPerConnection: 128 } });
  cleanup.push(() => proxy.close({ timeout: 1000 }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
  cleanup.push(() => client.close());

  const tunnels: MasqueUdpSocket[] = await Promise.all(
    Array.from({ length: TUNNELS }, () => client.connectUdp('127.0.0.1', echo.port)),
  );
  expect(sockets.live).toBe(TUNNELS);
  expect(proxy.handler.stats().tunnelsActive).toBe(TUNNELS);

  const received = tunnels.map(() => new Set<number>());
  const corrupt: string[] = [];
  let echoes = 0;
  let next = 0;
  let inFlight = 0;
  let lastProgress = Date.now();
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const payload = new Uint8Array(PAYLOAD);
  const pump = (): void => {
    while (inFlight < WINDOW && next < TOTAL) {
      const i = next % TUNNELS;
      const seq = Math.floor(next / TUNNELS);
      payload[0] = i;
      payload[1] = seq >> 8;
      payload[2] = seq & 0xff;
      payload.fill(i ^ seq, 3);
      if (!tunnels[i].send(payload)) corrupt.push(`send refused for ${i}/${seq}`);
      next++;
      inFlight++;
    }
  };
  tunnels.forEach((t, i) => {
    t.on('message', (msg) => {
      const seq = (msg[1] << 8) | msg[2];
      if (msg.length !== PAYLOAD || msg[0] !== i || msg[3] !== ((i ^ seq) & 0xff)) {
        corrupt.push(`tunnel ${i}: unexpected ${msg.subarray(0, 4).toString('hex')}`);
      } else if (received[i].has(seq)) {
        corrupt.push(`tunnel ${i}: duplicate ${seq}`);
      } else {
        received[i].add(seq);
      }
      echoes++;
      inFlight--;
      lastProgress = Date.now();
      if (echoes === TOTAL) finish();
      else pump();
    });
  });

  const t0 = Date.now();
  pump();
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > 3000) finish();
  }, 100);
  await done;
  clearInterval(watchdog);
  const elapsed = Date.now() - t0;

  const missing = received
    .map((set, i) => [i, TOTAL / TUNNELS - set.size] as const)
    .filter(([, n]) => n > 0);
  const detail = {
    sent: next,
    echoServerReceived: echo.received,
    echoesReceived: echoes,
    missingByTunnel: missing.slice(0, 10),
    proxy: proxy.handler.stats(),
    clientDropped: tunnels.reduce((a, t) => a + t.dropped, 0),
    elapsedMs: elapsed,
  };
  expect(corrupt, JSON.stringify(detail)).toEqual([]);
  expect(echo.received, JSON.stringify(detail)).toBe(TOTAL);
  expect(echoes, JSON.stringify(detail)).toBe(TOTAL);
  const stats = proxy.handler.stats();
  expect(stats.datagramsToTarget).toBe(TOTAL);
  expect(stats.datagramsToClient).toBe(TOTAL);
  expect(stats.drops).toEqual({});

  await client.close();
  expect(await waitFor(() => sockets.live === 0)).toBe(true);
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}
