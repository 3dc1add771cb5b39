/**
 * Forwarded mode to a second QUIC implementation we did not write: our H3Client over
 * `MasqueClient.connectQuic` through our proxy (scramble-dt) to ngtcp2's server (Debian's
 * gtlsserver with nghttp3), unmodified: GET of a 300 kB file from its htdocs, hash verified,
 * packets forwarded both ways (counted at the client and the proxy).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasqueClient } from '../../src/client/client.js';
import { H3Client } from '../../src/runtime/client/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import { startTestProxy, type TestProxy, testCert } from '../masque/proxy/loopback.js';
import { type Ngtcp2Server, ngtcp2ServerBinary, startNgtcp2Server } from './ngtcp2.js';
import { sha256Hex } from './ours-h3-server.js';
import { quicGoPattern } from './quic-go-peer.js';

let dir: string;
let cert: DevCert;
let ng: Ngtcp2Server | undefined;
let proxy: TestProxy | undefined;
let blob: Uint8Array;

beforeAll(async () => {
  ngtcp2ServerBinary(); // fails (never skips) without the Debian package
  dir = mkdtempSync(join(tmpdir(), 'quic-aware-ngtcp2-'));
  cert = generateDevCert({ keyType: 'ecdsa-p256' });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  mkdirSync(join(dir, 'htdocs'));
  blob = quicGoPattern(12, 300_000);
  writeFileSync(join(dir, 'htdocs', 'blob.bin'), blob);
  ng = await startNgtcp2Server({
    keyFile: join(dir, 'key.pem'),
    certFile: join(dir, 'cert.pem'),
    htdocs: join(dir, 'htdocs'),
  });
  proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] } });
}, 60_000);

afterAll(async () => {
  await Promise.all([ng?.stop(), proxy?.proxy.close({ timeout: 500 })]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('forwarded mode to ngtcp2', () => {
  it('GET 300 kB from ngtcp2 through our proxy with scramble-dt: intact, forwarded both ways', async () => {
    const p = (proxy as TestProxy).proxy;
    const port = (ng as Ngtcp2Server).port;
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
        await (await h3.request({ path: '/blob.bin' })).bytes();
        const res = await h3.request({ path: '/blob.bin' });
        expect(res.status).toBe(200);
        const body = await res.bytes();
        expect(sha256Hex(body)).toBe(sha256Hex(blob));
        expect(sock.stats.forwardedIn, JSON.stringify(sock.stats)).toBeGreaterThan(100);
        expect(sock.stats.forwardedOut, JSON.stringify(sock.stats)).toBeGreaterThan(5);
      } finally {
        await h3.close({ timeout: 200 });
      }
    } finally {
      await masque.close();
    }
  }, 60_000);
});
