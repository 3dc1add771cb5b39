import { createSocket } from 'node:dgram';
/**
 * The proxy over real loopback: our HTTP/3 server and client, connected UDP sockets, echo
 * targets on 127.0.0.1. Every test closes what it opened; socket counts must return to zero.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MasqueClient, MasqueError, type MasqueUdpSocket } from '../../../src/client/index.js';
import { parseProxyStatus } from '../../../src/masque/headers/index.js';
import { H3Client } from '../../../src/runtime/client/index.js';
import type { H3HttpError } from '../../../src/runtime/server/index.js';
import { ipv6Available } from '../../support/ipv6.js';
import { waitFor } from '../../support/wait.js';
import { tableResolver } from './fakes.js';
import { echoServer, startTestProxy, type TestProxy, testCert, until } from './loopback.js';

// Hosts without an IPv6 loopback report the [::1] target test as skipped.
const hasIpv6 = await ipv6Available();

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(config: Record<string, unknown> = {}, resolver = false) {
  const t = await startTestProxy(
    config,
    resolver ? { resolver: tableResolver({ 'echo.test': { a: ['127.0.0.1'] } }) } : {},
  );
  cleanup.push(() => t.proxy.close({ timeout: 500 }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  return { ...t, echo };
}

async function client(t: TestProxy, options: Parameters<typeof MasqueClient.connect>[1] = {}) {
  const c = await MasqueClient.connect(t.proxy.template, { ca: [testCert.certPem], ...options });
  cleanup.push(() => c.close());
  return c;
}

function nextMessage(sock: MasqueUdpSocket, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), ms);
    sock.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

async function refusal(p: Promise<unknown>): Promise<MasqueError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MasqueError);
  return err as MasqueError;
}

describe('a tunnel through the proxy', () => {
  it('carries a datagram to an echo target and back', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    expect(sock.nextHop).toBe(`127.0.0.1:${echo.port}`);
    const reply = nextMessage(sock);
    sock.send('hello');
    expect((await reply).toString()).toBe('hello');
    expect(sockets.live).toBe(1);
  });

  it('resolves a DNS name at the proxy', async () => {
    const { proxy, echo, sockets } = await setup({}, true);
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('echo.test', echo.port);
    const reply = nextMessage(sock);
    sock.send(new Uint8Array([1, 2, 3]));
    expect([...(await reply)]).toEqual([1, 2, 3]);
  });

  it('carries payloads larger than a QUIC DATAGRAM frame as DATAGRAM capsules', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    const big = new Uint8Array(8000).map((_, i) => i & 0xff);
    const reply = nextMessage(sock);
    sock.send(big);
    expect(Buffer.compare(await reply, Buffer.from(big))).toBe(0);
  });

  it.skipIf(!hasIpv6)('reaches an IPv6 target ([::1], percent-encoded in the path)', async () => {
    const { proxy, sockets } = await setup({ targets: { allow: ['[::1]/128'] } });
    const echo6 = await echoServer('::1');
    cleanup.push(() => echo6.close());
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('::1', echo6.port);
    expect(sock.nextHop).toBe(`[::1]:${echo6.port}`);
    const reply = nextMessage(sock);
    sock.send('six');
    expect((await reply).toString()).toBe('six');
  });

  it('exports its counters on the metrics listener', async () => {
    const t = await startTestProxy(
      { metrics: { listen: '127.0.0.1:0' } },
      { metricsIntervalMs: 20 },
    );
    cleanup.push(() => t.proxy.close({ timeout: 500 }));
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const c = await client(t);
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    for (let i = 0; i < 3; i++) {
      const reply = nextMessage(sock);
      sock.send('0123456789');
      await reply;
    }
    // The counters reach the registry every metricsIntervalMs: poll until the third echo shows.
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`http://${t.proxy.metricsAddress}/metrics`)).text();
        return text.includes('masque_bytes_total{direction="target_to_client"} 30');
      },
      { intervalMs: 20, what: 'the metrics of three echoes' },
    );
    expect(text).toContain('masque_datagrams_total{direction="client_to_target"} 3');
    expect(text).toContain('masque_bytes_total{direction="target_to_client"} 30');
    expect(text).toContain('masque_tunnels_active 1');
    expect(text).toContain('masque_connections_active 1');
  });

  it("exports the QUIC endpoint's drops: garbage and unknown connections show on /metrics", async () => {
    const t = await startTestProxy(
      { metrics: { listen: '127.0.0.1:0' } },
      { metricsIntervalMs: 20 },
    );
    cleanup.push(() => t.proxy.close({ timeout: 500 }));
    const junk = createSocket('udp4');
    cleanup.push(() => new Promise<void>((r) => junk.close(() => r())));
    // Three short-header packets for connections that do not exist (too short for a reset) and
    // two datagrams that are not QUIC at all (a long header with a truncated version).
    for (let i = 0; i < 3; i++) junk.send(Buffer.alloc(20, 0x40), t.proxy.port, '127.0.0.1');
    for (let i = 0; i < 2; i++) junk.send(Buffer.from([0xc0, 0x00]), t.proxy.port, '127.0.0.1');
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`http://${t.proxy.metricsAddress}/metrics`)).text();
        return /masque_endpoint_datagrams_received_total 5\b/.test(text);
      },
      { intervalMs: 20, what: 'the endpoint counters' },
    );
    const drops = [...text.matchAll(/masque_endpoint_drops_total\{reason="([^"]+)"\} (\d+)/g)]
      .filter((m) => m[2] !== '0')
      .map((m) => `${m[1]}=${m[2]}`);
    // Every one of the five is accounted for by a reason.
    expect(drops.reduce((n, d) => n + Number(d.split('=')[1]), 0)).toBe(5);
    expect(drops.some((d) => d.startsWith('unknown-connection='))).toBe(true);
  });

  it('applies the configured connection limits: a second connection from one address is refused', async () => {
    const t = await startTestProxy({ limits: { connectionsPerSource: 1 } });
    cleanup.push(() => t.proxy.close({ timeout: 500 }));
    await client(t);
    const err = await MasqueClient.connect(t.proxy.template, { ca: [testCert.certPem] }).then(
      (c) => {
        cleanup.push(() => c.close());
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(t.proxy.server.endpoint.endpoint.stats().dropped['source-connection-limit']).toBe(1);
  });

  it('exports the process figures and the connection gauges on /metrics', async () => {
    const t = await startTestProxy(
      { metrics: { listen: '127.0.0.1:0' } },
      { metricsIntervalMs: 20 },
    );
    cleanup.push(() => t.proxy.close({ timeout: 500 }));
    const proxy = t.proxy;
    const c = await client(t);
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    await c.connectUdp('127.0.0.1', echo.port);
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(`http://${proxy.metricsAddress}/metrics`)).text();
        // The handshake's completion reaches the half-open gauge on the next metrics tick.
        return (
          /^masque_endpoint_connections 1$/m.test(text) &&
          /^masque_endpoint_half_open_connections 0$/m.test(text)
        );
      },
      { intervalMs: 20, what: 'the endpoint gauges' },
    );
    expect(text).toMatch(/^masque_incomplete_header_bytes 0$/m);
    for (const name of [
      'masque_nodejs_heap_size_used_bytes',
      'masque_nodejs_eventloop_lag_seconds',
      'masque_nodejs_active_handles_total',
      'masque_event_loop_delay_seconds{stat="p99"}',
      'masque_event_loop_delay_seconds{stat="max"}',
    ]) {
      expect(text).toContain(`\n${name} `);
    }
  });

  it('is also an async iterable', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    const it = sock[Symbol.asyncIterator]();
    sock.send('one');
    sock.send('two');
    const got = [(await it.next()).value.toString(), (await it.next()).value.toString()];
    expect(got.sort()).toEqual(['one', 'two']);
  });
});

describe('refusals carry the status and Proxy-Status', () => {
  it('the default policy refuses loopback: 502 destination_ip_prohibited', async () => {
    const { proxy, echo, sockets } = await setup({ targets: {} });
    const c = await client({ proxy, sockets });
    const err = await refusal(c.connectUdp('127.0.0.1', echo.port));
    expect(err.code).toBe('MASQUE_PROXY_REFUSED');
    expect(err.status).toBe(502);
    expect(err.proxyStatus[0]).toMatchObject({
      proxy: 'masque',
      error: 'destination_ip_prohibited',
    });
    expect(sockets.opened).toBe(0);
  });

  it('an unknown host: 502 dns_error with rcode NXDOMAIN', async () => {
    const { proxy, sockets } = await setup({}, true);
    const c = await client({ proxy, sockets });
    const err = await refusal(c.connectUdp('nowhere.test', 53));
    expect(err.status).toBe(502);
    expect(err.proxyStatus[0]).toMatchObject({ error: 'dns_error', rcode: 'NXDOMAIN' });
  });

  it('missing credentials: 407 with Proxy-Authenticate; the right token works', async () => {
    const { proxy, echo, sockets } = await setup({ auth: { mode: 'bearer', tokens: ['tok'] } });
    const c = await client({ proxy, sockets });
    const err = await refusal(c.connectUdp('127.0.0.1', echo.port));
    expect(err.code).toBe('MASQUE_AUTH_REQUIRED');
    expect(err.status).toBe(407);
    const h3 = await H3Client.connect(`https://127.0.0.1:${proxy.port}`, {
      ca: [testCert.certPem],
    });
    cleanup.push(() => h3.close());
    const raw = (await h3
      .connect('connect-udp', `/.well-known/masque/udp/127.0.0.1/${echo.port}/`)
      .catch((e: unknown) => e)) as H3HttpError;
    expect(raw.status).toBe(407);
    expect(raw.headers?.find(([n]) => n === 'proxy-authenticate')?.[1]).toBe(
      'Bearer realm="masque"',
    );
    const authed = await client({ proxy, sockets }, { auth: { bearer: 'tok' } });
    const sock = await authed.connectUdp('127.0.0.1', echo.port);
    const reply = nextMessage(sock);
    sock.send('x');
    await reply;
  });

  it('bad paths: 404 outside the template, 400 for an empty target', async () => {
    const { proxy } = await setup();
    const h3 = await H3Client.connect(`https://127.0.0.1:${proxy.port}`, {
      ca: [testCert.certPem],
    });
    cleanup.push(() => h3.close());
    for (const [path, status, error] of [
      ['/somewhere/else', 404, 'http_request_error'],
      ['/.well-known/masque/udp//53/', 400, 'http_request_error'],
      ['/.well-known/masque/udp/127.0.0.1/0/', 400, 'http_request_error'],
    ] as const) {
      const err = (await h3.connect('connect-udp', path).catch((e: unknown) => e)) as H3HttpError;
      expect(err.status, path).toBe(status);
      const ps = parseProxyStatus(err.headers?.find(([n]) => n === 'proxy-status')?.[1]);
      expect(ps.ok && ps.value[0].error).toBe(error);
    }
    // Another :protocol is not ours: the HTTP/3 server answers 501 (RFC 9220 §3).
    const other = (await h3.connect('connect-ip', '/x').catch((e: unknown) => e)) as H3HttpError;
    expect(other.status).toBe(501);
  });

  it('a malformed request among active tunnels does not disturb them', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const tunnels = await Promise.all([1, 2, 3].map(() => c.connectUdp('127.0.0.1', echo.port)));
    const h3 = await H3Client.connect(`https://127.0.0.1:${proxy.port}`, {
      ca: [testCert.certPem],
    });
    cleanup.push(() => h3.close());
    const bad = (await h3
      .connect('connect-udp', '/.well-known/masque/udp/%zz/1/', [['content-length', '5']])
      .catch((e: unknown) => e)) as H3HttpError;
    expect(bad.status).toBe(400);
    for (const t of tunnels) {
      const reply = nextMessage(t);
      t.send('still here');
      expect((await reply).toString()).toBe('still here');
    }
    expect(sockets.live).toBe(3);
  });
});

describe('lifetime: sockets are closed on every path', () => {
  it('the client closing a tunnel closes its socket', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    sock.close();
    await sock.closed;
    expect(sock.error).toBeUndefined();
    expect(await until(() => sockets.live === 0)).toBe(true);
  });

  it('the client connection closing closes every socket', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    await Promise.all([1, 2, 3, 4].map(() => c.connectUdp('127.0.0.1', echo.port)));
    expect(sockets.live).toBe(4);
    await c.close();
    expect(await until(() => sockets.live === 0)).toBe(true);
    expect(proxy.handler.stats().tunnelsActive).toBe(0);
  });

  it('an idle tunnel is closed with a clean FIN: close without error', async () => {
    const { proxy, echo, sockets } = await setup({ limits: { tunnelIdleTimeoutMs: 1000 } });
    const c = await client({ proxy, sockets });
    // The tunnel's idle timer checks its monotonic clock before it closes, and starts after this
    // line: the close cannot come earlier than 1000 ms after it, however loaded the machine is.
    // (Idle timing itself is tested on virtual time in tunnel.test.ts.)
    const t0 = performance.now();
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    await sock.closed;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(sock.error).toBeUndefined();
    expect(sockets.live).toBe(0);
    expect(proxy.handler.stats().closed).toEqual({ idle: 1 });
  });

  async function unreachable() {
    const { proxy, echo, sockets } = await setup();
    const port = echo.port;
    await echo.close();
    cleanup.pop();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', port);
    const errors: MasqueError[] = [];
    sock.on('error', (e) => errors.push(e));
    // Any one datagram that reaches the closed port brings the ICMP error: send until it has.
    await waitFor(
      () => {
        if (!sock.isClosed) sock.send('anyone?');
        return sock.isClosed;
      },
      { intervalMs: 50, what: 'the tunnel reset' },
    );
    await sock.closed;
    return { errors, sockets, proxy, sock };
  }

  it('an ICMP port unreachable resets the tunnel (RFC 9298 §3.1)', async () => {
    const { errors, sockets, proxy } = await unreachable();
    expect(errors.map((e) => e.code)).toEqual(['MASQUE_TUNNEL_RESET']);
    expect(sockets.live).toBe(0);
    expect(proxy.handler.stats().closed).toEqual({ socket_error: 1 });
  });

  // Regression: on the peer's RESET_STREAM the session used to report its own
  // H3_REQUEST_CANCELLED instead of the peer's code (here the proxy's H3_CONNECT_ERROR, 0x10f).
  it("the tunnel's error carries the proxy's reset code, H3_CONNECT_ERROR", async () => {
    const { errors } = await unreachable();
    expect(errors[0].h3Code).toBe(0x10f);
  });

  it("the error names the reason, and send() after it reports through dgram's error path", async () => {
    const { errors, sock } = await unreachable();
    expect(errors[0].message).toContain('H3_CONNECT_ERROR (0x10f)');
    expect(errors[0].message).toContain('unreachable');
    // With a callback: the error goes to it.
    const viaCallback = await new Promise<MasqueError | null>((resolve) =>
      sock.send('late', resolve),
    );
    expect(viaCallback?.code).toBe('MASQUE_CLOSED');
    expect(viaCallback?.h3Code).toBe(0x10f);
    expect(viaCallback?.cause).toBe(errors[0]);
    // Without one: emitted as 'error' to the listener, asynchronously, as node:dgram does.
    expect(sock.send('later')).toBe(false);
    await expect.poll(() => errors.length).toBe(2);
    expect(errors[1].code).toBe('MASQUE_CLOSED');
    // With no listener at all it throws.
    sock.removeAllListeners('error');
    expect(() => sock.send('last')).toThrow(MasqueError);
  });

  it('shutdown ends every tunnel and closes every socket', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const socks = await Promise.all(
      [1, 2, 3, 4, 5].map(() => c.connectUdp('127.0.0.1', echo.port)),
    );
    expect(sockets.live).toBe(5);
    await proxy.close({ timeout: 1000 });
    expect(sockets.live).toBe(0);
    await Promise.all(socks.map((s) => s.closed));
    expect(socks.every((s) => s.isClosed)).toBe(true);
    await c.closed;
  });

  it('a closed connection fails its sockets with an error event', async () => {
    const { proxy, echo, sockets } = await setup();
    const c = await client({ proxy, sockets });
    const sock = await c.connectUdp('127.0.0.1', echo.port);
    const errors: string[] = [];
    sock.on('error', (e) => errors.push(e.code));
    // The HTTP/3 server closes its connections without the proxy ending the tunnels first.
    await proxy.server.close({ timeout: 0 });
    await sock.closed;
    expect(errors).toEqual(['MASQUE_CONNECTION_CLOSED']);
    expect(await until(() => sockets.live === 0)).toBe(true);
    await expect(c.connectUdp('127.0.0.1', echo.port)).rejects.toBeInstanceOf(MasqueError);
  });
});
