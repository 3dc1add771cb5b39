/**
 * Per-packet cost of the proxy beside idle QUIC connections: one connect-udp tunnel echoes
 * 1200-byte datagrams through a UDP echo target (window 32, 3 s per row) while 0, 1,000 and
 * 5,000 other QUIC connections sit idle on the same proxy. If the proxy's work per packet grows
 * with the number of connections (every connection polled or pumped after each datagram, timers
 * found by a scan), the cost per echo grows with them; the target is flat within 20 %.
 *
 * Rows: CPU per echo (process user + system time: client, proxy and echo share this Node thread)
 * as ns/op, echoes per second as ops/s; the note has the loss and the ratio to the 1-connection
 * row. The baseline is the plain node:dgram relay (bench/udp-relay.ts) doing the same socket work
 * without QUIC, measured in the same run.
 *
 * Idle connections are bare QUIC connections (ALPN h3, no requests) from ten client sockets. They
 * send a keep-alive PING every 20 s, as idle clients do to outlive the 30 s idle timeout (RFC 9000
 * §10.1.2): 250 PINGs/s of background at 5,000 connections, part of what is measured.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { startProxy } from '../src/app/index.js';
import { MasqueClient } from '../src/client/index.js';
import { parseConfig } from '../src/config/index.js';
import type { ClientConfig, QuicConnection } from '../src/quic/connection/index.js';
import { quicClientFactory } from '../src/quic/endpoint/index.js';
import { UdpEndpoint } from '../src/runtime/udp/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { systemRandom } from '../src/util/random.js';
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

type ClientCfg = Omit<ClientConfig, 'remote'> & { remote?: string };
type Ep = UdpEndpoint<QuicConnection, ClientCfg>;

const BIG_PACKETS = 1452;
const IDLE_SOCKETS = 10;
/** Handshakes in flight at once (below the server's 'under-load' Retry threshold of 64). */
const CONCURRENCY = 48;
const KEEP_ALIVE_MS = 20_000;
/** Give up opening idle connections after this long (a slow stack may never get there). */
const OPEN_BUDGET_MS = 600_000;
/** Idle connections per row; ENDPOINT_SCALE_STEPS="0,200" overrides (quick runs). */
const STEPS = (process.env.ENDPOINT_SCALE_STEPS ?? '0,1000,5000').split(',').map(Number);

/** Opens idle QUIC connections from a few client sockets; resolves once `total` are up. */
class IdleCrowd {
  readonly #eps: Ep[] = [];
  readonly #pending = new Map<QuicConnection, (ok: boolean) => void>();
  #open = 0;
  #next = 0;

  private constructor(
    readonly server: string,
    readonly ca: string,
  ) {}

  static async start(server: string, ca: string): Promise<IdleCrowd> {
    const crowd = new IdleCrowd(server, ca);
    for (let i = 0; i < IDLE_SOCKETS; i++) {
      const ep: Ep = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
        listen: '127.0.0.1:0',
        createClientConnection: quicClientFactory(),
        onClosed: (conn) => crowd.#settle(conn, false),
        // Only connections still handshaking are read; established ones are left alone.
        onWake: () => {
          for (const conn of [...crowd.#pending.keys()]) {
            for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
              if (ev.type === 'handshake-complete') crowd.#settle(conn, true);
            }
          }
        },
      });
      crowd.#eps.push(ep);
    }
    return crowd;
  }

  get open(): number {
    return this.#open;
  }

  /** Opens connections until `total` are established (or the budget runs out). */
  async grow(total: number): Promise<void> {
    const deadline = performance.now() + OPEN_BUDGET_MS;
    while (this.#open < total && performance.now() < deadline) {
      const wave = Math.min(CONCURRENCY, total - this.#open);
      const results = await Promise.all(Array.from({ length: wave }, () => this.#connect()));
      this.#open += results.filter(Boolean).length;
    }
  }

  #connect(): Promise<boolean> {
    const ep = this.#eps[this.#next++ % this.#eps.length];
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const conn = ep.connect(
        {
          random: systemRandom,
          alpn: ['h3'],
          keepAlive: KEEP_ALIVE_MS,
          maxUdpPayload: BIG_PACKETS,
          tls: { serverName: 'localhost', verify: { ca: [this.ca], noSystemRoots: true } },
        },
        this.server,
      );
      this.#pending.set(conn, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
    });
  }

  #settle(conn: QuicConnection, ok: boolean): void {
    const done = this.#pending.get(conn);
    if (done === undefined) return;
    this.#pending.delete(conn);
    done(ok);
  }

  async close(): Promise<void> {
    await Promise.all(this.#eps.map((ep) => ep.close()));
  }
}

function row(name: string, r: WindowResult, note = ''): BenchRow {
  const nsPerOp = (r.cpuMs * 1e6) / Math.max(1, r.echoes);
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const lost = Math.max(0, r.sent - r.echoes);
  return {
    name,
    nsPerOp,
    opsPerSec: perSec,
    note:
      `${(nsPerOp / 1000).toFixed(1)} µs CPU/echo, ${Math.round(perSec).toLocaleString('en-US')} ` +
      `echoes/s, ${((lost / Math.max(1, r.sent)) * 100).toFixed(1)} % lost${note}`,
  };
}

const bench: BenchModule = {
  title: 'Per-packet cost beside idle QUIC connections (connect-udp echo, 1200 B, window 32)',
  baseline: 'plain node:dgram relay',
  async run(): Promise<BenchRow[]> {
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
    const crowd = await IdleCrowd.start(proxy.address, cert.certPem);
    const client = await MasqueClient.connect(proxy.template, {
      ca: [cert.certPem],
      maxUdpPayload: BIG_PACKETS,
    });
    try {
      rows.push(row('plain node:dgram relay', await plainRelay(1, target.port)));
      const sock = await client.connectUdp('127.0.0.1', target.port);
      const payload = new Uint8Array(SIZE).fill(0x5a);
      let onEcho: () => void = () => undefined;
      sock.on('message', () => onEcho());
      for (const idle of STEPS) {
        const t0 = performance.now();
        await crowd.grow(idle);
        const openMs = performance.now() - t0;
        const r = await windowed(
          () => sock.send(payload),
          1,
          (f) => {
            onEcho = f;
          },
        );
        const conns = proxy.server.stats().connections;
        const name = `connect-udp echo, ${(crowd.open + 1).toLocaleString('en-US')} connections`;
        const opened = idle > 0 ? `; opened in ${(openMs / 1000).toFixed(0)} s` : '';
        rows.push(row(name, r, `; proxy holds ${conns}${opened}`));
      }
      const one = rows[1].nsPerOp;
      for (const r of rows.slice(2)) r.note += `; ×${(r.nsPerOp / one).toFixed(2)} of 1 connection`;
    } finally {
      await client.close();
      await crowd.close();
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    return rows;
  },
};

export default bench;
