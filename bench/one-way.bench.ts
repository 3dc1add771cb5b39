/**
 * A one-way flow (a download through a tunnel): a source answers each small request datagram
 * with 16 datagrams of 1200 bytes; the client keeps 4 requests outstanding (64 datagrams in flight)
 * and asks again per 16 received. Measured in one process (client, proxy, source) against a plain
 * node:dgram relay doing the same, and through the proxy twice: with the ACK frequency extension
 * (draft-ietf-quic-ack-frequency-14; the proxy asks the client for fewer ACKs) and without. The
 * figure that moves is the QUIC packets the proxy receives per datagram delivered: ACKs, plus
 * one request per 16.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { RunningProxy } from '../src/app/index.js';
import { MasqueClient } from '../src/client/index.js';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { bind, closeAll, relaySockets, SIZE } from './udp-relay.js';

/** Datagrams the source sends per request. */
const BURST = 16;
/** Requests kept outstanding. */
const REQUESTS = 4;
const BIG_PACKETS = 1452;

interface OneWayResult {
  received: number;
  elapsedMs: number;
  cpuMs: number;
  /** QUIC packets the proxy received meanwhile (tunnelled runs). */
  proxyReceived?: number;
}

/** The source: every datagram it gets is answered with {@link BURST} datagrams of SIZE bytes. */
async function burstSource(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  const port = await bind(socket);
  const data = Buffer.alloc(SIZE, 0x6b);
  socket.on('message', (_m, r) => {
    for (let i = 0; i < BURST; i++) socket.send(data, r.port, r.address);
  });
  return { socket, port };
}

/**
 * Runs the flow for MASQUE_BENCH_MS (default 3000): `request` sends one request, `wire` connects
 * the receive path. A request is re-sent per BURST datagrams received; when nothing arrives for
 * 50 ms (a lost datagram leaves a burst short), the window is refilled.
 */
async function flow(
  request: () => void,
  wire: (onData: () => void) => void,
): Promise<OneWayResult> {
  const durationMs = Number(process.env.MASQUE_BENCH_MS ?? 3000);
  let received = 0;
  let done = false;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  let refill: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    wire(() => {
      if (done) return;
      received++;
      last = performance.now();
      if (last - t0 >= durationMs) resolve();
      else if (received % BURST === 0) request();
    });
    refill = setInterval(() => {
      const now = performance.now();
      if (now - t0 >= durationMs) resolve();
      else if (now - last > 50) for (let i = 0; i < REQUESTS; i++) request();
    }, 25);
    for (let i = 0; i < REQUESTS; i++) request();
  });
  clearInterval(refill);
  done = true;
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Let the datagrams still in flight land before the sockets close.
  await new Promise((r) => setTimeout(r, 100));
  return { received, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function viaRelay(sourcePort: number): Promise<OneWayResult> {
  const { port, opened } = await relaySockets(sourcePort);
  const client = createSocket('udp4');
  await bind(client);
  opened.push(client);
  const ask = Buffer.alloc(8, 1);
  const r = await flow(
    () => client.send(ask, port, '127.0.0.1'),
    (onData) => client.on('message', onData),
  );
  await closeAll(opened);
  return r;
}

async function viaProxy(
  proxy: RunningProxy,
  ca: string,
  sourcePort: number,
): Promise<OneWayResult> {
  const client = await MasqueClient.connect(proxy.template, {
    ca: [ca],
    maxUdpPayload: BIG_PACKETS,
    serverName: 'localhost',
  });
  const sock = await client.connectUdp('127.0.0.1', sourcePort);
  const ask = new Uint8Array(8).fill(1);
  const before = proxy.server.endpoint.endpoint.stats();
  const r = await flow(
    () => sock.send(ask),
    (onData) => sock.on('message', onData),
  );
  const after = proxy.server.endpoint.endpoint.stats();
  await client.close();
  return { ...r, proxyReceived: after.received - before.received };
}

function row(name: string, r: OneWayResult): BenchRow {
  const perSec = (r.received * 1000) / r.elapsedMs;
  let note = `${Math.round(perSec).toLocaleString('en-US')} datagrams/s, ${((r.cpuMs * 1000) / r.received).toFixed(1)} us CPU/datagram`;
  if (r.proxyReceived !== undefined) {
    note += `; proxy QUIC packets received per datagram: ${(r.proxyReceived / r.received).toFixed(3)}`;
  }
  return { name, nsPerOp: 1e9 / perSec, opsPerSec: perSec, note };
}

const bench: BenchModule = {
  title: `one-way flow, 1200-byte datagrams, ${BURST} per request, ${REQUESTS * BURST} in flight`,
  baseline: 'plain node:dgram relay, one-way',
  async run() {
    const source = await burstSource();
    const tuned = await startBenchProxy(BIG_PACKETS);
    const plain = await startBenchProxy(BIG_PACKETS, {}, { ackFrequency: false });
    const rows: BenchRow[] = [];
    try {
      rows.push(row('plain node:dgram relay, one-way', await viaRelay(source.port)));
      rows.push(
        row(
          'connect-udp, 1 tunnel, one-way, ACK frequency',
          await viaProxy(tuned.proxy, tuned.cert.certPem, source.port),
        ),
      );
      rows.push(
        row(
          'connect-udp, 1 tunnel, one-way, without ACK frequency',
          await viaProxy(plain.proxy, plain.cert.certPem, source.port),
        ),
      );
    } finally {
      await tuned.proxy.close({ timeout: 500 });
      await plain.proxy.close({ timeout: 500 });
      await closeAll([source.socket]);
    }
    const base = rows[0];
    for (const r of rows.slice(1)) {
      r.note += `; ${(r.opsPerSec / base.opsPerSec).toFixed(2)} of the plain relay's rate, ${(r.nsPerOp / base.nsPerOp).toFixed(2)}x its time`;
    }
    return rows;
  },
};

export default bench;
