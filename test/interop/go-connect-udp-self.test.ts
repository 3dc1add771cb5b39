/**
 * Self-test of the independent Go CONNECT-UDP client: it talks to its own tiny Go proxy and a
 * UDP echo target, proving the client's HTTP/3 framing, SETTINGS checks, template expansion,
 * HTTP Datagram demultiplexing and JSON output before it is pointed at the masque proxy.
 */
import { createSocket, type Socket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipv6Available } from '../support/ipv6.js';
import {
  buildGoConnectUdp,
  DEFAULT_CONNECT_UDP_TEMPLATE,
  type GoConnectUdpServer,
  goConnectUdpPayload,
  runGoConnectUdpClient,
  runGoConnectUdpExpand,
  startGoConnectUdpServer,
} from './go-connect-udp.js';

// A host without an IPv6 loopback reports the [::1] test as skipped (a missing peer still fails).
const hasIpv6 = await ipv6Available();

const FORBIDDEN_PORT = 9;
const servers: GoConnectUdpServer[] = [];
let dir: string;
let caFile: string;
let echo: GoConnectUdpServer;
let proxy: GoConnectUdpServer;
let proxyNoExtConnect: GoConnectUdpServer;
let proxyLegacyOnly: GoConnectUdpServer;

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

async function start(
  mode: 'proxy' | 'udp-echo',
  flags: Record<string, string | number | boolean> = {},
): Promise<GoConnectUdpServer> {
  const s = await startGoConnectUdpServer(mode, flags);
  servers.push(s);
  return s;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'go-connect-udp-self-'));
  caFile = join(dir, 'proxy-cert.pem');
  buildGoConnectUdp(); // throws (the suite fails) when Go or the quic-go sources are missing
  [echo, proxy, proxyNoExtConnect, proxyLegacyOnly] = await Promise.all([
    start('udp-echo'),
    start('proxy', {
      'write-cert': caFile,
      'forbid-port': FORBIDDEN_PORT,
      keylog: join(dir, 'proxy-keys.log'),
    }),
    start('proxy', { 'no-extended-connect': true }),
    start('proxy', { 'no-h3-datagram': true, 'legacy-datagram-setting': true }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of servers) {
    expect(s.proc.exitCode !== null || s.proc.signalCode !== null).toBe(true);
  }
  rmSync(dir, { recursive: true, force: true });
});

const proxyUrl = (s: GoConnectUdpServer): string => `https://127.0.0.1:${s.port}`;
const echoTarget = (): string => `127.0.0.1:${echo.port}`;

describe('build and processes', () => {
  it('returns an executable binary, cached on the second call', () => {
    const bin = buildGoConnectUdp();
    accessSync(bin, constants.X_OK);
    expect(buildGoConnectUdp()).toBe(bin);
  });

  it('servers announce distinct loopback ports', () => {
    const ports = new Set([echo.port, proxy.port, proxyNoExtConnect.port, proxyLegacyOnly.port]);
    expect(ports.size).toBe(4);
    expect(proxy.host).toBe('127.0.0.1');
  });
});

describe('template expansion (RFC 9298 §3)', () => {
  it('RFC 9298 §3.4 example: 192.0.2.6:443 with the default template', async () => {
    const r = await runGoConnectUdpExpand({
      template: `https://example.org${DEFAULT_CONNECT_UDP_TEMPLATE}`,
      target: '192.0.2.6:443',
    });
    expect(r).toMatchObject({
      ok: true,
      scheme: 'https',
      authority: 'example.org',
      path: '/.well-known/masque/udp/192.0.2.6/443/',
    });
  });

  it('RFC 9298 §3 example: the colons of 2001:db8::42 are percent-encoded', async () => {
    const r = await runGoConnectUdpExpand({ target: '[2001:db8::42]:443' });
    expect(r.path).toBe('/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/');
    expect(r.authority).toBe('localhost:443');
  });

  it('expands a form-style query template', async () => {
    const r = await runGoConnectUdpExpand({
      template: 'https://proxy.example.org:4443/masque{?target_host,target_port}',
      target: '192.0.2.6:443',
    });
    expect(r.path).toBe('/masque?target_host=192.0.2.6&target_port=443');
    expect(r.authority).toBe('proxy.example.org:4443');
  });

  it('rejects reserved expansion and templates without both variables', async () => {
    const plus = await runGoConnectUdpExpand({
      template: '/masque/{+target_host}/{target_port}/',
      target: '192.0.2.6:443',
    });
    expect(plus.ok).toBe(false);
    expect(plus.exitCode).toBe(1);
    const missing = await runGoConnectUdpExpand({
      template: '/masque/{target_host}/',
      target: 'a:1',
    });
    expect(missing.ok).toBe(false);
  });
});

describe('client ↔ Go proxy ↔ UDP echo', () => {
  it('echoes 1000 HTTP Datagrams of 1..1200 bytes (≥ 99 %, all verified)', async () => {
    const keylog = join(dir, 'client-keys.log');
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 1000,
      size: 1200,
      ca: caFile,
      keylog,
      timeout: '30s',
    });
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, status: 200, capsule_protocol: true, alpn: 'h3' });
    expect(r.exitCode).toBe(0);
    expect(r.sent).toBe(1000);
    expect(r.received).toBeGreaterThanOrEqual(990);
    expect(r.verified).toBe(r.received);
    expect(r.unknown_stream).toBe(0);
    expect(r.unknown_context).toBe(0);
    expect(r.capsule_datagrams).toBe(0);
    expect(r.datagrams_supported).toBe(true);
    expect(r.server_settings).toMatchObject({ '0x8': 1, '0x33': 1 });
    expect(r.path).toBe(`/.well-known/masque/udp/127.0.0.1/${echo.port}/`);
    expect(r.authority).toBe(`127.0.0.1:${proxy.port}`);
    expect(r.sessions).toEqual([
      expect.objectContaining({ stream_id: 0, quarter_stream_id: 0, status: 200, sent: 1000 }),
    ]);
    expect(r.proxy_finished).toBe(1);
    expect(r.handshake_ms).toBeGreaterThan(0);
    const secrets = readFileSync(keylog, 'utf8');
    expect(secrets).toMatch(/^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64}$/m);
  }, 45_000);

  it('sends the documented payloads: a Node target sees goConnectUdpPayload(0, i, 300)', async () => {
    const target: Socket = createSocket('udp4');
    const seen: string[] = [];
    target.on('message', (msg, rinfo) => {
      seen.push(msg.toString('hex'));
      target.send(msg, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', resolve));
    try {
      const r = await runGoConnectUdpClient({
        proxy: proxyUrl(proxy),
        target: `127.0.0.1:${target.address().port}`,
        count: 300,
        size: 300,
        insecure: true,
      });
      expect(r.ok).toBe(true);
      expect(r.verified).toBeGreaterThanOrEqual(297);
      const expected = new Set(
        Array.from({ length: 300 }, (_, i) => toHex(goConnectUdpPayload(0, i, 300))),
      );
      expect(seen.length).toBeGreaterThanOrEqual(297);
      for (const p of seen) expect(expected.has(p)).toBe(true);
      expect(new Set(seen).size).toBe(seen.length);
      // sizes 1 + (i * 211) % 300 cover 1..300 exactly once for i < 300
      expect(new Set(seen.map((h) => h.length / 2)).size).toBe(seen.length);
    } finally {
      target.close();
    }
  });

  it('demultiplexes four concurrent requests by Quarter Stream ID', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 250,
      size: 1000,
      sessions: 4,
      insecure: true,
    });
    expect(r.ok).toBe(true);
    expect(r.sessions.map((s) => [s.stream_id, s.quarter_stream_id, s.status])).toEqual([
      [0, 0, 200],
      [4, 1, 200],
      [8, 2, 200],
      [12, 3, 200],
    ]);
    for (const s of r.sessions) {
      expect(s.sent).toBe(250);
      expect(s.verified).toBe(s.received);
      expect(s.verified).toBeGreaterThanOrEqual(247);
    }
    expect(r.proxy_finished).toBe(4);
  });

  it('carries payloads as DATAGRAM capsules on the request stream (RFC 9297 §3.5)', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 300,
      size: 1200,
      'use-capsules': true,
      insecure: true,
    });
    expect(r.ok).toBe(true);
    expect(r.verified).toBe(300); // a reliable stream loses nothing
    expect(r.capsule_datagrams).toBe(300);
  });

  it.skipIf(!hasIpv6)('reaches an IPv6 target whose colons were percent-encoded', async () => {
    const echo6 = await start('udp-echo', { listen: '[::1]:0' });
    expect(echo6.host).toBe('[::1]');
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: `[::1]:${echo6.port}`,
      count: 100,
      size: 1200,
      insecure: true,
    });
    expect(r.path).toBe(`/.well-known/masque/udp/%3A%3A1/${echo6.port}/`);
    expect(r.ok).toBe(true);
    expect(r.verified).toBeGreaterThanOrEqual(99);
  });
});

describe('refusals and SETTINGS checks', () => {
  it('--expect-status 403 succeeds on a refusal and reports its Proxy-Status', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: `127.0.0.1:${FORBIDDEN_PORT}`,
      'expect-status': 403,
      insecure: true,
    });
    expect(r.ok).toBe(true);
    expect(r.status).toBe(403);
    expect(r.proxy_status).toMatch(/^connect-udp-go; error=destination_ip_prohibited/);
    expect(r.sent).toBe(0);
  });

  it('fails at stage "response" on a refusal it did not expect', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxy),
      target: `127.0.0.1:${FORBIDDEN_PORT}`,
      insecure: true,
    });
    expect(r).toMatchObject({ ok: false, stage: 'response', status: 403 });
    expect(r.exitCode).toBe(1);
  });

  it('refuses to use Extended CONNECT without SETTINGS_ENABLE_CONNECT_PROTOCOL', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxyNoExtConnect),
      target: echoTarget(),
      count: 10,
      insecure: true,
    });
    expect(r).toMatchObject({ ok: false, stage: 'settings', status: 0, sent: 0 });
    expect(r.error).toContain('0x08');
    expect(r.server_settings?.['0x8']).toBeUndefined();
  });

  it('needs SETTINGS_H3_DATAGRAM 0x33, or 0xffd277 with --legacy-datagram-setting', async () => {
    const strict = await runGoConnectUdpClient({
      proxy: proxyUrl(proxyLegacyOnly),
      target: echoTarget(),
      count: 10,
      insecure: true,
    });
    expect(strict).toMatchObject({ ok: false, stage: 'settings' });
    expect(strict.error).toContain('0x33');
    const legacy = await runGoConnectUdpClient({
      proxy: proxyUrl(proxyLegacyOnly),
      target: echoTarget(),
      count: 10,
      insecure: true,
      'legacy-datagram-setting': true,
    });
    expect(legacy.ok).toBe(true);
    expect(legacy.server_settings).toMatchObject({ '0xffd277': 1 });
  });

  it('fails the TLS handshake against an untrusted certificate', async () => {
    const r = await runGoConnectUdpClient({
      proxy: proxyUrl(proxyNoExtConnect),
      target: echoTarget(),
      ca: caFile, // the certificate of the other proxy
    });
    expect(r).toMatchObject({ ok: false, stage: 'handshake' });
  });
});
