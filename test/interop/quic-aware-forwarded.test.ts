/**
 * QUIC-aware proxying end to end with real QUIC targets: our H3Client runs over
 * `MasqueClient.connectQuic` through our proxy in forwarded mode with scramble-dt to
 * (a) quic-go 0.29's HTTP/3 server (Debian's sources; a target we did not write, unmodified) and
 * (b) our own H3Server; and (c) quic-go's HTTP/3 client, unmodified, on the local port of
 * `udp-forward --quic-aware`, to quic-go's server. The handshake's long headers are tunnelled; once the CIDs are registered
 * and acknowledged, 1-RTT packets travel forwarded both ways (counted at the client and at the
 * proxy), and the bodies arrive intact.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpForwarder } from '../../src/cli/udp-forward.js';
import { MasqueClient } from '../../src/client/client.js';
import { H3Client } from '../../src/runtime/client/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import { startTestProxy, type TestProxy, testCert } from '../masque/proxy/loopback.js';
import { type OursH3Server, sha256Hex, startOursH3Server } from './ours-h3-server.js';
import {
  buildQuicGoPeer,
  type QuicGoServer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

let dir: string;
let cert: DevCert;
let goServer: QuicGoServer | undefined;
let ours: OursH3Server | undefined;
let proxy: TestProxy | undefined;

beforeAll(async () => {
  buildQuicGoPeer(); // fails (never skips) without Go or the quic-go sources
  dir = mkdtempSync(join(tmpdir(), 'quic-aware-fwd-'));
  cert = generateDevCert({ keyType: 'ecdsa-p256' });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  goServer = await startQuicGoServer({
    mode: 'h3server',
    flags: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
  });
  ours = await startOursH3Server({ cert });
  proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] } });
}, 300_000);

afterAll(async () => {
  await Promise.all([goServer?.stop(), ours?.close(), proxy?.proxy.close({ timeout: 500 })]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface ForwardedCounters {
  forwarded: { toTarget: number; toClient: number };
}

async function getThrough(
  port: number,
  n: number,
): Promise<{ body: Uint8Array; stats: ReturnType<typeof statsOf> }> {
  const p = (proxy as TestProxy).proxy;
  const masque = await MasqueClient.connect(
    `https://127.0.0.1:${p.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
    { ca: [testCert.certPem], serverName: 'localhost' },
  );
  try {
    const sock = await masque.connectQuic('127.0.0.1', port);
    expect(sock.forwarding).toBe(true);
    const h3 = await H3Client.connect(
      { host: '127.0.0.1', port },
      {
        socket: sock,
        remote: sock.remote,
        ca: [cert.certPem],
        noSystemRoots: true,
        serverName: 'localhost',
      },
    );
    try {
      // A first request lets the registrations complete; the second rides forwarded mode.
      await (await h3.request({ path: '/bytes/1000' })).bytes();
      const res = await h3.request({ path: `/bytes/${n}` });
      expect(res.status).toBe(200);
      const body = await res.bytes();
      return {
        body,
        stats: statsOf(sock.stats, p.handler.tunnels as unknown as Set<ForwardedCounters>),
      };
    } finally {
      await h3.close({ timeout: 200 });
    }
  } finally {
    await masque.close();
  }
}

function statsOf(
  client: { forwardedIn: number; forwardedOut: number; registrations: number },
  tunnels: Set<ForwardedCounters>,
) {
  let toTarget = 0;
  let toClient = 0;
  for (const t of tunnels) {
    toTarget += t.forwarded?.toTarget ?? 0;
    toClient += t.forwarded?.toClient ?? 0;
  }
  return { client: { ...client }, proxy: { toTarget, toClient } };
}

describe('forwarded mode with scramble-dt to QUIC targets', () => {
  it('quic-go h3server: GET 1 MB through forwarded mode, body intact, packets forwarded both ways', async () => {
    const n = 1_000_000;
    const { body, stats } = await getThrough((goServer as QuicGoServer).port, n);
    expect(sha256Hex(body)).toBe(sha256Hex(quicGoPattern(0, n)));
    expect(stats.client.registrations).toBeGreaterThanOrEqual(2);
    expect(stats.client.forwardedIn).toBeGreaterThan(100);
    expect(stats.client.forwardedOut).toBeGreaterThan(5);
    expect(stats.proxy.toClient).toBeGreaterThan(100);
    expect(stats.proxy.toTarget).toBeGreaterThan(5);
    // The same on /metrics (batched there by the tunnel flusher).
    const p = (proxy as TestProxy).proxy;
    p.handler.flushMetrics();
    const text = await p.metrics.registry.metrics();
    const count = (dir: string) =>
      Number(
        new RegExp(`forwarded_packets_total\\{direction="${dir}"\\} (\\d+)`).exec(text)?.[1] ?? 0,
      );
    expect(count('target_to_client')).toBeGreaterThan(100);
    expect(count('client_to_target')).toBeGreaterThan(5);
  }, 60_000);

  it('our H3Server: the same', async () => {
    const n = 500_000;
    const { body, stats } = await getThrough((ours as OursH3Server).port, n);
    expect(body.length).toBe(n);
    expect(stats.client.forwardedIn).toBeGreaterThan(50);
    expect(stats.client.forwardedOut).toBeGreaterThan(5);
  }, 60_000);
});

describe('udp-forward --quic-aware: an unmodified QUIC program', () => {
  it('quic-go h3client → udp-forward → our proxy (forwarded, scramble-dt) → quic-go h3server: 1 MB intact', async () => {
    const p = (proxy as TestProxy).proxy;
    const fwd = await UdpForwarder.start({
      proxy: `https://127.0.0.1:${p.port}`,
      listen: '127.0.0.1:0',
      target: `127.0.0.1:${(goServer as QuicGoServer).port}`,
      ca: [testCert.certPem],
      quicAware: true,
    });
    try {
      const before = forwardedTotals(p.handler.tunnels as unknown as Set<ForwardedCounters>);
      const n = 1_000_000;
      const local = fwd.address.slice(fwd.address.lastIndexOf(':') + 1);
      const r = await runQuicGoClient({
        mode: 'h3client',
        flags: {
          url: `https://localhost:${local}/bytes/${n}`,
          ca: join(dir, 'cert.pem'),
          timeout: '20s',
        },
        timeoutMs: 30_000,
      });
      expect(r, r.stderr).toMatchObject({ ok: true, status: 200, body_bytes: n });
      expect(r.sha256).toBe(sha256Hex(quicGoPattern(0, n)));
      const after = forwardedTotals(p.handler.tunnels as unknown as Set<ForwardedCounters>);
      expect(after.toClient - before.toClient).toBeGreaterThan(100);
      expect(after.toTarget - before.toTarget).toBeGreaterThan(5);
    } finally {
      await fwd.close();
    }
  }, 60_000);
});

function forwardedTotals(tunnels: Set<ForwardedCounters>): { toTarget: number; toClient: number } {
  let toTarget = 0;
  let toClient = 0;
  for (const t of tunnels) {
    toTarget += t.forwarded?.toTarget ?? 0;
    toClient += t.forwarded?.toClient ?? 0;
  }
  return { toTarget, toClient };
}

describe('a chain of two QUIC-aware proxies, forwarded mode at both hops (quic-proxy §1)', () => {
  it('client → A (forwarded) → B (forwarded) → quic-go h3server: 1 MB intact, both proxies forward', async () => {
    const a = (proxy as TestProxy).proxy;
    const b = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] } });
    const tunnelsOf = (p: TestProxy['proxy']) =>
      forwardedTotals(p.handler.tunnels as unknown as Set<ForwardedCounters>);
    const clientA = await MasqueClient.connect(
      `https://127.0.0.1:${a.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
      { ca: [testCert.certPem], serverName: 'localhost' },
    );
    try {
      // The connection to B is a QUIC connection through A: A forwards it.
      const toB = await clientA.connectQuic('127.0.0.1', b.proxy.port);
      const clientB = await MasqueClient.connect(
        `https://127.0.0.1:${b.proxy.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
        { ca: [testCert.certPem], serverName: 'localhost', via: toB },
      );
      const sock = await clientB.connectQuic('127.0.0.1', (goServer as QuicGoServer).port);
      const h3 = await H3Client.connect(
        { host: '127.0.0.1', port: (goServer as QuicGoServer).port },
        {
          socket: sock,
          remote: sock.remote,
          ca: [cert.certPem],
          noSystemRoots: true,
          serverName: 'localhost',
        },
      );
      try {
        await (await h3.request({ path: '/bytes/1000' })).bytes();
        const n = 1_000_000;
        const res = await h3.request({ path: `/bytes/${n}` });
        const body = await res.bytes();
        expect(sha256Hex(body)).toBe(sha256Hex(quicGoPattern(0, n)));
        const atA = tunnelsOf(a);
        const atB = tunnelsOf(b.proxy);
        expect(
          atB.toClient,
          JSON.stringify({ atA, atB, outer: toB.stats, inner: sock.stats }),
        ).toBeGreaterThan(100);
        expect(
          atA.toClient,
          JSON.stringify({ atA, atB, outer: toB.stats, inner: sock.stats }),
        ).toBeGreaterThan(100);
        expect(atA.toTarget).toBeGreaterThan(5);
        expect(atB.toTarget).toBeGreaterThan(5);
      } finally {
        await h3.close({ timeout: 200 });
        await clientB.close();
      }
    } finally {
      await clientA.close();
      await b.proxy.close({ timeout: 500 });
    }
  }, 60_000);
});
