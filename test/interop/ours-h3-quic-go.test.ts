/**
 * Our HTTP/3 server and client against quic-go 0.29's HTTP/3 (Debian's sources, ALPN h3):
 * (a) quic-go `h3client` → our H3Server: GET /hello and POST /echo of 100 kB (hashes checked
 *     on both ends, and the server's handler saw each request);
 * (b) our H3Client → quic-go `h3server`: GET /hello, POST /echo of 100 kB, GET /bytes/1000000.
 * quic-go 0.29 advertises only the draft datagram setting 0xffd277; neither side needs
 * datagrams here. Both sides write NSS key logs (kept, with the path printed, on failure).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3Client } from '../../src/runtime/client/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import {
  OURS_HELLO_BODY,
  type OursH3Server,
  sha256Hex,
  startOursH3Server,
} from './ours-h3-server.js';
import {
  buildQuicGoPeer,
  QUIC_GO_HELLO_BODY,
  type QuicGoServer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

let dir: string;
let cert: DevCert;
let ours: OursH3Server | undefined;
let goServer: QuicGoServer | undefined;
let client: H3Client | undefined;
let failed = false;

beforeAll(async () => {
  buildQuicGoPeer(); // fails (never skips) without Go or the quic-go sources
  dir = mkdtempSync(join(tmpdir(), 'ours-h3-quic-go-'));
  cert = generateDevCert({ keyType: 'ecdsa-p256' });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  ours = await startOursH3Server({ cert, keylogFile: join(dir, 'ours-server-keys.log') });
  goServer = await startQuicGoServer({
    mode: 'h3server',
    flags: {
      cert: join(dir, 'cert.pem'),
      key: join(dir, 'key.pem'),
      keylog: join(dir, 'quic-go-server-keys.log'),
    },
  });
}, 300_000);

afterAll(async () => {
  await client?.close({ timeout: 200 });
  await Promise.all([ours?.close(), goServer?.stop()]);
  if (failed) process.stderr.write(`ours-h3-quic-go: key logs kept in ${dir}\n`);
  else if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Marks the run failed (keeps the key logs) when `check` throws. */
function keepOnFailure(check: () => void): void {
  try {
    check();
  } catch (err) {
    failed = true;
    throw err;
  }
}

describe('quic-go h3client → our H3Server', () => {
  const url = (path: string): string => `https://localhost:${ours?.port ?? 0}${path}`;

  it('GET /hello: 200, our body, ALPN h3 over QUIC v1, certificate verified', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: {
        url: url('/hello'),
        ca: join(dir, 'cert.pem'),
        keylog: join(dir, 'quic-go-client-keys.log'),
        timeout: '10s',
      },
      timeoutMs: 15_000,
    });
    keepOnFailure(() => {
      expect(r, r.stderr).toMatchObject({
        ok: true,
        status: 200,
        body_bytes: OURS_HELLO_BODY.length,
        sha256: sha256Hex(OURS_HELLO_BODY),
        content_type: 'text/plain',
        proto: 'HTTP/3.0',
        alpn: 'h3',
        version: 'v1',
      });
      expect(ours?.seen.filter((s) => s.path === '/hello')).toEqual([
        expect.objectContaining({ method: 'GET', scheme: 'https', streamId: 0, bodyBytes: 0 }),
      ]);
    });
  });

  it('POST /echo of 100 kB: the server got the body intact and echoed it', async () => {
    const n = 100_000;
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: url('/echo'), method: 'POST', 'body-bytes': n, insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    const sent = sha256Hex(quicGoPattern(1, n));
    keepOnFailure(() => {
      expect(r, r.stderr).toMatchObject({
        ok: true,
        status: 200,
        request_bytes: n,
        request_sha256: sent,
        body_bytes: n,
        sha256: sent,
        alpn: 'h3',
      });
      expect(ours?.seen.filter((s) => s.path === '/echo')).toEqual([
        expect.objectContaining({ method: 'POST', bodyBytes: n, bodySha256: sent }),
      ]);
    });
  });

  it('GET of an unknown path is a 404 from our server', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: url('/missing'), insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r).toMatchObject({ ok: false, status: 404, alpn: 'h3' });
  });
});

describe('our H3Client → quic-go h3server', () => {
  it('connects (certificate verified against our CA file) and reads the SETTINGS', async () => {
    client = await H3Client.connect(
      { host: '127.0.0.1', port: goServer?.port ?? 0 },
      {
        ca: [cert.certPem],
        noSystemRoots: true,
        serverName: 'localhost',
        keylogFile: join(dir, 'ours-client-keys.log'),
      },
    );
    // quic-go 0.29 sends only its draft H3_DATAGRAM setting, which we do not take as RFC 9297.
    expect(client.datagramsEnabled).toBe(false);
    expect(client.peerSettings).toBeDefined();
  });

  it('GET /hello', async () => {
    const res = await (client as H3Client).request({ path: '/hello' });
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/plain');
    expect(await res.text()).toBe(QUIC_GO_HELLO_BODY);
  });

  it('POST /echo of 100 kB, hash verified', async () => {
    const body = quicGoPattern(5, 100_000);
    const res = await (client as H3Client).request({ method: 'POST', path: '/echo', body });
    expect(res.status).toBe(200);
    const got = await res.bytes();
    keepOnFailure(() => {
      expect(got.length).toBe(body.length);
      expect(sha256Hex(got)).toBe(sha256Hex(body));
    });
  });

  it('GET /bytes/1000000, hash verified against the pattern', async () => {
    const n = 1_000_000;
    const res = await (client as H3Client).request({ path: `/bytes/${n}` });
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe(String(n));
    const got = await res.bytes();
    keepOnFailure(() => {
      expect(got.length).toBe(n);
      expect(sha256Hex(got)).toBe(sha256Hex(quicGoPattern(0, n)));
    });
  }, 20_000);

  it('150 parallel requests: those beyond the 100-stream limit of quic-go wait for MAX_STREAMS', async () => {
    const c = client as H3Client;
    const n = 150;
    const sizes = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await c.request({ path: `/bytes/${i * 997}` });
        const got = await res.bytes();
        return sha256Hex(got) === sha256Hex(quicGoPattern(0, i * 997)) ? got.length : -1;
      }),
    );
    expect(sizes).toEqual(Array.from({ length: n }, (_, i) => i * 997));
  }, 20_000);

  it('several requests in parallel on the one connection', async () => {
    const c = client as H3Client;
    const sizes = [10_000, 200_000, 50_000, 400_000];
    const got = await Promise.all(
      sizes.map(async (n) => {
        const res = await c.request({ path: `/bytes/${n}` });
        return sha256Hex(await res.bytes());
      }),
    );
    expect(got).toEqual(sizes.map((n) => sha256Hex(quicGoPattern(0, n))));
  }, 20_000);
});
