/**
 * A real QUIC client ↔ server handshake and stream echo over loopback UDP: two UdpEndpoints,
 * QuicConnection on both sides, a development certificate, the real clock.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import { quicClientFactory, quicServerFactory } from '../../../src/quic/endpoint/index.js';
import { UdpEndpoint } from '../../../src/runtime/udp/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { loadServerCredential } from '../../../src/tls/handshake/index.js';
import { systemRandom } from '../../../src/util/random.js';
import { ipv6Available } from '../../support/ipv6.js';

const CERT = generateDevCert({ random: systemRandom });
const CREDENTIAL = loadServerCredential(CERT.certPem, CERT.keyPem);
// Hosts without an IPv6 loopback report the [::1] test as skipped.
const hasIpv6 = await ipv6Available();

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Echo server: every stream's data goes back on the same stream. */
async function startServer(
  listen: string,
  retry: 'always' | 'never',
  keylog?: string,
  qlogDir?: string,
) {
  const conns: QuicConnection[] = [];
  const server: UdpEndpoint<QuicConnection, ClientCfg> = await UdpEndpoint.bind<
    QuicConnection,
    ClientCfg
  >({
    listen,
    retry,
    statelessResetKey: new Uint8Array(32).fill(5),
    keylogFile: keylog,
    qlogDir,
    createServerConnection: quicServerFactory({
      random: systemRandom,
      alpn: ['echo'],
      tls: { credentials: [CREDENTIAL] },
    }),
    onConnection: (c) => conns.push(c),
    onWake: () => {
      for (const c of conns) {
        for (let e = c.pollEvent(); e !== undefined; e = c.pollEvent()) {
          if (e.type === 'stream-data') c.writeStream(e.streamId, e.data, e.fin);
        }
      }
    },
  });
  cleanup.push(() => server.close());
  return { server, conns };
}

async function runEcho(listen: string, retry: 'always' | 'never', payload: Uint8Array) {
  const { server } = await startServer(listen, retry);
  const received: Uint8Array[] = [];
  let finished = false;
  let conn: QuicConnection | undefined;
  let handshake = false;
  const client = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
    listen,
    createClientConnection: quicClientFactory(),
    onWake: () => {
      if (!conn) return;
      for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) {
        if (e.type === 'handshake-complete') handshake = true;
        if (e.type === 'stream-data') {
          received.push(e.data.slice());
          if (e.fin) finished = true;
        }
      }
    },
  });
  cleanup.push(() => client.close());
  conn = client.connect(
    {
      random: systemRandom,
      alpn: ['echo'],
      tls: { serverName: 'localhost', verify: { ca: [CERT.certPem], noSystemRoots: true } },
    },
    server.address,
  );
  await waitFor(() => handshake);
  const id = conn.openStream(true) as number;
  let off = 0;
  const pushMore = (): void => {
    while (off < payload.length) {
      const n = conn?.writeStream(id, payload.subarray(off), true) ?? 0;
      if (n === 0) return;
      off += n;
    }
  };
  pushMore();
  client.flush(conn);
  await waitFor(() => {
    pushMore();
    client.flush(conn);
    return finished;
  }, 10_000);
  const total = received.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const b of received) {
    out.set(b, p);
    p += b.length;
  }
  return { out, server, client };
}

describe('QUIC over loopback UDP (QuicConnection + UdpEndpoint)', () => {
  it('handshakes and echoes a stream over 127.0.0.1', async () => {
    const payload = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    const { out, server } = await runEcho('127.0.0.1:0', 'never', payload);
    expect(out).toEqual(payload);
    expect(server.endpoint.stats().connections).toBe(1);
  });

  it.skipIf(!hasIpv6)('handshakes through a Retry over [::1]', async () => {
    const payload = new TextEncoder().encode('retried over IPv6');
    const { out, server } = await runEcho('[::1]:0', 'always', payload);
    expect(out).toEqual(payload);
    expect(server.endpoint.stats().retrySent).toBe(1);
  });

  it('writes key log lines and qlog files for the server connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'masque-quic-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const keylog = join(dir, 'keys.log');
    const { server, conns } = await startServer('127.0.0.1:0', 'never', keylog, join(dir, 'qlog'));
    let done = false;
    let conn: QuicConnection | undefined;
    const client = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
      listen: '127.0.0.1:0',
      createClientConnection: quicClientFactory(),
      onWake: () => {
        for (let e = conn?.pollEvent(); e !== undefined; e = conn?.pollEvent()) {
          if (e.type === 'handshake-complete') done = true;
        }
      },
    });
    cleanup.push(() => client.close());
    conn = client.connect(
      {
        random: systemRandom,
        alpn: ['echo'],
        tls: { serverName: 'localhost', verify: { ca: [CERT.certPem], noSystemRoots: true } },
      },
      server.address,
    );
    await waitFor(() => done && conns[0]?.state === 'established');
    await server.close();
    const lines = readFileSync(keylog, 'utf8').trim().split('\n');
    expect(lines.some((l) => l.startsWith('SERVER_HANDSHAKE_TRAFFIC_SECRET '))).toBe(true);
    expect(lines.some((l) => l.startsWith('SERVER_TRAFFIC_SECRET_0 '))).toBe(true);
    // One JSON-SEQ qlog file for the server connection, in the shape qvis reads (qlog 0.3).
    const files = readdirSync(join(dir, 'qlog'));
    expect(files.length).toBe(1);
    const records = readFileSync(join(dir, 'qlog', files[0]), 'utf8')
      .split('\x1e')
      .filter((r) => r.trim() !== '')
      .map((r) => JSON.parse(r));
    expect(records[0]).toMatchObject({ qlog_version: '0.3', qlog_format: 'JSON-SEQ' });
    expect(records[0].trace.vantage_point.type).toBe('server');
    const events = records.slice(1);
    const names = new Set(events.map((e: { name: string }) => e.name));
    expect(names).toContain('transport:packet_sent');
    expect(names).toContain('transport:packet_received');
    expect(names).toContain('recovery:metrics_updated');
    const firstReceived = events.find(
      (e: { name: string }) => e.name === 'transport:packet_received',
    );
    expect(firstReceived.data.header).toMatchObject({ packet_type: 'initial', packet_number: 0 });
    expect(firstReceived.data.raw.length).toBeGreaterThan(0);
    expect(firstReceived.data.frames.map((f: { frame_type: string }) => f.frame_type)).toContain(
      'crypto',
    );
    expect(events.at(-1).name).toBe('connectivity:connection_closed');
    for (const e of events) expect(typeof e.time).toBe('number');
  });
});
