/**
 * One connect-udp tunnel's echo loop (1200-byte payloads, window 32, 1452-byte QUIC packets)
 * for a profiler, without the other bench rows diluting the profile:
 *
 *   MASQUE_BENCH_MS=5000 node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-tunnel.ts
 *
 * Prints the echo loop's result and the process CPU per echo (client, proxy and target share it).
 */
import { MasqueClient } from '../src/client/index.js';
import { startBenchProxy } from './bench-proxy.js';
import { closeAll, echoTarget, SIZE, windowed } from './udp-relay.js';

const target = await echoTarget();
const { proxy, cert } = await startBenchProxy(1452);
const client = await MasqueClient.connect(proxy.template, {
  ca: [cert.certPem],
  maxUdpPayload: 1452,
});
const sock = await client.connectUdp('127.0.0.1', target.port);
const payload = new Uint8Array(SIZE).fill(0x5a);
const r = await windowed(
  () => sock.send(payload),
  1,
  (on) => sock.on('message', on),
  { durationMs: Number(process.env.MASQUE_BENCH_MS ?? 5000) },
);
console.log(r, ((r.cpuMs * 1000) / r.echoes).toFixed(1), 'us CPU/echo');
await client.close();
await proxy.close({ timeout: 500 });
await closeAll([target.socket]);
