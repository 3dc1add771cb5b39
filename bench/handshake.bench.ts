/**
 * What a QUIC + TLS handshake costs the server, in memory (issue 13: ">= 1,000 handshakes per
 * second per core"): a server `QuicEndpoint` and a client endpoint in one process with no sockets,
 * the client's datagrams handed to the server and back. Only the time inside the server's
 * `receive`/`pollTransmit` is counted, so the figure is the server's CPU per handshake (ECDSA P-256
 * certificate, x25519, AES-128-GCM, the system random as in production), free of the client's
 * work and of socket costs. Rows: full handshakes, and resumed ones (a session ticket, no
 * certificate or signature). Each row is the median of 9 batches of 100 handshakes.
 */
import { performance } from 'node:perf_hooks';
import type { QuicConnection } from '../src/quic/connection/index.js';
import { QuicEndpoint, quicClientFactory, quicServerFactory } from '../src/quic/endpoint/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { loadServerCredential } from '../src/tls/handshake/index.js';
import { SeededRandom, systemRandom } from '../src/util/random.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];
type Ep = QuicEndpoint<QuicConnection, ClientCfg>;

const CLIENT = '10.0.0.1:5000';
const SERVER = '10.0.0.2:443';
const BATCH = 100;
const BATCHES = 9;

class Pair {
  readonly #cert = generateDevCert();
  readonly server: Ep;
  readonly client: Ep;
  readonly ca: string[];
  now = Date.now();
  serverMs = 0;

  constructor() {
    this.ca = [this.#cert.certPem];
    this.server = new QuicEndpoint<QuicConnection, ClientCfg>({
      random: systemRandom,
      retry: 'never',
      initialRatePerSource: { perSecond: 1e9, burst: 1e9 },
      createServerConnection: quicServerFactory({
        random: systemRandom,
        alpn: ['h3'],
        tls: {
          credentials: [loadServerCredential(this.#cert.certPem, this.#cert.keyPem)],
          tickets: { key: new Uint8Array(32).fill(7) },
        },
        maxUdpPayload: 1452,
      }),
    });
    this.client = new QuicEndpoint<QuicConnection, ClientCfg>({
      random: new SeededRandom(3),
      createClientConnection: quicClientFactory(),
    });
  }

  /** One handshake to completion, then a close; returns the client connection. */
  handshake(resumption?: unknown): QuicConnection {
    const conn = this.client.connect(
      {
        random: systemRandom,
        alpn: ['h3'],
        maxUdpPayload: 1452,
        tls: {
          serverName: 'localhost',
          verify: { ca: this.ca, noSystemRoots: true },
          resumption: resumption as ClientCfg['tls']['resumption'],
        },
      },
      SERVER,
      this.now,
    );
    this.#pump();
    if (conn.state !== 'established') throw new Error(`handshake ended ${conn.state}`);
    this.now += 1;
    return conn;
  }

  close(conn: QuicConnection): void {
    conn.close(0);
    this.#pump();
  }

  #pump(): void {
    for (let round = 0; round < 100; round++) {
      let moved = false;
      for (let t = this.client.pollTransmit(this.now); t; t = this.client.pollTransmit(this.now)) {
        moved = true;
        const t0 = performance.now();
        this.server.receive(t.data, CLIENT, this.now);
        this.serverMs += performance.now() - t0;
      }
      const t0 = performance.now();
      const out = [];
      for (let t = this.server.pollTransmit(this.now); t; t = this.server.pollTransmit(this.now))
        out.push(t);
      for (let ev = this.server.pollEvent(); ev !== undefined; ev = this.server.pollEvent());
      this.serverMs += performance.now() - t0;
      for (const t of out) {
        moved = true;
        this.client.receive(t.data, SERVER, this.now);
      }
      if (!moved) return;
    }
    throw new Error('the in-memory handshake never settles');
  }
}

function run(pair: Pair, name: string, resumed: boolean): BenchRow {
  const warm = pair.handshake();
  const ticket = warm.sessionTicket;
  pair.close(warm);
  const perHandshake: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    pair.serverMs = 0;
    for (let i = 0; i < BATCH; i++) pair.close(pair.handshake(resumed ? ticket : undefined));
    perHandshake.push((pair.serverMs * 1e6) / BATCH);
  }
  perHandshake.sort((a, b) => a - b);
  const ns = perHandshake[Math.floor(BATCHES / 2)];
  return {
    name,
    nsPerOp: ns,
    opsPerSec: 1e9 / ns,
    note: `${Math.round(1e9 / ns).toLocaleString('en-US')} handshakes/s on one core (server side)`,
  };
}

const bench: BenchModule = {
  title: 'QUIC handshakes: server CPU per handshake, in memory (no sockets)',
  run(): BenchRow[] {
    const pair = new Pair();
    return [
      run(pair, 'full handshake (certificate, ECDSA P-256 signature, x25519)', false),
      run(pair, 'resumed handshake (session ticket)', true),
    ];
  },
};

export default bench;
