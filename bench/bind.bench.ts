/**
 * connect-udp-bind throughput: 1200-byte echoes through a bound tunnel on its uncompressed context
 * (7 bytes of address per datagram, §4) and on a compressed one (§5), beside plain connect-udp
 * and the plain node:dgram relay, in one run; each row also as a ratio to the relay.
 * `MASQUE_BENCH_MS=300 npm run bench -- bind` is a quick smoke run (default 3000 ms per row).
 */
import { MasqueClient } from '../src/client/index.js';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import {
  closeAll,
  echoTarget,
  plainRelay,
  SIZE,
  type WindowResult,
  windowed,
} from './udp-relay.js';

const BIG_PACKETS = 1452;
const durationMs = Number(process.env.MASQUE_BENCH_MS ?? 3000);

function row(name: string, r: WindowResult): BenchRow {
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const mbit = (perSec * SIZE * 8) / 1e6;
  return {
    name,
    nsPerOp: 1e9 / perSec,
    opsPerSec: perSec,
    note: `${Math.round(perSec).toLocaleString('en-US')} datagrams/s each way, ${mbit.toFixed(1)} Mbit/s, ${r.lost} lost`,
  };
}

async function connectUdp(template: string, ca: string, echoPort: number): Promise<WindowResult> {
  const client = await MasqueClient.connect(template, { ca: [ca], maxUdpPayload: BIG_PACKETS });
  const sock = await client.connectUdp('127.0.0.1', echoPort);
  const payload = new Uint8Array(SIZE).fill(0x5a);
  const r = await windowed(
    () => sock.send(payload),
    1,
    (onEcho) => sock.on('message', onEcho),
    { durationMs },
  );
  await client.close();
  return r;
}

async function bound(
  template: string,
  ca: string,
  echoPort: number,
  compressed: boolean,
): Promise<WindowResult> {
  const client = await MasqueClient.connect(template, { ca: [ca], maxUdpPayload: BIG_PACKETS });
  const sock = await client.bindUdp({ compressAfter: 0 });
  if (compressed) {
    sock.compress('127.0.0.1', echoPort);
    const t0 = performance.now();
    while (sock.contextOf('127.0.0.1', echoPort)?.compressed !== true) {
      if (performance.now() - t0 > 5000)
        throw new Error('the compressed context was not acknowledged');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const payload = new Uint8Array(SIZE).fill(0x5a);
  const r = await windowed(
    () => sock.send(payload, echoPort, '127.0.0.1'),
    1,
    (onEcho) => sock.on('message', onEcho),
    { durationMs },
  );
  const st = sock.stats();
  const expected = compressed ? st.compressedReceived : st.uncompressedReceived;
  if (expected === 0) throw new Error('the echoes did not travel on the context measured');
  await client.close();
  return r;
}

const bench: BenchModule = {
  title: 'connect-udp-bind, 1200-byte echoes over loopback (window 32, 1 flow)',
  baseline: 'plain node:dgram relay, 1 flow',
  async run() {
    const target = await echoTarget();
    // No proxy-side compression: the uncompressed row stays uncompressed both ways.
    const { proxy, cert } = await startBenchProxy(BIG_PACKETS, { bind: { compressAfter: 0 } });
    const rows: BenchRow[] = [];
    try {
      const t = proxy.template;
      rows.push(
        row('plain node:dgram relay, 1 flow', await plainRelay(1, target.port, { durationMs })),
      );
      rows.push(row('connect-udp, 1 tunnel', await connectUdp(t, cert.certPem, target.port)));
      rows.push(
        row('bind, uncompressed context', await bound(t, cert.certPem, target.port, false)),
      );
      rows.push(row('bind, compressed context', await bound(t, cert.certPem, target.port, true)));
    } finally {
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    const base = rows[0].opsPerSec;
    for (const r of rows.slice(1))
      r.note += `; ${(r.opsPerSec / base).toFixed(2)} of the plain relay`;
    return rows;
  },
};

export default bench;
