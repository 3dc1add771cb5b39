/**
 * Our HTTP/3 server and client against ngtcp2 0.12 + nghttp3 (Debian's GnuTLS example
 * binaries, an independent C stack):
 * (a) ngtcp2 client → our H3Server: GET /hello, GET /bytes/1000000, POST /echo of 50 kB
 *     (bodies saved by the client and hashed; our handler saw each request);
 * (b) our H3Client → ngtcp2 server: GET of a 300 kB file from its htdocs, hash verified.
 * Key logs from both sides (ngtcp2 through SSLKEYLOGFILE) stay in the temp dir on failure.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3Client } from '../../src/runtime/client/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import {
  type Ngtcp2ClientResult,
  type Ngtcp2Server,
  ngtcp2ClientBinary,
  ngtcp2ServerBinary,
  runNgtcp2Client,
  startNgtcp2Server,
} from './ngtcp2.js';
import {
  OURS_HELLO_BODY,
  type OursH3Server,
  sha256Hex,
  startOursH3Server,
} from './ours-h3-server.js';
import { quicGoPattern } from './quic-go-peer.js';

let dir: string;
let cert: DevCert;
let ours: OursH3Server | undefined;
let ng: Ngtcp2Server | undefined;
let blob: Uint8Array;
let failed = false;

beforeAll(async () => {
  // A missing Debian package fails here, naming it.
  ngtcp2ClientBinary();
  ngtcp2ServerBinary();
  dir = mkdtempSync(join(tmpdir(), 'ours-h3-ngtcp2-'));
  cert = generateDevCert({ keyType: 'ecdsa-p256' });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  mkdirSync(join(dir, 'htdocs'));
  blob = quicGoPattern(11, 300_000);
  writeFileSync(join(dir, 'htdocs', 'blob.bin'), blob);
  ours = await startOursH3Server({ cert, keylogFile: join(dir, 'ours-server-keys.log') });
  ng = await startNgtcp2Server({
    keyFile: join(dir, 'key.pem'),
    certFile: join(dir, 'cert.pem'),
    htdocs: join(dir, 'htdocs'),
    keylogFile: join(dir, 'ngtcp2-server-keys.log'),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([ours?.close(), ng?.stop()]);
  if (failed) process.stderr.write(`ours-h3-ngtcp2: key logs kept in ${dir}\n`);
  else if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the ngtcp2 client against our server, downloading into a fresh directory. */
async function ngtcp2Get(
  name: string,
  paths: string[],
  extra: { method?: string; dataFile?: string; extraArgs?: string[]; quicVersion?: string } = {},
): Promise<{ r: Ngtcp2ClientResult; out: string }> {
  const out = join(dir, `dl-${name}`);
  mkdirSync(out);
  const port = ours?.port ?? 0;
  const r = await runNgtcp2Client({
    host: '127.0.0.1',
    port,
    urls: paths.map((p) => `https://127.0.0.1:${port}${p}`),
    downloadDir: out,
    keylogFile: join(dir, `ngtcp2-client-${name}-keys.log`),
    ...extra,
  });
  return { r, out };
}

function keepOnFailure(check: () => void): void {
  try {
    check();
  } catch (err) {
    failed = true;
    throw err;
  }
}

describe('ngtcp2 client → our H3Server', () => {
  it('GET /hello: handshake, ALPN h3, 200 with our body, stream closed with H3_NO_ERROR', async () => {
    const { r, out } = await ngtcp2Get('hello', ['/hello']);
    keepOnFailure(() => {
      expect(r.handshakeCompleted, r.stderr.slice(-4000)).toBe(true);
      expect(r).toMatchObject({ exitCode: 0, alpn: 'h3', errors: [] });
      expect(r.responses).toHaveLength(1);
      // 0x100 = H3_NO_ERROR (RFC 9114 §8.1).
      expect(r.responses[0]).toMatchObject({ streamId: 0, status: 200, closeCode: 0x100 });
      expect(r.responses[0].headers).toContainEqual(['content-type', 'text/plain']);
      expect(readFileSync(join(out, 'hello'), 'utf8')).toBe(OURS_HELLO_BODY);
      expect(ours?.seen.filter((s) => s.path === '/hello')).toEqual([
        expect.objectContaining({ method: 'GET', scheme: 'https', streamId: 0 }),
      ]);
    });
  });

  it('GET /bytes/1000000 (1 MB): the saved file matches the pattern', async () => {
    const n = 1_000_000;
    const { r } = await ngtcp2Get('bytes', [`/bytes/${n}`]);
    keepOnFailure(() => {
      expect(r.responses[0]?.status, r.stderr.slice(-4000)).toBe(200);
      expect(r.errors).toEqual([]);
      expect(r.downloads).toEqual([
        { name: String(n), bytes: n, sha256: sha256Hex(quicGoPattern(0, n)) },
      ]);
    });
  });

  it('POST /echo of 50 kB: our handler got it intact and the echo matches', async () => {
    const body = quicGoPattern(3, 50_000);
    writeFileSync(join(dir, 'post.bin'), body);
    const { r } = await ngtcp2Get('echo', ['/echo'], {
      method: 'POST',
      dataFile: join(dir, 'post.bin'),
    });
    keepOnFailure(() => {
      expect(r.responses[0]?.status, r.stderr.slice(-4000)).toBe(200);
      expect(r.downloads).toEqual([{ name: 'echo', bytes: body.length, sha256: sha256Hex(body) }]);
      expect(ours?.seen.filter((s) => s.path === '/echo')).toEqual([
        expect.objectContaining({
          method: 'POST',
          bodyBytes: body.length,
          bodySha256: sha256Hex(body),
        }),
      ]);
    });
  });

  it('three requests on one connection (streams 0, 4, 8), 404 for the unknown one', async () => {
    const { r } = await ngtcp2Get('multi', ['/hello', '/bytes/70000', '/nothing-here']);
    keepOnFailure(() => {
      expect(r.handshakeCompleted, r.stderr.slice(-4000)).toBe(true);
      expect(r.responses.map((x) => [x.streamId, x.status])).toEqual([
        [0, 200],
        [4, 200],
        [8, 404],
      ]);
    });
  });
});

/** Lines of the ngtcp2 client log matching `re`. */
const linesMatching = (log: string, re: RegExp): string[] =>
  log.split('\n').filter((l) => re.test(l));

describe('ngtcp2 client → our H3Server: transport features mid-transfer', () => {
  const n = 4_000_000;

  it('a key update initiated by the client (RFC 9001 §6): we follow with key phase 1', async () => {
    const { r } = await ngtcp2Get('key-update', [`/bytes/${n}`], {
      extraArgs: ['--key-update=30ms'],
    });
    keepOnFailure(() => {
      expect(r.downloads[0]?.sha256, r.stderr.slice(-3000)).toBe(sha256Hex(quicGoPattern(0, n)));
      expect(r.stderr).toContain('Initiate key update');
      // RFC 9001 §6.2: "The endpoint MUST update its send keys to the corresponding key phase
      // in response".
      expect(linesMatching(r.stderr, /pkt rx .* type=1RTT k=1$/).length).toBeGreaterThan(0);
    });
  });

  it('client migration to a new local port (RFC 9000 §9): we answer its PATH_CHALLENGE', async () => {
    const { r } = await ngtcp2Get('migrate', [`/bytes/${n}`], {
      extraArgs: ['--change-local-addr=50ms'],
    });
    keepOnFailure(() => {
      expect(r.downloads[0]?.sha256, r.stderr.slice(-3000)).toBe(sha256Hex(quicGoPattern(0, n)));
      expect(r.stderr).toMatch(/Local address is now/);
      // RFC 9000 §8.2.2: "an endpoint MUST respond by echoing the data ... in a PATH_RESPONSE".
      expect(linesMatching(r.stderr, /frm rx .* PATH_RESPONSE/).length).toBeGreaterThan(0);
    });
  });

  it('NAT rebinding during an upload (RFC 9000 §9): we validate the new path and carry on', async () => {
    const body = quicGoPattern(21, n);
    writeFileSync(join(dir, 'nat.bin'), body);
    const { r } = await ngtcp2Get('nat', ['/echo'], {
      method: 'POST',
      dataFile: join(dir, 'nat.bin'),
      extraArgs: ['--change-local-addr=50ms', '--nat-rebinding'],
    });
    keepOnFailure(() => {
      expect(r.downloads, r.stderr.slice(-3000)).toEqual([
        { name: 'echo', bytes: n, sha256: sha256Hex(body) },
      ]);
      // RFC 9000 §9: "An endpoint MUST perform path validation ... if it detects any change to
      // a peer's address": a PATH_CHALLENGE from us reaches the client on its new port.
      expect(linesMatching(r.stderr, /frm rx .* PATH_CHALLENGE/).length).toBeGreaterThan(0);
    });
  });

  it('5 % loss each way (ngtcp2 -t/-r): 1 MB still arrives intact', async () => {
    const m = 1_000_000;
    const { r } = await ngtcp2Get('loss', [`/bytes/${m}`], {
      extraArgs: ['-t', '0.05', '-r', '0.05'],
    });
    keepOnFailure(() => {
      expect(r.downloads[0]?.sha256, r.stderr.slice(-3000)).toBe(sha256Hex(quicGoPattern(0, m)));
    });
  });
});

describe('ngtcp2 client → our H3Server: TLS and version negotiation', () => {
  const only = (cipher: string): string =>
    `--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+${cipher}`;

  it.each([
    ['CHACHA20-POLY1305', 'CHACHA20-POLY1305'],
    ['AES-256-GCM', 'AES-256-GCM'],
  ])('cipher suite %s negotiated and used for 300 kB', async (cipher, name) => {
    const m = 300_000;
    const { r } = await ngtcp2Get(`cipher-${cipher}`, [`/bytes/${m}`], {
      extraArgs: [only(cipher)],
    });
    keepOnFailure(() => {
      expect(r.cipherSuite, r.stderr.slice(-3000)).toBe(name);
      expect(r.downloads[0]?.sha256).toBe(sha256Hex(quicGoPattern(0, m)));
    });
  });

  it('a key share we do not take (P-384) gets a HelloRetryRequest for P-256 (RFC 9846 §4.1.4)', async () => {
    const { r } = await ngtcp2Get('hrr', ['/hello'], {
      extraArgs: ['--groups=-GROUP-ALL:+GROUP-SECP384R1:+GROUP-SECP521R1:+GROUP-SECP256R1'],
    });
    keepOnFailure(() => {
      expect(r.responses[0]?.status, r.stderr.slice(-3000)).toBe(200);
      // Two ClientHellos sent, two server flights in Initial packets (HRR, then ServerHello).
      expect(linesMatching(r.stderr, /frm tx \d+ Initial CRYPTO/)).toHaveLength(2);
      expect(linesMatching(r.stderr, /frm rx \d+ Initial CRYPTO/)).toHaveLength(2);
    });
  });

  it('only AES-128-CCM offered: we close with CRYPTO_ERROR 0x128 (handshake_failure)', async () => {
    const { r } = await ngtcp2Get('ccm', ['/hello'], { extraArgs: [only('AES-128-CCM')] });
    expect(r.handshakeCompleted).toBe(false);
    // RFC 9001 §4.8: a TLS alert becomes CONNECTION_CLOSE with 0x0100 + alert (40).
    expect(r.stderr).toMatch(/CONNECTION_CLOSE\(0x1c\) error_code=CRYPTO_ERROR\(0x128\)/);
  });

  it('QUIC v2 draft offered: we answer Version Negotiation listing v1 (RFC 9000 §6.1)', async () => {
    const { r } = await ngtcp2Get('vn', ['/hello'], { quicVersion: 'v2draft' });
    expect(r.handshakeCompleted).toBe(false);
    expect(r.errors.join('\n')).toContain('ERR_RECV_VERSION_NEGOTIATION');
    expect(r.stderr).toMatch(/VN v=0x00000001/);
  });
});

describe('our H3Client → ngtcp2 server', () => {
  it('GET /blob.bin (300 kB from htdocs), certificate verified, hash matches', async () => {
    const client = await H3Client.connect(
      { host: '127.0.0.1', port: ng?.port ?? 0 },
      {
        ca: [cert.certPem],
        noSystemRoots: true,
        serverName: 'localhost',
        keylogFile: join(dir, 'ours-client-keys.log'),
      },
    );
    try {
      const res = await client.request({ path: '/blob.bin' });
      expect(res.status).toBe(200);
      const got = await res.bytes();
      keepOnFailure(() => {
        expect(got.length).toBe(blob.length);
        expect(sha256Hex(got)).toBe(sha256Hex(blob));
      });
      const missing = await client.request({ path: '/nope.bin' });
      expect(missing.status).toBe(404);
      await missing.bytes();
    } finally {
      await client.close({ timeout: 200 });
    }
  }, 20_000);
});
