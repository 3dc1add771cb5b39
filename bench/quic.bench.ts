/**
 * Our QUIC stack over real loopback UDP, beside the plain `node:dgram` echo it runs on
 * (bench/udp-echo.ts), all measured in the same run:
 * - single-stream goodput: 20 MB client → server on one stream, server answers with the count;
 * - handshakes per second: sequential, a new connection each (ECDSA P-256 certificate);
 * - the UDP echo baseline: packets/s and MB/s of 1200-byte echoes.
 * Rows are per 1200-byte unit for goodput, so the "x base" column compares it with the echo.
 */
import { performance } from 'node:perf_hooks';
import type { QuicAppEvent } from '../src/quic/api.js';
import type { ClientConfig, QuicConnection } from '../src/quic/connection/index.js';
import { quicClientFactory, quicServerFactory } from '../src/quic/endpoint/index.js';
import { UdpEndpoint } from '../src/runtime/udp/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { loadServerCredential } from '../src/tls/handshake/index.js';
import { systemRandom } from '../src/util/random.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { udpEcho } from './udp-echo.js';

type ClientCfg = Omit<ClientConfig, 'remote'> & { remote?: string };
type Ep = UdpEndpoint<QuicConnection, ClientCfg>;

const GOODPUT_BYTES = 20 * 1024 * 1024;
const HANDSHAKE_BUDGET_MS = 5_000;
const HANDSHAKE_MAX = 300;
const ALPN = 'bench';

/** Server: counts each client stream's bytes and answers with the count (8 bytes) and FIN. */
async function countingServer(certPem: string, keyPem: string): Promise<Ep> {
  const conns = new Set<QuicConnection>();
  const counts = new Map<string, number>();
  const onEvent = (conn: QuicConnection, ev: QuicAppEvent, key: string): void => {
    if (ev.type !== 'stream-data') return;
    const n = (counts.get(key) ?? 0) + ev.data.length;
    counts.set(key, n);
    if (!ev.fin) return;
    counts.delete(key);
    const answer = new Uint8Array(8);
    new DataView(answer.buffer).setBigUint64(0, BigInt(n));
    conn.writeStream(ev.streamId, answer, true);
  };
  let nextId = 0;
  const ids = new WeakMap<QuicConnection, number>();
  return UdpEndpoint.bind<QuicConnection, ClientCfg>({
    listen: '127.0.0.1:0',
    createServerConnection: quicServerFactory({
      random: systemRandom,
      alpn: [ALPN],
      tls: { credentials: [loadServerCredential(certPem, keyPem)] },
    }),
    onConnection: (conn) => {
      conns.add(conn);
      ids.set(conn, nextId++);
    },
    onClosed: (conn) => {
      conns.delete(conn);
    },
    onWake: () => {
      for (const conn of conns) {
        for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
          onEvent(conn, ev, `${ids.get(conn)}/${'streamId' in ev ? ev.streamId : ''}`);
        }
      }
    },
  });
}

/** A client endpoint whose connections' events go to per-connection handlers. */
async function client(): Promise<{
  ep: Ep;
  handlers: Map<QuicConnection, (ev: QuicAppEvent) => void>;
}> {
  const handlers = new Map<QuicConnection, (ev: QuicAppEvent) => void>();
  const ep = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
    listen: '127.0.0.1:0',
    createClientConnection: quicClientFactory(),
    onClosed: (conn) => handlers.delete(conn),
    onWake: () => {
      for (const [conn, h] of [...handlers]) {
        for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) h(ev);
      }
    },
  });
  return { ep, handlers };
}

function clientConfig(caPem: string): ClientCfg {
  return {
    random: systemRandom,
    alpn: [ALPN],
    tls: { serverName: 'localhost', verify: { ca: [caPem], noSystemRoots: true } },
  };
}

/** Connects and resolves once the handshake completed; `onEvent` then gets the rest. */
function connect(
  c: { ep: Ep; handlers: Map<QuicConnection, (ev: QuicAppEvent) => void> },
  cfg: ClientCfg,
  server: string,
  onEvent: (ev: QuicAppEvent) => void = () => undefined,
): Promise<QuicConnection> {
  return new Promise((resolve, reject) => {
    const conn = c.ep.connect(cfg, server);
    c.handlers.set(conn, (ev) => {
      if (ev.type === 'handshake-complete') resolve(conn);
      else if (ev.type === 'connection-closed') reject(new Error(JSON.stringify(ev.info)));
      else onEvent(ev);
    });
  });
}

/** Sends `total` bytes on one stream with backpressure; resolves with the elapsed ms. */
async function goodput(server: Ep, caPem: string, total: number): Promise<number> {
  const c = await client();
  try {
    let writable: (() => void) | undefined;
    let answered: ((n: number) => void) | undefined;
    const answer = new Promise<number>((r) => {
      answered = r;
    });
    const conn = await connect(c, clientConfig(caPem), server.address, (ev) => {
      if (ev.type === 'stream-writable') writable?.();
      if (ev.type === 'stream-data' && ev.fin && ev.data.length === 8) {
        answered?.(Number(new DataView(ev.data.buffer, ev.data.byteOffset).getBigUint64(0)));
      }
    });
    const id = conn.openStream(true);
    if (id === undefined) throw new Error('no stream credit');
    const chunk = new Uint8Array(64 * 1024).fill(0xab);
    const t0 = performance.now();
    for (let sent = 0; sent < total; ) {
      const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
      const n = conn.writeStream(id, part, sent + part.length === total);
      sent += n;
      c.ep.flush(conn);
      if (n < part.length) {
        await new Promise<void>((r) => {
          writable = r;
        });
      }
    }
    const counted = await answer;
    const ms = performance.now() - t0;
    if (counted !== total) throw new Error(`server counted ${counted} of ${total} bytes`);
    conn.close(0);
    c.ep.flush(conn);
    return ms;
  } finally {
    await c.ep.close();
  }
}

/** Sequential handshakes for the time budget; resolves with [count, elapsed ms]. */
async function handshakes(server: Ep, caPem: string): Promise<[number, number]> {
  const c = await client();
  try {
    const cfg = clientConfig(caPem);
    await connect(c, cfg, server.address); // warm-up
    let n = 0;
    const t0 = performance.now();
    while (n < HANDSHAKE_MAX && performance.now() - t0 < HANDSHAKE_BUDGET_MS) {
      const conn = await connect(c, cfg, server.address);
      conn.close(0);
      c.ep.flush(conn);
      n++;
    }
    return [n, performance.now() - t0];
  } finally {
    await c.ep.close();
  }
}

const bench: BenchModule = {
  title: 'QUIC over loopback UDP vs plain node:dgram echo (same run)',
  baseline: 'udp echo 1200 B (node:dgram), per datagram',
  async run(): Promise<BenchRow[]> {
    const cert = generateDevCert();
    const echo = await udpEcho({ size: 1200, durationMs: 3000 });
    const server = await countingServer(cert.certPem, cert.keyPem);
    try {
      const ms = await goodput(server, cert.certPem, GOODPUT_BYTES);
      const [count, hsMs] = await handshakes(server, cert.certPem);
      const mbps = GOODPUT_BYTES / 1e6 / (ms / 1000);
      const units = GOODPUT_BYTES / 1200;
      const hsPerSec = (count * 1000) / hsMs;
      return [
        {
          name: 'udp echo 1200 B (node:dgram), per datagram',
          nsPerOp: 1e9 / echo.packetsPerSec,
          opsPerSec: echo.packetsPerSec,
          note: `${echo.mbPerSec.toFixed(1)} MB/s echoed, ${Math.round(echo.packetsPerSec)} echoes/s`,
        },
        {
          name: 'quic single-stream goodput 20 MB, per 1200 B',
          nsPerOp: (ms * 1e6) / units,
          opsPerSec: (units * 1000) / ms,
          note:
            `${mbps.toFixed(1)} MB/s goodput = ${((mbps / echo.mbPerSec) * 100).toFixed(0)}% ` +
            `of the udp echo's MB/s`,
        },
        {
          name: 'quic handshake, sequential, new connection each',
          nsPerOp: (hsMs * 1e6) / count,
          opsPerSec: hsPerSec,
          note:
            `${hsPerSec.toFixed(0)} handshakes/s (${count} in ${(hsMs / 1000).toFixed(1)} s); ` +
            `1 handshake ≈ ${(echo.packetsPerSec / hsPerSec).toFixed(0)} udp echoes`,
        },
      ];
    } finally {
      await server.close();
    }
  },
};

export default bench;
