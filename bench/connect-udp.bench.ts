/**
 * connect-udp throughput over loopback: 1200-byte datagrams echoed by a UDP target, with a
 * window of datagrams in flight, through
 *   - a plain UDP relay written with node:dgram (client → relay → echo → relay → client): the
 *     baseline, doing the same socket work as the proxy without QUIC or HTTP/3;
 *   - our proxy, one tunnel; and ten tunnels on one connection.
 * Rows report echoes per second (each one datagram each way) and the payload Mbit/s one way;
 * "x base" is the cost per echo against the 1-flow plain relay, the note the ratio to the relay
 * with the same number of flows.
 *
 * Proxy and client use 1452-byte QUIC packets here (`maxUdpPayload`), so a 1200-byte UDP payload
 * rides one QUIC DATAGRAM frame. With the default 1200-byte packets it would not fit and would
 * travel in a DATAGRAM capsule on the tunnel's stream: the last row measures that fallback with a
 * second client kept at 1200-byte packets. Client, proxy, relay and echo share one Node thread,
 * so absolute figures are about half of what separate processes would give.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { startProxy } from '../src/app/index.js';
import { MasqueClient, type MasqueUdpSocket } from '../src/client/index.js';
import { parseConfig } from '../src/config/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';

const SIZE = 1200;
/** QUIC packet size of the proxy and of the main client. */
const BIG_PACKETS = 1452;
const WINDOW = 32;
const DURATION_MS = 3000;

function bind(s: Socket, port = 0): Promise<number> {
  return new Promise((resolve) => s.bind(port, '127.0.0.1', () => resolve(s.address().port)));
}

function closeAll(sockets: Socket[]): Promise<unknown> {
  return Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
}

/**
 * Keeps `WINDOW` datagrams in flight for `DURATION_MS` over `flows` senders (round robin);
 * `onEcho` is wired to the flows' receive paths. Lost datagrams are replaced when echoes stall.
 */
async function windowed(
  send: (flow: number) => void,
  flows: number,
  wire: (onEcho: () => void) => void,
): Promise<{ echoes: number; elapsedMs: number }> {
  let echoes = 0;
  let next = 0;
  const t0 = performance.now();
  let last = t0;
  let refill: NodeJS.Timeout | undefined;
  const sendOne = (): void => {
    send(next % flows);
    next++;
  };
  await new Promise<void>((resolve) => {
    wire(() => {
      echoes++;
      last = performance.now();
      if (last - t0 >= DURATION_MS) resolve();
      else sendOne();
    });
    refill = setInterval(() => {
      const now = performance.now();
      if (now - t0 >= DURATION_MS) resolve();
      else if (now - last > 50) for (let i = 0; i < WINDOW; i++) sendOne();
    }, 25);
    for (let i = 0; i < WINDOW; i++) sendOne();
  });
  clearInterval(refill);
  return { echoes, elapsedMs: performance.now() - t0 };
}

function row(name: string, r: { echoes: number; elapsedMs: number }, size = SIZE): BenchRow {
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const mbit = (perSec * size * 8) / 1e6;
  return {
    name,
    nsPerOp: 1e9 / perSec,
    opsPerSec: perSec,
    note: `${Math.round(perSec).toLocaleString('en-US')} datagrams/s each way, ${mbit.toFixed(1)} Mbit/s`,
  };
}

async function echoTarget(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  const port = await bind(socket);
  socket.on('message', (m, r) => socket.send(m, r.port, r.address));
  return { socket, port };
}

/** The baseline: a relay with one upstream socket per flow, as the proxy has one per tunnel. */
async function plainRelay(flows: number, echoPort: number) {
  const relay = createSocket('udp4');
  const relayPort = await bind(relay);
  const upstreams = new Map<string, Socket>();
  const opened: Socket[] = [relay];
  relay.on('message', (m, r) => {
    const key = `${r.address}:${r.port}`;
    let up = upstreams.get(key);
    if (up === undefined) {
      const u = createSocket('udp4');
      opened.push(u);
      u.connect(echoPort, '127.0.0.1');
      u.on('message', (back) => relay.send(back, r.port, r.address));
      upstreams.set(key, u);
      up = u;
      u.once('connect', () => u.send(m));
      return;
    }
    up.send(m);
  });
  const clients = await Promise.all(
    Array.from({ length: flows }, async () => {
      const c = createSocket('udp4');
      await bind(c);
      opened.push(c);
      return c;
    }),
  );
  const payload = Buffer.alloc(SIZE, 0x5a);
  const result = await windowed(
    (i) => clients[i].send(payload, relayPort, '127.0.0.1'),
    flows,
    (onEcho) => {
      for (const c of clients) c.on('message', onEcho);
    },
  );
  await closeAll(opened);
  return result;
}

async function throughProxy(
  template: string,
  ca: string,
  flows: number,
  echoPort: number,
  maxUdpPayload = BIG_PACKETS,
): Promise<{ echoes: number; elapsedMs: number }> {
  const client = await MasqueClient.connect(template, { ca: [ca], maxUdpPayload });
  const socks: MasqueUdpSocket[] = await Promise.all(
    Array.from({ length: flows }, () => client.connectUdp('127.0.0.1', echoPort)),
  );
  const payload = new Uint8Array(SIZE).fill(0x5a);
  const result = await windowed(
    (i) => socks[i].send(payload),
    flows,
    (onEcho) => {
      for (const s of socks) s.on('message', onEcho);
    },
  );
  await client.close();
  return result;
}

const bench: BenchModule = {
  title: 'connect-udp relay, 1200-byte echoes over loopback (window 32)',
  baseline: 'plain node:dgram relay, 1 flow',
  async run() {
    const cert = generateDevCert();
    const target = await echoTarget();
    const proxy = await startProxy(
      parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] } }),
      {
        certPem: cert.certPem,
        keyPem: cert.keyPem,
        logger: pino({ level: 'silent' }),
        maxUdpPayload: BIG_PACKETS,
      },
    );
    const rows: BenchRow[] = [];
    try {
      const via = (flows: number, maxUdpPayload = BIG_PACKETS) =>
        throughProxy(proxy.template, cert.certPem, flows, target.port, maxUdpPayload);
      rows.push(row('plain node:dgram relay, 1 flow', await plainRelay(1, target.port)));
      rows.push(row('connect-udp, 1 tunnel', await via(1)));
      rows.push(row('plain node:dgram relay, 10 flows', await plainRelay(10, target.port)));
      rows.push(row('connect-udp, 10 tunnels', await via(10)));
      rows.push(
        row('connect-udp, 1 tunnel, 1200-byte QUIC packets (capsules)', await via(1, 1200)),
      );
    } finally {
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    const base1 = rows[0].opsPerSec;
    const base10 = rows[2].opsPerSec;
    rows[1].note += `; ${(rows[1].opsPerSec / base1).toFixed(2)} of the plain relay`;
    rows[3].note += `; ${(rows[3].opsPerSec / base10).toFixed(2)} of the plain relay`;
    return rows;
  },
};

export default bench;
