/**
 * One busy connection beside 5,000 idle ones, all real `QuicConnection`s on one server endpoint,
 * in memory with a virtual clock (no sockets, no wall-clock timing): every datagram of the busy
 * connection is echoed, and the idle connections are never touched while it runs, yet stay alive.
 *
 * The idle connections resume a TLS session (RFC 9846 §2.2), which skips the certificate work and
 * makes 5,000 handshakes affordable (a few seconds); the test then lets their post-handshake
 * timers run out so that only their idle timers (10 minutes away) remain.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import {
  QuicEndpoint,
  quicClientFactory,
  quicServerFactory,
} from '../../../src/quic/endpoint/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { loadServerCredential } from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';

const T0 = Date.UTC(2026, 5, 1);
const SERVER = '10.0.0.2:443';
const CLIENT = '10.0.0.1:5000';
const CERT = generateDevCert({ now: T0, random: new SeededRandom(31) });
const IDLE = 5_000;
const IDLE_TIMEOUT = 600_000;
const ALPN = ['h3'];

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];
type Ep = QuicEndpoint<QuicConnection, ClientCfg>;

/** Driver calls the endpoint made on one connection. */
interface Work {
  calls: number;
}

/** Counts every driver call the endpoint makes on `conn` into `work`. */
function counted(conn: QuicConnection, work: Work): QuicConnection {
  const c = conn as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const m of ['receive', 'pollTransmit', 'nextTimeout', 'handleTimeout']) {
    const inner = c[m].bind(conn);
    c[m] = (...args: unknown[]) => {
      work.calls++;
      return inner(...args);
    };
  }
  return conn;
}

const serverWork = new Map<QuicConnection, Work>();
let server: Ep;
let client: Ep;
let now = T0;
let seed = 1_000;
const idleClients: QuicConnection[] = [];
const idleServers: QuicConnection[] = [];

function totalWork(conns: Iterable<QuicConnection>): number {
  let n = 0;
  for (const c of conns) n += serverWork.get(c)?.calls ?? 0;
  return n;
}

function resetWork(): void {
  for (const w of serverWork.values()) w.calls = 0;
}

/** Moves datagrams both ways until both endpoints are quiet (a lossless, instant link). */
function pump(): void {
  for (let round = 0; round < 10_000; round++) {
    let moved = false;
    for (let t = client.pollTransmit(now); t !== undefined; t = client.pollTransmit(now)) {
      server.receive(t.data, CLIENT, now);
      moved = true;
    }
    for (let t = server.pollTransmit(now); t !== undefined; t = server.pollTransmit(now)) {
      client.receive(t.data, SERVER, now);
      moved = true;
    }
    if (!moved) return;
  }
  throw new Error('the link never settles');
}

/** Runs both endpoints' timers up to `until`, moving what they send. */
function advance(until: number): void {
  for (;;) {
    const next = Math.min(client.nextTimeout() ?? Infinity, server.nextTimeout() ?? Infinity);
    if (next > until) break;
    now = Math.max(now, next);
    client.handleTimeout(now);
    server.handleTimeout(now);
    pump();
  }
  now = Math.max(now, until);
}

function clientConfig(resumption?: unknown): ClientCfg {
  return {
    random: new SeededRandom(seed++),
    alpn: ALPN,
    transport: { maxIdleTimeout: IDLE_TIMEOUT, maxDatagramFrameSize: 1200 },
    tls: {
      serverName: 'localhost',
      verify: { ca: [CERT.certPem], noSystemRoots: true },
      resumption: resumption as ClientCfg['tls']['resumption'],
    },
  };
}

function accepted(): QuicConnection[] {
  const out: QuicConnection[] = [];
  for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
    if (ev.type === 'connection') out.push(ev.conn);
  }
  return out;
}

beforeAll(() => {
  const factory = quicServerFactory({
    random: new SeededRandom(2),
    alpn: ALPN,
    tls: {
      credentials: [loadServerCredential(CERT.certPem, CERT.keyPem)],
      tickets: { key: new Uint8Array(32).fill(0x42) },
    },
    transport: { maxIdleTimeout: IDLE_TIMEOUT, maxDatagramFrameSize: 1200 },
  });
  server = new QuicEndpoint<QuicConnection, ClientCfg>({
    random: new SeededRandom(1),
    retry: 'never',
    // One client address opens the whole crowd at once.
    initialRatePerSource: { perSecond: 1e9, burst: 1e9 },
    createServerConnection: (info, remote, at, ctx) => {
      const work: Work = { calls: 0 };
      const conn = counted(factory(info, remote, at, ctx), work);
      serverWork.set(conn, work);
      return conn;
    },
  });
  client = new QuicEndpoint<QuicConnection, ClientCfg>({
    random: new SeededRandom(3),
    createClientConnection: quicClientFactory(),
  });
  // One full handshake for a session ticket, then the crowd resumes it in waves.
  const first = client.connect(clientConfig(), SERVER, now);
  pump();
  const ticket = first.sessionTicket;
  expect(ticket).toBeDefined();
  idleClients.push(first);
  while (idleClients.length < IDLE) {
    for (let i = 0; i < 50 && idleClients.length < IDLE; i++) {
      idleClients.push(client.connect(clientConfig(ticket), SERVER, now));
    }
    pump();
    now += 1;
  }
  idleServers.push(...accepted());
  // Post-handshake timers (ACK delays, key discard, PTOs for HANDSHAKE_DONE and NEW_TOKEN...)
  // run out; afterwards only the idle timers, 10 minutes away, remain.
  advance(now + 5_000);
}, 180_000);

describe('a busy connection beside 5,000 idle QUIC connections (in memory)', () => {
  it('the crowd is established and quiet: nothing is due before the idle timeout', () => {
    expect(idleServers).toHaveLength(IDLE);
    expect(server.connectionCount).toBe(IDLE);
    expect(idleClients.every((c) => c.state === 'established')).toBe(true);
    expect(idleClients.filter((c) => c.resumed).length).toBe(IDLE - 1);
    expect(server.nextTimeout()).toBeGreaterThan(now + IDLE_TIMEOUT / 2);
  });

  it('one datagram on a new busy connection polls that connection only', () => {
    const busy = client.connect(clientConfig(), SERVER, now);
    pump();
    const [sBusy] = accepted();
    expect(busy.state).toBe('established');
    advance(now + 5_000);
    resetWork();
    busy.sendDatagram(new Uint8Array([1, 2, 3]));
    client.markActive(busy);
    const t = client.pollTransmit(now);
    expect(t).toBeDefined();
    server.receive((t as { data: Uint8Array }).data, CLIENT, now);
    expect(server.activeConnections()).toEqual([sBusy]);
    while (server.pollTransmit(now) !== undefined);
    server.nextTimeout();
    expect(totalWork(idleServers)).toBe(0);
    expect(serverWork.get(sBusy)?.calls).toBeGreaterThan(0);
    expect(serverWork.get(sBusy)?.calls).toBeLessThan(10);
    // Its ACK timer fires alone: handleTimeout pops the due connection, not the crowd.
    resetWork();
    advance(now + 1_000);
    expect(totalWork(idleServers)).toBe(0);
    sBusy.close(0);
    server.markActive(sBusy);
    pump();
    advance(now + 5_000);
    expect(server.connectionCount).toBe(IDLE);
  });

  it('echoes 2,000 datagrams lossless with 16 in flight; the idle connections stay idle and alive', () => {
    const N = 2_000;
    const WINDOW = 16;
    const busy = client.connect(clientConfig(), SERVER, now);
    pump();
    accepted();
    advance(now + 5_000);
    resetWork();
    const echoed = new Uint8Array(N);
    let sent = 0;
    let received = 0;
    const active: QuicConnection[] = [];
    for (let round = 0; received < N && round < 50_000; round++) {
      while (sent < N && sent - received < WINDOW) {
        const d = new Uint8Array(100);
        new DataView(d.buffer).setUint32(0, sent);
        expect(busy.sendDatagram(d)).toBe(true);
        sent++;
      }
      client.markActive(busy);
      for (let t = client.pollTransmit(now); t !== undefined; t = client.pollTransmit(now)) {
        server.receive(t.data, CLIENT, now);
      }
      // The server application reads the connections the input reached and echoes datagrams.
      for (const conn of server.activeConnections(active)) {
        for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
          if (ev.type === 'datagram') conn.sendDatagram(ev.data);
        }
      }
      for (let t = server.pollTransmit(now); t !== undefined; t = server.pollTransmit(now)) {
        client.receive(t.data, SERVER, now);
      }
      for (let ev = busy.pollEvent(); ev !== undefined; ev = busy.pollEvent()) {
        if (ev.type !== 'datagram') continue;
        const i = new DataView(ev.data.buffer, ev.data.byteOffset).getUint32(0);
        echoed[i]++;
        received++;
      }
      now += 1;
      client.handleTimeout(now);
      server.handleTimeout(now);
    }
    expect(received).toBe(N);
    expect(echoed.every((n) => n === 1)).toBe(true);
    expect(totalWork(idleServers)).toBe(0);
    expect(idleServers.every((c) => c.state === 'established')).toBe(true);
    expect(idleClients.every((c) => c.state === 'established')).toBe(true);
    expect(server.connectionCount).toBe(IDLE + 1);
  });
});
