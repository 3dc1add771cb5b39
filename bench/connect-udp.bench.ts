import type { RunningProxy } from '../src/app/index.js';
import { MasqueClient, type MasqueUdpSocket } from '../src/client/index.js';
import { cryptoBackend } from '../src/crypto/native.js';
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

/** QUIC packet size of the proxy and of the main client. */
const BIG_PACKETS = 1452;

/** A tunnelled run: the echo loop, and the QUIC packets the proxy's endpoint sent and received. */
interface ProxyResult extends WindowResult {
  proxySent: number;
  proxyReceived: number;
}

function row(name: string, r: WindowResult | ProxyResult, size = SIZE): BenchRow {
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const mbit = (perSec * size * 8) / 1e6;
  // CPU of the whole process (client, proxy and target share it) per echo.
  let note = `${Math.round(perSec).toLocaleString('en-US')} datagrams/s each way, ${mbit.toFixed(1)} Mbit/s, ${((r.cpuMs * 1000) / r.echoes).toFixed(0)} us CPU/echo`;
  if ('proxySent' in r) {
    // Every datagram sent is echoed (late ones after the window too): divide by what was sent.
    const per = (n: number): string => (n / r.sent).toFixed(2);
    note += `; proxy QUIC packets per echo: ${per(r.proxySent)} sent, ${per(r.proxyReceived)} received`;
  }
  return { name, nsPerOp: 1e9 / perSec, opsPerSec: perSec, note };
}

async function throughProxy(
  proxy: RunningProxy,
  ca: string,
  flows: number,
  echoPort: number,
  maxUdpPayload = BIG_PACKETS,
  transport: 'h3' | 'h2' | 'h1' = 'h3',
): Promise<ProxyResult | WindowResult> {
  const client = await MasqueClient.connect(proxy.template, {
    ca: [ca],
    maxUdpPayload,
    transport,
    serverName: 'localhost',
  });
  const socks: MasqueUdpSocket[] = await Promise.all(
    Array.from({ length: flows }, () => client.connectUdp('127.0.0.1', echoPort)),
  );
  const payload = new Uint8Array(SIZE).fill(0x5a);
  const before = proxy.server.endpoint.endpoint.stats();
  const result = await windowed(
    (i) => socks[i].send(payload),
    flows,
    (onEcho) => {
      for (const s of socks) s.on('message', onEcho);
    },
  );
  const after = proxy.server.endpoint.endpoint.stats();
  await client.close();
  if (transport !== 'h3') return result; // no QUIC packets to count
  return {
    ...result,
    proxySent: after.sent - before.sent,
    proxyReceived: after.received - before.received,
  };
}

const bench: BenchModule = {
  // The crypto backend is chosen once per process: run again with MASQUE_NATIVE=0 for node:crypto.
  title: `connect-udp relay, 1200-byte echoes over loopback (window 32; crypto: ${cryptoBackend()})`,
  baseline: 'plain node:dgram relay, 1 flow',
  async run() {
    const target = await echoTarget();
    const { proxy, cert } = await startBenchProxy(BIG_PACKETS);
    const rows: BenchRow[] = [];
    try {
      const via = (flows: number, maxUdpPayload = BIG_PACKETS) =>
        throughProxy(proxy, cert.certPem, flows, target.port, maxUdpPayload);
      rows.push(row('plain node:dgram relay, 1 flow', await plainRelay(1, target.port)));
      rows.push(row('connect-udp, 1 tunnel', await via(1)));
      rows.push(row('plain node:dgram relay, 10 flows', await plainRelay(10, target.port)));
      rows.push(row('connect-udp, 10 tunnels', await via(10)));
      rows.push(
        row('connect-udp, 1 tunnel, 1200-byte QUIC packets (capsules)', await via(1, 1200)),
      );
      // Where UDP is blocked: HTTP/2 over TCP, DATAGRAM capsules on the stream (RFC 9297 §3.5).
      rows.push(
        row(
          'connect-udp, 1 tunnel, HTTP/2 (TCP)',
          await throughProxy(proxy, cert.certPem, 1, target.port, BIG_PACKETS, 'h2'),
        ),
      );
      // Where only HTTP/1.1 passes: one TLS connection upgraded to the tunnel (RFC 9298 §3.3).
      rows.push(
        row(
          'connect-udp, 1 tunnel, HTTP/1.1 Upgrade (TCP)',
          await throughProxy(proxy, cert.certPem, 1, target.port, BIG_PACKETS, 'h1'),
        ),
      );
    } finally {
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    const base1 = rows[0].opsPerSec;
    const base10 = rows[2].opsPerSec;
    rows[1].note += `; ${(rows[1].opsPerSec / base1).toFixed(2)} of the plain relay`;
    rows[3].note += `; ${(rows[3].opsPerSec / base10).toFixed(2)} of the plain relay`;
    rows[5].note += `; ${(rows[5].opsPerSec / base1).toFixed(2)} of the plain relay`;
    rows[6].note += `; ${(rows[6].opsPerSec / base1).toFixed(2)} of the plain relay`;
    return rows;
  },
};

export default bench;
