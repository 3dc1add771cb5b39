/**
 * Loss of a paced UDP stream through one tunnel (the iperf question): 1200-byte payloads at 25,
 * 50 and 100 Mbit/s for 2 s each, client SDK → proxy → a UDP sink on loopback, one way. Rows
 * give the rate achieved and the loss, and where the losses were counted: the SDK (`dropped`),
 * the proxy (`masque_drops_total` reasons) and the kernel (`Udp: RcvbufErrors` from
 * /proc/net/snmp, machine-wide). Proxy and client use 1452-byte QUIC packets, so the payloads
 * ride QUIC DATAGRAM frames. Everything shares one Node thread.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MasqueClient } from '../src/client/index.js';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';

const SIZE = 1200;
const DURATION_MS = 2000;

function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

const bench: BenchModule = {
  title: 'loss of a paced 1200-byte UDP stream through one tunnel (one way, loopback)',
  async run() {
    const { proxy, cert } = await startBenchProxy(1452);
    const sink = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
    let received = 0;
    sink.on('message', () => {
      received++;
    });
    const client = await MasqueClient.connect(proxy.template, {
      ca: [cert.certPem],
      maxUdpPayload: 1452,
    });
    const rows: BenchRow[] = [];
    try {
      const sock = await client.connectUdp('127.0.0.1', sink.address().port);
      const payload = new Uint8Array(SIZE).fill(0x42);
      for (const mbit of [25, 50, 100]) {
        const perMs = (mbit * 1e6) / 8 / SIZE / 1000;
        received = 0;
        const droppedBefore = sock.dropped;
        const proxyBefore = proxy.handler.stats();
        const kernelBefore = rcvbufErrors();
        let sent = 0;
        const t0 = performance.now();
        await new Promise<void>((resolve) => {
          const tick = setInterval(() => {
            const elapsed = performance.now() - t0;
            const due = Math.min(Math.floor(elapsed * perMs), Math.floor(DURATION_MS * perMs));
            while (sent < due) {
              sock.send(payload);
              sent++;
            }
            if (elapsed >= DURATION_MS) {
              clearInterval(tick);
              resolve();
            }
          }, 1);
        });
        const sendMs = performance.now() - t0;
        // Let what is in flight arrive: until the count stops growing.
        for (let last = -1; last !== received; ) {
          last = received;
          await new Promise((r) => setTimeout(r, 200));
        }
        const proxyAfter = proxy.handler.stats();
        const proxyDrops = Object.entries(proxyAfter.drops)
          .map(([k, v]) => [k, v - (proxyBefore.drops[k] ?? 0)] as const)
          .filter(([, v]) => v > 0);
        const lost = sent - received;
        const achieved = (sent * SIZE * 8) / (sendMs * 1000);
        rows.push({
          name: `${mbit} Mbit/s offered`,
          nsPerOp: (sendMs * 1e6) / Math.max(1, received),
          opsPerSec: (received * 1000) / sendMs,
          note:
            `sent ${sent} (${achieved.toFixed(1)} Mbit/s), lost ${lost} (${((100 * lost) / sent).toFixed(2)} %): ` +
            `SDK ${sock.dropped - droppedBefore}, proxy ${proxyDrops.length === 0 ? 0 : JSON.stringify(Object.fromEntries(proxyDrops))}, ` +
            `kernel RcvbufErrors +${rcvbufErrors() - kernelBefore}`,
        });
      }
    } finally {
      await client.close();
      await proxy.close({ timeout: 200 });
      sink.close();
    }
    return rows;
  },
};

export default bench;
