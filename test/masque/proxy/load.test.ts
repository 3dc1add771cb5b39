/**
 * 100 tunnels at once on one client connection, 10,000 datagrams each way across them, every one
 * accounted for. The sender keeps a bounded window in flight (the QUIC DATAGRAM queues are
 * bounded, and a UDP proxy may drop), so the proxy's queues never overflow and nothing is
 * misrouted, corrupted or duplicated. The QUIC DATAGRAM legs are unreliable (RFC 9221 §5), so a
 * datagram lost there is counted, not a failure; the numbers say on which leg it went missing.
 */
import { afterEach, expect, it } from 'vitest';
import { MasqueClient, type MasqueUdpSocket } from '../../../src/client/index.js';
import { echoServer, startTestProxy, testCert } from './loopback.js';

const TUNNELS = 100;
const TOTAL = 10_000;
const WINDOW = 32;
const PAYLOAD = 200;
/**
 * Polls (every 50 ms, each after the event loop has handled its pending I/O) with no echo and
 * datagrams outstanding, after which those are taken as lost and their window slots reused.
 */
const STALLED_POLLS = 20;

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
  const [proxyConn] = proxy.server.endpoint.endpoint.connections();

  const received = tunnels.map(() => new Set<number>());
  const corrupt: string[] = [];
  const duplicates: string[] = [];
  /** Sent and not echoed yet, as tunnel * 65536 + seq. */
  const outstanding = new Set<number>();
  /** Taken as lost after a stall (removed again if the echo turns up after all). */
  const lost = new Set<number>();
  let echoes = 0;
  let next = 0;
  /** Watchdog polls in a row without an echo (see below). */
  let stalled = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const complete = () => next === TOTAL && outstanding.size === 0;

  const payload = new Uint8Array(PAYLOAD);
  const pump = (): void => {
    while (outstanding.size < WINDOW && next < TOTAL) {
      const i = next % TUNNELS;
      const seq = Math.floor(next / TUNNELS);
      payload[0] = i;
      payload[1] = seq >> 8;
      payload[2] = seq & 0xff;
      payload.fill(i ^ seq, 3);
      if (!tunnels[i].send(payload)) corrupt.push(`send refused for ${i}/${seq}`);
      else outstanding.add(i * 65536 + seq);
      next++;
    }
    if (complete()) finish();
  };
  tunnels.forEach((t, i) => {
    t.on('message', (msg) => {
      const seq = (msg[1] << 8) | msg[2];
      const key = i * 65536 + seq;
      if (msg.length !== PAYLOAD || msg[0] !== i || msg[3] !== ((i ^ seq) & 0xff)) {
        corrupt.push(`tunnel ${i}: unexpected ${msg.subarray(0, 4).toString('hex')}`);
      } else if (received[i].has(seq)) {
        duplicates.push(`tunnel ${i}: duplicate ${seq}`);
      } else {
        received[i].add(seq);
        echoes++;
        outstanding.delete(key);
        lost.delete(key);
      }
      stalled = 0;
      pump();
    });
  });

  // Liveness only: a lost datagram would hold its window slot for ever. Timer callbacks run
  // before the event loop's I/O, so one quiet poll after a starved stretch means nothing; many
  // in a row, with I/O handled in between, mean the outstanding datagrams are not coming.
  const watchdog = setInterval(() => {
    if (outstanding.size === 0 || ++stalled < STALLED_POLLS) return;
    for (const key of outstanding) lost.add(key);
    outstanding.clear();
    stalled = 0;
    pump();
  }, 50);
  pump();
  await done;
  clearInterval(watchdog);

  const stats = proxy.handler.stats();
  const clientDropped = tunnels.reduce((a, t) => a + t.dropped, 0);
  // Where the missing ones went missing: the QUIC legs may lose datagrams; the UDP legs are
  // in-process loopback with at most WINDOW datagrams in flight, where no socket buffer fills.
  const legs = {
    clientToProxyQuic: TOTAL - stats.datagramsToTarget,
    proxyToEchoUdp: stats.datagramsToTarget - echo.received,
    echoToProxyUdp: echo.received - stats.datagramsToClient,
    proxyToClientQuic: stats.datagramsToClient - echoes - clientDropped,
  };
  const detail = JSON.stringify({
    sent: next,
    echoes,
    lost: lost.size,
    legs,
    proxyLostPackets: proxyConn?.stats.lostPackets,
    echoServerReceived: echo.received,
    proxy: stats,
    clientDropped,
  });
  expect(corrupt, detail).toEqual([]);
  expect(duplicates, detail).toEqual([]);
  expect(echoes + lost.size, detail).toBe(TOTAL);
  expect(stats.drops, detail).toEqual({});
  expect(legs.proxyToEchoUdp, detail).toBe(0);
  expect(legs.echoToProxyUdp, detail).toBe(0);
  // A datagram missing on the proxy's QUIC leg rode a packet the proxy declared lost.
  const perPacket = Math.ceil((proxyConn?.maxDatagramPayload ?? 0) / PAYLOAD);
  expect(legs.proxyToClientQuic, detail).toBeLessThanOrEqual(
    (proxyConn?.stats.lostPackets ?? 0) * perPacket,
  );
  // Loss is the exception, not the rule: most arrive even on a loaded machine.
  expect(echoes, detail).toBeGreaterThan(TOTAL / 2);
  if (lost.size > 0) process.stdout.write(`load: datagrams lost ${detail}\n`);

  await client.close();
  expect(await waitFor(() => sockets.live === 0)).toBe(true);
}, 120_000);

async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return cond();
}
