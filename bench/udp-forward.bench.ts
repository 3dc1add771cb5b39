/**
 * Query-response latency through `udp-forward` (the dnsperf question): a DNS-like exchange of
 * 40-byte queries and answers with 1, 10 and 100 queries in flight, beside the same loop sent
 * straight to the responder. Rows give queries/s with p50 / p99 latency and the queries never
 * answered (a lost query holds a slot until its sender gives up, which is what collapses
 * dnsperf's rate: 100 in flight with 5 % loss and 5 s timeouts is 300 ms average). Forwarder,
 * proxy and responder share one Node thread.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { UdpForwarder } from '../src/cli/udp-forward.js';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';

const DURATION_MS = 2000;
/** A query unanswered this long is lost (and replaced, as dnsperf does after its timeout). */
const LOST_AFTER_MS = 1000;

function bind(s: Socket): Promise<number> {
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)));
}

interface Result {
  answered: number;
  lost: number;
  elapsedMs: number;
  p50: number;
  p99: number;
}

/** Keeps `inflight` queries outstanding from one socket for `DURATION_MS`. */
async function queries(port: number, inflight: number): Promise<Result> {
  const s = createSocket('udp4');
  await bind(s);
  const outstanding = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let lost = 0;
  const send = (): void => {
    const id = next++ & 0xffff;
    // A fresh buffer: node:dgram reads it when the send happens, not when it is called.
    const query = Buffer.alloc(40, 0x33);
    query.writeUInt16BE(id, 0);
    outstanding.set(id, performance.now());
    s.send(query, port, '127.0.0.1');
  };
  const t0 = performance.now();
  let stoppedAt = 0;
  await new Promise<void>((resolve) => {
    const done = (): boolean => performance.now() - t0 >= DURATION_MS;
    s.on('message', (m) => {
      const id = m.readUInt16BE(0);
      const sentAt = outstanding.get(id);
      if (sentAt === undefined) return;
      outstanding.delete(id);
      latencies.push(performance.now() - sentAt);
      if (!done()) send();
      else if (stoppedAt === 0) stoppedAt = performance.now();
    });
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const [id, at] of outstanding) {
        if (now - at < LOST_AFTER_MS) continue;
        outstanding.delete(id);
        lost++;
        if (!done()) send();
      }
      if (done() && outstanding.size === 0) {
        clearInterval(sweep);
        resolve();
      }
    }, 20);
    for (let i = 0; i < inflight; i++) send();
  });
  const elapsedMs = (stoppedAt || performance.now()) - t0;
  await new Promise<void>((r) => s.close(() => r()));
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return { answered: latencies.length, lost, elapsedMs, p50: at(0.5), p99: at(0.99) };
}

function row(name: string, r: Result): BenchRow {
  const perSec = (r.answered * 1000) / r.elapsedMs;
  return {
    name,
    nsPerOp: 1e9 / perSec,
    opsPerSec: perSec,
    note: `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, unanswered ${r.lost}`,
  };
}

const bench: BenchModule = {
  title: 'udp-forward: DNS-like queries in flight (40-byte query and answer)',
  baseline: 'direct, 1 in flight',
  async run() {
    const { proxy, cert } = await startBenchProxy();
    const responder = createSocket('udp4');
    const responderPort = await bind(responder);
    responder.on('message', (m, r) => responder.send(m, r.port, r.address));
    const fwd = await UdpForwarder.start({
      proxy: proxy.template,
      listen: '127.0.0.1:0',
      target: `127.0.0.1:${responderPort}`,
      ca: [cert.certPem],
    });
    const fwdPort = Number(fwd.address.slice(fwd.address.lastIndexOf(':') + 1));
    const rows: BenchRow[] = [];
    try {
      for (const n of [1, 10, 100]) {
        rows.push(row(`direct, ${n} in flight`, await queries(responderPort, n)));
        rows.push(row(`udp-forward, ${n} in flight`, await queries(fwdPort, n)));
      }
      const drops = Object.entries(fwd.stats().drops).filter(([, v]) => v > 0);
      if (drops.length > 0)
        rows.push({
          name: `udp-forward drops: ${JSON.stringify(Object.fromEntries(drops))}`,
          nsPerOp: 0,
          opsPerSec: 0,
        });
    } finally {
      await fwd.close();
      await proxy.close({ timeout: 200 });
      await new Promise<void>((r) => responder.close(() => r()));
    }
    return rows;
  },
};

export default bench;
