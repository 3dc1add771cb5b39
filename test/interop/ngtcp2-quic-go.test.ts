/**
 * Proves the ngtcp2 harness against the quic-go peer in both directions:
 * ngtcp2's client → quic-go's h3server, and quic-go's h3client → ngtcp2's server (serving a
 * temp htdocs directory with our dev certificate). Later the same helpers face our own stack.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDevCert } from '../../src/tls/certs/dev-cert.js';
import {
  type Ngtcp2Server,
  ngtcp2ClientBinary,
  ngtcp2ServerBinary,
  parseNgtcp2ClientLog,
  runNgtcp2Client,
  startNgtcp2Server,
} from './ngtcp2.js';
import { requireExecutable } from './peer-process.js';
import {
  QUIC_GO_HELLO_BODY,
  type QuicGoServer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

const sha256 = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

let dir: string;
let h3: QuicGoServer | undefined;
let ng: Ngtcp2Server | undefined;
let blob: Uint8Array;

beforeAll(async () => {
  // A missing Debian package fails here, naming it.
  ngtcp2ClientBinary();
  ngtcp2ServerBinary();
  dir = mkdtempSync(join(tmpdir(), 'ngtcp2-interop-'));
  const cert = generateDevCert();
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  mkdirSync(join(dir, 'htdocs'));
  blob = quicGoPattern(7, 300_000);
  writeFileSync(join(dir, 'htdocs', 'blob.bin'), blob);
  writeFileSync(join(dir, 'htdocs', 'index.html'), '<p>ngtcp2</p>\n');
  h3 = await startQuicGoServer({ mode: 'h3server', flags: {} });
  ng = await startNgtcp2Server({
    keyFile: join(dir, 'key.pem'),
    certFile: join(dir, 'cert.pem'),
    htdocs: join(dir, 'htdocs'),
    keylogFile: join(dir, 'ngtcp2-server-keys.log'),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([h3?.stop(), ng?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ngtcp2 client → quic-go h3server', () => {
  it('GET /hello over h3, body saved and verified', async () => {
    const out = join(dir, 'dl-hello');
    mkdirSync(out);
    const port = h3?.port ?? 0;
    const r = await runNgtcp2Client({
      host: '127.0.0.1',
      port,
      urls: [`https://127.0.0.1:${port}/hello`],
      downloadDir: out,
      keylogFile: join(dir, 'ngtcp2-client-keys.log'),
    });
    expect(r.handshakeCompleted, r.stderr.slice(-4000)).toBe(true);
    expect(r).toMatchObject({ exitCode: 0, alpn: 'h3', errors: [] });
    expect(r.responses).toHaveLength(1);
    expect(r.responses[0]).toMatchObject({ streamId: 0, status: 200, closeCode: 0x100 });
    expect(r.responses[0].headers).toContainEqual(['content-type', 'text/plain']);
    expect(readFileSync(join(out, 'hello'), 'utf8')).toBe(QUIC_GO_HELLO_BODY);
    expect(r.downloads).toEqual([
      { name: 'hello', bytes: QUIC_GO_HELLO_BODY.length, sha256: sha256(QUIC_GO_HELLO_BODY) },
    ]);
    const keys = readFileSync(join(dir, 'ngtcp2-client-keys.log'), 'utf8');
    expect(keys).toMatch(/^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64,96} ?$/m);
  });

  it('GET /bytes/N (1 MB) matches the pattern generator', async () => {
    const out = join(dir, 'dl-bytes');
    mkdirSync(out);
    const port = h3?.port ?? 0;
    const n = 1_000_000;
    const r = await runNgtcp2Client({
      host: '127.0.0.1',
      port,
      urls: [`https://127.0.0.1:${port}/bytes/${n}`],
      downloadDir: out,
    });
    expect(r.responses[0]?.status, r.stderr.slice(-4000)).toBe(200);
    expect(r.downloads).toEqual([
      { name: String(n), bytes: n, sha256: sha256(quicGoPattern(0, n)) },
    ]);
  });

  it('POST /echo with a request body file', async () => {
    const out = join(dir, 'dl-echo');
    mkdirSync(out);
    const body = quicGoPattern(3, 50_000);
    writeFileSync(join(dir, 'post.bin'), body);
    const port = h3?.port ?? 0;
    const r = await runNgtcp2Client({
      host: '127.0.0.1',
      port,
      urls: [`https://127.0.0.1:${port}/echo`],
      method: 'POST',
      dataFile: join(dir, 'post.bin'),
      downloadDir: out,
    });
    expect(r.responses[0]?.status, r.stderr.slice(-4000)).toBe(200);
    expect(r.downloads).toEqual([{ name: 'echo', bytes: body.length, sha256: sha256(body) }]);
  });

  it('a 404 is reported as such', async () => {
    const port = h3?.port ?? 0;
    const r = await runNgtcp2Client({
      host: '127.0.0.1',
      port,
      urls: [`https://127.0.0.1:${port}/missing`],
    });
    expect(r.handshakeCompleted).toBe(true);
    expect(r.responses[0]?.status).toBe(404);
  });

  it('reports a handshake timeout (the client itself exits 0) when nobody answers', async () => {
    // Nothing listens on the discard port: the Initial goes unanswered.
    const r = await runNgtcp2Client({
      host: '127.0.0.1',
      port: 9,
      urls: ['https://127.0.0.1:9/hello'],
      handshakeTimeoutS: 1,
      timeoutMs: 10_000,
    });
    expect(r.exitCode).toBe(0);
    expect(r.handshakeCompleted).toBe(false);
    expect(r.responses).toEqual([]);
    expect(r.errors.join('\n')).toContain('ERR_HANDSHAKE_TIMEOUT');
  });
});

describe('quic-go h3client → ngtcp2 server', () => {
  const url = (path: string): string => `https://127.0.0.1:${ng?.port ?? 0}${path}`;

  it('downloads a 300 kB file from the htdocs directory, hash verified', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: url('/blob.bin'), insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({
      ok: true,
      status: 200,
      body_bytes: blob.length,
      sha256: sha256(blob),
      alpn: 'h3',
      version: 'v1',
    });
  });

  it('verifies our dev certificate (quic-go --ca, SNI localhost)', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: {
        url: `https://localhost:${ng?.port ?? 0}/index.html`,
        ca: join(dir, 'cert.pem'),
        timeout: '10s',
      },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({ ok: true, status: 200, sha256: sha256('<p>ngtcp2</p>\n') });
  });

  it('answers 404 for a file that is not there', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: url('/nope.txt'), insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r).toMatchObject({ ok: false, status: 404, alpn: 'h3' });
  });

  it('the server wrote an NSS key log through SSLKEYLOGFILE', () => {
    const keys = readFileSync(join(dir, 'ngtcp2-server-keys.log'), 'utf8');
    expect(keys).toMatch(/^SERVER_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64,96} ?$/m);
  });
});

describe('a missing peer', () => {
  it('is an error naming the Debian package, not a skip', () => {
    expect(() => requireExecutable('/nonexistent/gtlsclient', 'ngtcp2-client', 'client')).toThrow(
      /not found at \/nonexistent\/gtlsclient: install the Debian package "ngtcp2-client"/,
    );
  });
});

describe('parseNgtcp2ClientLog', () => {
  it('reads handshake, ALPN, cipher, headers and stream close codes', () => {
    const log = [
      'I00000009 0x5d70 frm rx 0 Initial CRYPTO(0x06) offset=0 len=90',
      'QUIC handshake has completed',
      'Negotiated cipher suite is AES-128-GCM',
      'Negotiated ALPN is h3',
      '[:method: GET]',
      'http: stream 0x4 response headers started',
      'http: stream 0x4 [:status: 404]',
      'http: stream 0x4 [content-type: text/plain; charset=utf-8]',
      'http: stream 0x0 [:status: 200]',
      'HTTP stream 4 closed with error code 256',
      'ngtcp2_conn_read_pkt: ERR_DRAINING',
    ].join('\n');
    expect(parseNgtcp2ClientLog(log)).toEqual({
      handshakeCompleted: true,
      handshakeConfirmed: false,
      alpn: 'h3',
      cipherSuite: 'AES-128-GCM',
      errors: [],
      responses: [
        { streamId: 0, status: 200, headers: [[':status', '200']] },
        {
          streamId: 4,
          status: 404,
          closeCode: 256,
          headers: [
            [':status', '404'],
            ['content-type', 'text/plain; charset=utf-8'],
          ],
        },
      ],
    });
  });
});
