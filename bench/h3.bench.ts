/**
 * HTTP/3 over loopback with our whole stack (UDP adapter, QUIC, TLS, HTTP/3, the request API):
 * small GETs per second one at a time and 32 at once on one connection, and time to first byte
 * (median) for a fresh request on an established connection and for a fresh connection
 * (handshake + SETTINGS + request). Async and I/O bound, so it times itself instead of using
 * `measure`. About 10-20 s.
 */
import { performance } from 'node:perf_hooks';
import { H3Client } from '../src/runtime/client/index.js';
import { H3Server } from '../src/runtime/server/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { systemRandom } from '../src/util/random.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';

const BODY = new TextEncoder().encode('ok\n');

function row(name: string, samplesMs: number[], note = ''): BenchRow {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const nsPerOp = median * 1e6;
  return { name, nsPerOp, opsPerSec: 1e9 / nsPerOp, note };
}

/** Runs `fn` for `ms` milliseconds after a warm-up; returns operations per second. */
async function rate(ms: number, fn: () => Promise<number>): Promise<number> {
  const end = performance.now() + ms;
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() < end) ops += await fn();
  return (ops * 1000) / (performance.now() - t0);
}

async function run(): Promise<BenchRow[]> {
  const cert = generateDevCert({ random: systemRandom });
  const server = await H3Server.listen({
    listen: '127.0.0.1:0',
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  });
  server.onRequest((_req, res) => {
    res.writeHead(200, [['content-type', 'text/plain']]);
    res.end(BODY);
  });
  const clientOptions = { ca: [cert.certPem], noSystemRoots: true, serverName: 'localhost' };
  const target = { host: '127.0.0.1', port: server.port };
  const rows: BenchRow[] = [];
  try {
    const client = await H3Client.connect(target, clientOptions);
    const get = async (): Promise<number> => {
      const res = await client.request({ path: '/small' });
      await res.bytes();
      return 1;
    };
    for (let i = 0; i < 200; i++) await get(); // warm-up
    const seq = await rate(3000, get);
    const par = await rate(3000, async () => {
      await Promise.all(Array.from({ length: 32 }, get));
      return 32;
    });
    rows.push({
      name: 'GET sequential',
      nsPerOp: 1e9 / seq,
      opsPerSec: seq,
      note: 'one connection',
    });
    rows.push({
      name: 'GET 32 concurrent',
      nsPerOp: 1e9 / par,
      opsPerSec: par,
      note: 'one connection',
    });
    // Time to first byte on the established connection.
    const ttfb: number[] = [];
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const res = await client.request({ path: '/ttfb' });
      const it = res[Symbol.asyncIterator]();
      await it.next();
      ttfb.push(performance.now() - t0);
      await it.next();
    }
    rows.push(row('TTFB, established', ttfb, 'median'));
    await client.close();
    // Fresh connection: handshake + SETTINGS + first response byte.
    const fresh: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const c = await H3Client.connect(target, clientOptions);
      const res = await c.request({ path: '/fresh' });
      const it = res[Symbol.asyncIterator]();
      await it.next();
      fresh.push(performance.now() - t0);
      await c.close();
    }
    rows.push(row('TTFB, fresh connection', fresh, 'median, incl. handshake'));
  } finally {
    await server.close({ timeout: 500 });
  }
  return rows;
}

const bench: BenchModule = {
  title: 'HTTP/3 over loopback (server + client API)',
  baseline: 'GET sequential',
  run,
};
export default bench;
