/**
 * Self-test of the quic-go interop peer: quic-go talks to quic-go, proving the peer, its flags
 * and its JSON output work before our own stack is put on either side.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildQuicGoPeer,
  QUIC_GO_HELLO_BODY,
  type QuicGoServer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

const sha256 = (data: Uint8Array | string): string =>
  createHash('sha256').update(data).digest('hex');

const MB = 1024 * 1024;
const servers: QuicGoServer[] = [];
let dir: string;
let quic: QuicGoServer;
let h3: QuicGoServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'quic-go-self-'));
  buildQuicGoPeer(); // throws (test fails) when Go or the quic-go sources are missing
  quic = await startQuicGoServer({
    mode: 'server',
    flags: {
      alpn: 'masque-interop',
      keylog: join(dir, 'server-keys.log'),
      'write-cert': join(dir, 'server-cert.pem'),
    },
  });
  servers.push(quic);
  h3 = await startQuicGoServer({ mode: 'h3server', flags: {} });
  servers.push(h3);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of servers) {
    expect(s.proc.exitCode !== null || s.proc.signalCode !== null).toBe(true);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('quic-go peer build', () => {
  it('returns an executable binary, cached on the second call', () => {
    const bin = buildQuicGoPeer();
    accessSync(bin, constants.X_OK);
    expect(buildQuicGoPeer()).toBe(bin);
  });

  it('servers announce a bound loopback port', () => {
    expect(quic.host).toBe('127.0.0.1');
    expect(quic.port).toBeGreaterThan(0);
    expect(h3.port).toBeGreaterThan(0);
    expect(h3.port).not.toBe(quic.port);
  });
});

describe('raw QUIC: client ↔ server echo', () => {
  it('echoes 4 streams of 1 MB and 50 datagrams', async () => {
    const r = await runQuicGoClient({
      mode: 'client',
      flags: {
        connect: `127.0.0.1:${quic.port}`,
        alpn: 'masque-interop',
        insecure: true,
        bytes: MB,
        streams: 4,
        datagrams: 50,
        keylog: join(dir, 'client-keys.log'),
        timeout: '15s',
      },
      timeoutMs: 20_000,
    });
    expect(r, r.stderr).toMatchObject({
      ok: true,
      exitCode: 0,
      streams: 4,
      streams_ok: 4,
      bytes: 4 * MB,
      datagrams_supported: true,
      datagrams_sent: 50,
      alpn: 'masque-interop',
      version: 'v1',
      version_number: '0x00000001',
      peer_max_datagram_frame_size: 1220,
    });
    expect(r.datagrams_echoed).toBeGreaterThanOrEqual(1);
    expect(r.datagrams_echoed).toBeLessThanOrEqual(50);
    expect(r.handshake_ms).toBeGreaterThan(0);
    expect(r.handshake_ms).toBeLessThan(5000);
  }, 25_000);

  it('echoes unidirectional streams on server-initiated unidirectional streams', async () => {
    const r = await runQuicGoClient({
      mode: 'client',
      flags: {
        connect: `127.0.0.1:${quic.port}`,
        insecure: true,
        bytes: 70_000,
        streams: 0,
        'uni-streams': 3,
        timeout: '10s',
      },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({ ok: true, uni_streams: 3, uni_streams_ok: 3, bytes: 0 });
  });

  it('writes NSS key logs on both sides', () => {
    for (const file of ['client-keys.log', 'server-keys.log']) {
      const log = readFileSync(join(dir, file), 'utf8');
      expect(log).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64}$/m);
      expect(log).toMatch(/^SERVER_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$/m);
    }
  });

  it('verifies the generated certificate with --ca and SNI localhost', async () => {
    const r = await runQuicGoClient({
      mode: 'client',
      flags: {
        connect: `127.0.0.1:${quic.port}`,
        ca: join(dir, 'server-cert.pem'),
        sni: 'localhost',
        bytes: 1000,
        streams: 1,
        timeout: '10s',
      },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({ ok: true, streams_ok: 1, bytes: 1000 });
  });

  it('fails the handshake without --insecure or --ca (unknown authority)', async () => {
    const r = await runQuicGoClient({
      mode: 'client',
      flags: { connect: `127.0.0.1:${quic.port}`, bytes: 10, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r).toMatchObject({ ok: false, exitCode: 1, stage: 'handshake' });
    expect(r.error).toMatch(/0x12a|certificate/);
  });

  it('fails the handshake on an ALPN mismatch (no_application_protocol, 0x178)', async () => {
    const r = await runQuicGoClient({
      mode: 'client',
      flags: { connect: `127.0.0.1:${quic.port}`, alpn: 'h3', insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r).toMatchObject({ ok: false, exitCode: 1, stage: 'handshake' });
    expect(r.error).toContain('0x178');
  });
});

describe('HTTP/3: h3client ↔ h3server', () => {
  const base = (): string => `https://127.0.0.1:${h3.port}`;

  it('GET /hello', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: `${base()}/hello`, insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({
      ok: true,
      exitCode: 0,
      status: 200,
      body_bytes: QUIC_GO_HELLO_BODY.length,
      sha256: sha256(QUIC_GO_HELLO_BODY),
      proto: 'HTTP/3.0',
      alpn: 'h3',
      version: 'v1',
    });
  });

  it('POST /echo of 100 kB', async () => {
    const n = 100_000;
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: {
        url: `${base()}/echo`,
        insecure: true,
        method: 'POST',
        'body-bytes': n,
        timeout: '10s',
      },
      timeoutMs: 15_000,
    });
    const want = sha256(quicGoPattern(1, n));
    expect(r, r.stderr).toMatchObject({
      ok: true,
      status: 200,
      request_bytes: n,
      request_sha256: want,
      body_bytes: n,
      sha256: want,
      alpn: 'h3',
    });
  });

  it('GET /bytes/N matches the TypeScript mirror of the pattern generator', async () => {
    const n = 12_345;
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: `${base()}/bytes/${n}`, insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r, r.stderr).toMatchObject({
      ok: true,
      body_bytes: n,
      sha256: sha256(quicGoPattern(0, n)),
    });
  });

  it('reports a 404 as a failure with the status', async () => {
    const r = await runQuicGoClient({
      mode: 'h3client',
      flags: { url: `${base()}/missing`, insecure: true, timeout: '10s' },
      timeoutMs: 15_000,
    });
    expect(r).toMatchObject({ ok: false, exitCode: 1, status: 404 });
  });
});
