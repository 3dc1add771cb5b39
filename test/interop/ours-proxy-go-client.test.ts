/**
 * The independent Go CONNECT-UDP client (`go-connect-udp/`, hand-written HTTP/3 on quic-go 0.29)
 * against OUR proxy (`startProxy`), with the Go UDP echo server as the target. Everything is on
 * 127.0.0.1; the Go echo process and our three proxies stop in `afterAll`.
 *
 * Payload sizes stay at 1..1000 (`--size 1000`): our QUIC packets are 1200 bytes, so a DATAGRAM
 * frame holds about 1150 payload bytes, and quic-go 0.29 closes its connection when asked to
 * send a datagram larger than its own packet allows (it checks only our
 * max_datagram_frame_size).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningProxy, startProxy } from '../../src/app/index.js';
import { parseConfig } from '../../src/config/index.js';
import { type ProxyStatusEntry, parseProxyStatus } from '../../src/masque/headers/index.js';
import type { ConnectUdpStats } from '../../src/masque/proxy/index.js';
import { generateDevCert } from '../../src/tls/certs/index.js';
import {
  buildGoConnectUdp,
  type GoConnectUdpClientResult,
  type GoConnectUdpServer,
  goConnectUdpPayload,
  runGoConnectUdpClient,
  startGoConnectUdpServer,
} from './go-connect-udp.js';

const cert = generateDevCert();
let dir: string;
let caFile: string;
let echo: GoConnectUdpServer;
/** Loopback targets allowed. */
let proxy: RunningProxy;
/** The default policy: loopback (a special-purpose range) refused. */
let denyingProxy: RunningProxy;
/** Loopback allowed but 127.0.0.1 denied by an explicit rule (deny rules are evaluated first). */
let denyRuleProxy: RunningProxy;
/** A certificate our proxies do not present. */
let otherCaFile: string;

function start(config: Record<string, unknown>): Promise<RunningProxy> {
  return startProxy(parseConfig({ listen: '127.0.0.1:0', logLevel: 'silent', ...config }), {
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    logger: pino({ level: 'silent' }),
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ours-proxy-go-client-'));
  caFile = join(dir, 'proxy-cert.pem');
  writeFileSync(caFile, cert.certPem);
  otherCaFile = join(dir, 'other-cert.pem');
  writeFileSync(otherCaFile, generateDevCert().certPem);
  buildGoConnectUdp(); // throws (the suite fails) when Go or the quic-go sources are missing
  [echo, proxy, denyingProxy, denyRuleProxy] = await Promise.all([
    startGoConnectUdpServer('udp-echo'),
    start({ targets: { allow: ['127.0.0.0/8'] } }),
    start({ targets: {} }),
    start({ targets: { allow: ['127.0.0.0/8'], deny: ['127.0.0.1/32'] } }),
  ]);
}, 180_000);

afterAll(async () => {
  // Every Go client closed its connection (H3_NO_ERROR); our server must have let go of them.
  const open = (): number =>
    [proxy, denyingProxy, denyRuleProxy].reduce(
      (n, p) => n + (p?.server.stats().connections ?? 0),
      0,
    );
  const deadline = performance.now() + 3000;
  while (open() > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const leftOpen = open();
  await Promise.all([
    echo?.stop(),
    proxy?.close({ timeout: 500 }),
    denyingProxy?.close({ timeout: 500 }),
    denyRuleProxy?.close({ timeout: 500 }),
  ]);
  if (echo !== undefined) {
    expect(echo.proc.exitCode !== null || echo.proc.signalCode !== null).toBe(true);
  }
  expect(leftOpen).toBe(0);
  rmSync(dir, { recursive: true, force: true });
});

const proxyUrl = (p: RunningProxy): string => `https://127.0.0.1:${p.port}`;
const echoTarget = (): string => `127.0.0.1:${echo.port}`;

/** The client's JSON plus its stderr, for failure messages. */
function explain(r: GoConnectUdpClientResult & { stderr: string }): string {
  const { stderr, ...json } = r;
  return `${JSON.stringify(json)}\nstderr:\n${stderr}`;
}

/**
 * Runs the client and returns its result with what the proxy counted meanwhile (deltas for
 * the counters; `tunnelsActive`, `socketsOpen` and `drops` as they stand afterwards).
 */
async function run(
  p: RunningProxy,
  flags: Parameters<typeof runGoConnectUdpClient>[0],
): Promise<{ r: Awaited<ReturnType<typeof runGoConnectUdpClient>>; seen: ConnectUdpStats }> {
  const before = p.handler.stats();
  const r = await runGoConnectUdpClient(flags);
  // The client closed its connection: every tunnel and socket must be released.
  const deadline = performance.now() + 3000;
  while (p.handler.stats().tunnelsActive > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const after = p.handler.stats();
  return {
    r,
    seen: {
      ...after,
      tunnelsOpened: after.tunnelsOpened - before.tunnelsOpened,
      datagramsToTarget: after.datagramsToTarget - before.datagramsToTarget,
      bytesToTarget: after.bytesToTarget - before.bytesToTarget,
      datagramsToClient: after.datagramsToClient - before.datagramsToClient,
      bytesToClient: after.bytesToClient - before.bytesToClient,
      rejected: Object.fromEntries(
        Object.entries(after.rejected).map(([k, n]) => [k, n - (before.rejected[k] ?? 0)]),
      ),
    },
  };
}

/** The members of a Proxy-Status field, which must parse (RFC 9209 §2). */
function proxyStatus(header: string | undefined): ProxyStatusEntry[] {
  const parsed = parseProxyStatus(header ?? '');
  if (!parsed.ok) throw new Error(`Proxy-Status ${JSON.stringify(header)} did not parse`);
  return parsed.value;
}

/** Our single Proxy-Status member on a success: proxy name and next-hop = the echo target. */
function expectNextHop(header: string | undefined): void {
  expect(header).toContain('next-hop');
  const members = proxyStatus(header);
  expect(members).toHaveLength(1);
  expect(members[0]).toMatchObject({ proxy: 'masque', nextHop: echoTarget() });
}

/** Released after the client closed: no tunnel or socket left, no datagram dropped. */
function expectReleased(seen: ConnectUdpStats): void {
  expect(seen.tunnelsActive).toBe(0);
  expect(seen.socketsOpen).toBe(0);
  expect(seen.drops).toEqual({});
}

describe('Go client → our proxy → Go UDP echo', () => {
  it('echoes 1000 HTTP Datagrams of 1..1000 bytes (≥ 99 %, all verified), CA-verified', async () => {
    const { r, seen } = await run(proxy, {
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 1000,
      size: 1000,
      ca: caFile,
      timeout: '30s',
    });
    expect(r.error, explain(r)).toBeUndefined();
    expect(r).toMatchObject({ ok: true, status: 200, capsule_protocol: true, alpn: 'h3' });
    expect(r.exitCode).toBe(0);
    expect(r.sent).toBe(1000);
    expect(r.received).toBeGreaterThanOrEqual(990);
    expect(r.verified).toBe(r.received);
    expect(r.capsule_datagrams).toBe(0);
    expect(r.unknown_stream).toBe(0);
    expect(r.unknown_context).toBe(0);
    expect(r.datagrams_supported).toBe(true);
    // RFC 9220 §3 / RFC 9297 §2.1.1: Extended CONNECT and HTTP Datagrams announced.
    expect(r.server_settings).toMatchObject({ '0x8': 1, '0x33': 1 });
    expect(r.authority).toBe(`127.0.0.1:${proxy.port}`);
    expect(r.path).toBe(`/.well-known/masque/udp/127.0.0.1/${echo.port}/`);
    expectNextHop(r.proxy_status);
    expect(r.sessions).toEqual([
      expect.objectContaining({ stream_id: 0, quarter_stream_id: 0, status: 200, sent: 1000 }),
    ]);
    // Our side of the request stream ends after the client's FIN (RFC 9298 §3).
    expect(r.proxy_finished).toBe(1);
    // The proxy relayed what reached it: 1..1000 bytes each way, no other traffic.
    expect(seen.tunnelsOpened).toBe(1);
    expect(seen.datagramsToTarget).toBeGreaterThanOrEqual(r.received);
    expect(seen.datagramsToTarget).toBeLessThanOrEqual(1000);
    expect(seen.datagramsToClient).toBeGreaterThanOrEqual(r.received);
    expectReleased(seen);
  }, 45_000);

  it('demultiplexes four concurrent tunnels on one connection by Quarter Stream ID', async () => {
    const { r, seen } = await run(proxy, {
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 250,
      size: 1000,
      sessions: 4,
      insecure: true,
    });
    expect(r.ok, explain(r)).toBe(true);
    expect(r.sessions.map((s) => [s.stream_id, s.quarter_stream_id, s.status])).toEqual([
      [0, 0, 200],
      [4, 1, 200],
      [8, 2, 200],
      [12, 3, 200],
    ]);
    for (const s of r.sessions) {
      expect(s.sent).toBe(250);
      // `verified` counts only payloads sent on the SAME session: a datagram relayed on
      // the wrong Quarter Stream ID would show up as received but unverified.
      expect(s.verified).toBe(s.received);
      expect(s.verified).toBeGreaterThanOrEqual(247);
      expectNextHop(s.proxy_status);
    }
    expect(r.unknown_stream).toBe(0);
    expect(r.proxy_finished).toBe(4);
    expect(seen.tunnelsOpened).toBe(4);
    expectReleased(seen);
  }, 45_000);

  it('carries payloads as DATAGRAM capsules on the request stream (RFC 9297 §3.5)', async () => {
    const { r, seen } = await run(proxy, {
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 300,
      size: 1000,
      'use-capsules': true,
      ca: caFile,
    });
    expect(r.ok, explain(r)).toBe(true);
    expect(r.sent).toBe(300);
    // The capsules travel on a reliable stream, so all 300 reach the target. Our proxy may
    // answer with QUIC DATAGRAM frames (they fit), so the client counts only the total.
    expect(seen.datagramsToTarget).toBe(300);
    let bytes = 0;
    for (let i = 0; i < 300; i++) bytes += goConnectUdpPayload(0, i, 1000).length;
    expect(seen.bytesToTarget).toBe(bytes);
    expect(r.verified).toBe(r.received);
    expect(r.received).toBeGreaterThanOrEqual(297);
    expect(r.unknown_context).toBe(0);
    expectReleased(seen);
  }, 45_000);

  it('accepts the legacy 0xffd277 setting next to 0x33 from the client', async () => {
    const { r, seen } = await run(proxy, {
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 50,
      size: 500,
      'legacy-datagram-setting': true,
      insecure: true,
    });
    expect(r.ok, explain(r)).toBe(true);
    expect(r.verified).toBeGreaterThanOrEqual(49);
    expectReleased(seen);
  }, 45_000);
});

describe('refusals (RFC 9209)', () => {
  it('a loopback target under the default policy: 502 destination_ip_prohibited', async () => {
    const { r, seen } = await run(denyingProxy, {
      proxy: proxyUrl(denyingProxy),
      target: echoTarget(),
      count: 10,
      'expect-status': 502,
      ca: caFile,
    });
    expect(r.ok, explain(r)).toBe(true);
    expect(r.status).toBe(502);
    expect(r.sent).toBe(0);
    expect(r.proxy_status).toContain('destination_ip_prohibited');
    const members = proxyStatus(r.proxy_status);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ proxy: 'masque', error: 'destination_ip_prohibited' });
    expect(seen.tunnelsOpened).toBe(0);
    expect(seen.rejected.destination_ip_prohibited).toBe(1);
    expectReleased(seen);
  }, 45_000);

  it('an explicit deny rule over an allow rule: 502 destination_ip_prohibited', async () => {
    const { r, seen } = await run(denyRuleProxy, {
      proxy: proxyUrl(denyRuleProxy),
      target: echoTarget(),
      count: 10,
      'expect-status': 502,
      insecure: true,
    });
    expect(r.ok, explain(r)).toBe(true);
    expect(r.status).toBe(502);
    expect(proxyStatus(r.proxy_status)[0]).toMatchObject({
      proxy: 'masque',
      error: 'destination_ip_prohibited',
    });
    expect(seen.tunnelsOpened).toBe(0);
    expect(seen.rejected.destination_ip_prohibited).toBe(1);
  }, 45_000);

  it('the same refusal fails a client that expected 2xx, at stage "response"', async () => {
    const { r } = await run(denyingProxy, {
      proxy: proxyUrl(denyingProxy),
      target: echoTarget(),
      count: 10,
      insecure: true,
    });
    expect(r).toMatchObject({ ok: false, stage: 'response', status: 502 });
    expect(r.exitCode).toBe(1);
  }, 45_000);
});

describe('certificate verification (--ca)', () => {
  it('the client refuses our proxy when given a CA that did not issue its certificate', async () => {
    const { r, seen } = await run(proxy, {
      proxy: proxyUrl(proxy),
      target: echoTarget(),
      count: 10,
      ca: otherCaFile,
    });
    expect(r).toMatchObject({ ok: false, stage: 'handshake', status: 0, sent: 0 });
    expect(seen.tunnelsOpened).toBe(0);
  }, 45_000);
});
