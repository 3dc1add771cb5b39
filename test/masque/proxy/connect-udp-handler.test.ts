import { describe, expect, it } from 'vitest';
import { parseTargetRule, TargetPolicy } from '../../../src/masque/connect-udp/index.js';
import { type ProxyStatusEntry, parseProxyStatus } from '../../../src/masque/headers/index.js';
import type { Admitted } from '../../../src/masque/proxy/admission.js';
import {
  ConnectUdpHandler,
  type ConnectUdpHandlerOptions,
  TunnelCounters,
} from '../../../src/masque/proxy/index.js';
import type { Relay, RelayStrategy } from '../../../src/masque/proxy/strategy.js';
import { ProxyMetrics } from '../../../src/metrics/index.js';
import { fromHex } from '../../../src/wire/index.js';
import { connectUdpHeaders, FakeSession, FakeSocketFactory, tableResolver } from './fakes.js';

const TEMPLATE = 'https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/';
const path = (host: string, port: number | string) => `/.well-known/masque/udp/${host}/${port}/`;

const loopback = new TargetPolicy([
  parseTargetRule('127.0.0.0/8', 'allow'),
  parseTargetRule('::1/128', 'allow'),
]);

function setup(opts: Partial<ConnectUdpHandlerOptions> = {}) {
  const sockets = new FakeSocketFactory();
  const handler = new ConnectUdpHandler({
    template: TEMPLATE,
    proxyName: 'proxy.example',
    policy: loopback,
    resolver: tableResolver({
      'echo.test': { a: ['127.0.0.2'], aaaa: ['::1'] },
      'v4only.test': { a: ['127.0.0.3'] },
      'servfail.test': { error: 'ESERVFAIL' },
      'slow.test': { error: 'ETIMEOUT' },
      'private.test': { a: ['10.1.2.3'] },
    }),
    socketFactory: sockets,
    ...opts,
  });
  return { handler, sockets };
}

async function request(
  handler: ConnectUdpHandler,
  p: string,
  extra: Array<[string, string]> = [],
  remote?: string,
): Promise<FakeSession> {
  const s = new FakeSession(connectUdpHeaders(p, extra), remote);
  await handler.handle(s);
  return s;
}

function proxyStatus(s: FakeSession): ProxyStatusEntry {
  const r = parseProxyStatus(s.header('proxy-status'));
  if (!r.ok || r.value.length !== 1)
    throw new Error(`bad proxy-status ${s.header('proxy-status')}`);
  return r.value[0];
}

describe('a connect-udp request that succeeds', () => {
  it('opens one connected socket and answers 200 with next-hop', async () => {
    const { handler, sockets } = setup();
    const s = await request(handler, path('127.0.0.1', 5353));
    expect(s.status).toBe(200);
    expect(sockets.sockets.map((x) => x.target)).toEqual([
      { address: '127.0.0.1', family: 4, port: 5353 },
    ]);
    expect(proxyStatus(s)).toEqual({ proxy: 'proxy.example', nextHop: '127.0.0.1:5353' });
    expect(s.header('capsule-protocol')).toBeUndefined(); // the session adds it itself
    expect(handler.stats().tunnelsActive).toBe(1);
  });

  it('resolves DNS names before answering and prefers IPv6 by default', async () => {
    const { handler, sockets } = setup();
    const s = await request(handler, path('echo.test', 7));
    expect(s.status).toBe(200);
    expect(sockets.sockets[0].target).toEqual({ address: '::1', family: 6, port: 7 });
    expect(proxyStatus(s).nextHop).toBe('[::1]:7');
  });

  it('falls back to the next address when a socket cannot be opened', async () => {
    const { handler, sockets } = setup();
    sockets.refuse.add('::1');
    const s = await request(handler, path('echo.test', 7));
    expect(s.status).toBe(200);
    expect(proxyStatus(s).nextHop).toBe('127.0.0.2:7');
  });

  it('with fallback off only the first address is tried: 502 when it fails', async () => {
    const { handler, sockets } = setup({ fallback: false });
    sockets.refuse.add('::1');
    const s = await request(handler, path('echo.test', 7));
    expect(s.status).toBe(502);
    expect(proxyStatus(s)).toMatchObject({ error: 'destination_ip_unroutable' });
    expect(sockets.sockets).toEqual([]);
    // A reload turns it back on for new requests.
    handler.reconfigure({ fallback: true });
    const again = await request(handler, path('echo.test', 7));
    expect(proxyStatus(again).nextHop).toBe('127.0.0.2:7');
  });

  it('percent-encoded IPv6 targets are decoded (RFC 9298 §3)', async () => {
    const { handler, sockets } = setup();
    const s = await request(handler, path('%3A%3A1', 9));
    expect(s.status).toBe(200);
    expect(sockets.sockets[0].target.address).toBe('::1');
  });

  it('relays once accepted', async () => {
    const { handler, sockets } = setup();
    const s = await request(handler, path('127.0.0.1', 9));
    s.deliver(fromHex('00 abcd'));
    sockets.sockets[0].receive(fromHex('ef'));
    expect([...sockets.sockets[0].sent[0]]).toEqual([0xab, 0xcd]);
    expect([...s.datagrams[0]]).toEqual([0, 0xef]);
    expect(handler.stats()).toMatchObject({ datagramsToTarget: 1, datagramsToClient: 1 });
  });
});

describe('rejections, each with its status and Proxy-Status (RFC 9209)', () => {
  it('missing credentials: 407 with Proxy-Authenticate', async () => {
    const { handler, sockets } = setup({ auth: { mode: 'bearer', tokens: ['s3cret'] } });
    const s = await request(handler, path('127.0.0.1', 53));
    expect(s.status).toBe(407);
    expect(s.header('proxy-authenticate')).toBe('Bearer realm="masque"');
    expect(proxyStatus(s)).toMatchObject({ error: 'http_request_denied' });
    expect(sockets.sockets).toEqual([]);
    const ok = await request(handler, path('127.0.0.1', 53), [
      ['proxy-authorization', 'Bearer s3cret'],
    ]);
    expect(ok.status).toBe(200);
  });

  it('a path outside the template: 404', async () => {
    const { handler } = setup();
    const s = await request(handler, '/not/the/template');
    expect(s.status).toBe(404);
    expect(proxyStatus(s)).toMatchObject({ error: 'http_request_error', statusCode: 404 });
  });

  it('a malformed target: 400', async () => {
    const { handler } = setup();
    for (const p of [
      path('127.0.0.1', 0),
      path('127.0.0.1', 'x'),
      path('a..b', 53),
      path('fe80%3A%3A1%25eth0', 53),
    ]) {
      const s = await request(handler, p);
      expect(s.status, p).toBe(400);
      expect(proxyStatus(s)).toMatchObject({ error: 'http_request_error', statusCode: 400 });
    }
  });

  it('a request with content-length is malformed: 400 (RFC 9297 §3.2)', async () => {
    const { handler } = setup();
    const s = await request(handler, path('127.0.0.1', 53), [['content-length', '0']]);
    expect(s.status).toBe(400);
  });

  it('NXDOMAIN: 502 dns_error with rcode', async () => {
    const { handler } = setup();
    const s = await request(handler, path('nowhere.test', 53));
    expect(s.status).toBe(502);
    expect(proxyStatus(s)).toMatchObject({ error: 'dns_error', rcode: 'NXDOMAIN' });
  });

  it('SERVFAIL: 502 dns_error rcode SERVFAIL; resolver timeout: 504 dns_timeout', async () => {
    const { handler } = setup();
    const a = await request(handler, path('servfail.test', 53));
    expect(a.status).toBe(502);
    expect(proxyStatus(a)).toMatchObject({ error: 'dns_error', rcode: 'SERVFAIL' });
    const b = await request(handler, path('slow.test', 53));
    expect(b.status).toBe(504);
    expect(proxyStatus(b)).toMatchObject({ error: 'dns_timeout' });
  });

  it('a special-purpose target under the default policy: destination_ip_prohibited', async () => {
    const { handler, sockets } = setup({ policy: new TargetPolicy() });
    for (const p of [path('127.0.0.1', 53), path('private.test', 53)]) {
      const s = await request(handler, p);
      expect(s.status).toBe(502);
      expect(proxyStatus(s)).toMatchObject({ error: 'destination_ip_prohibited' });
    }
    expect(sockets.sockets).toEqual([]);
  });

  it('no socket at all: 502 destination_ip_unroutable', async () => {
    const { handler, sockets } = setup();
    sockets.refuse.add('127.0.0.1');
    const s = await request(handler, path('127.0.0.1', 53));
    expect(s.status).toBe(502);
    expect(proxyStatus(s)).toMatchObject({ error: 'destination_ip_unroutable' });
    expect(handler.stats().tunnelsActive).toBe(0);
  });

  it('too many tunnels on one connection: 429; in total: 503 connection_limit_reached', async () => {
    const { handler } = setup({ limits: { tunnelsPerConnection: 2, tunnelsTotal: 3 } });
    const a = [
      await request(handler, path('127.0.0.1', 1), [], 'A'),
      await request(handler, path('127.0.0.1', 2), [], 'A'),
      await request(handler, path('127.0.0.1', 3), [], 'A'),
    ];
    expect(a.map((s) => s.status)).toEqual([200, 200, 429]);
    expect(proxyStatus(a[2])).toMatchObject({ error: 'http_request_denied' });
    const b = [
      await request(handler, path('127.0.0.1', 4), [], 'B'),
      await request(handler, path('127.0.0.1', 5), [], 'B'),
    ];
    expect(b.map((s) => s.status)).toEqual([200, 503]);
    expect(proxyStatus(b[1])).toMatchObject({ error: 'connection_limit_reached' });
    // A tunnel closing frees its slot.
    a[0].finish({ kind: 'end' });
    await a[0].closed;
    await new Promise((r) => setImmediate(r));
    expect((await request(handler, path('127.0.0.1', 6), [], 'A')).status).toBe(200);
  });

  it('concurrent requests cannot overshoot the limit while sockets open', async () => {
    const { handler, sockets } = setup({ limits: { tunnelsTotal: 2 } });
    let release!: () => void;
    sockets.gate = new Promise((r) => {
      release = r;
    });
    const pending = [1, 2, 3].map((port) => {
      const s = new FakeSession(connectUdpHeaders(path('127.0.0.1', port)));
      return handler.handle(s).then(() => s.status);
    });
    await new Promise((r) => setImmediate(r));
    release();
    expect((await Promise.all(pending)).sort()).toEqual([200, 200, 503]);
  });

  it('a malformed request between active tunnels does not disturb them', async () => {
    const { handler, sockets } = setup();
    const a = await request(handler, path('127.0.0.1', 1));
    const bad = await request(handler, '/.well-known/masque/udp//53/');
    const b = await request(handler, path('127.0.0.1', 2));
    expect([a.status, bad.status, b.status]).toEqual([200, 400, 200]);
    a.deliver(fromHex('00 01'));
    b.deliver(fromHex('00 02'));
    expect(sockets.sockets.map((x) => x.sent.length)).toEqual([1, 1]);
    expect(a.ended).toBe('open');
    expect(b.ended).toBe('open');
  });

  it('counts rejections by reason in the metrics', async () => {
    const metrics = new ProxyMetrics();
    const { handler } = setup({ metrics });
    await request(handler, '/nope');
    const text = await metrics.metricsText();
    expect(text).toContain('masque_tunnels_rejected_total{reason="PATH_NO_MATCH"} 1');
  });
});

describe('the client going away, and shutdown', () => {
  it('a client that gives up during DNS resolution gets no socket', async () => {
    let answer!: (v: string[]) => void;
    const { handler, sockets } = setup({
      resolver: {
        resolve4: () => new Promise((r) => (answer = r)),
        resolve6: () => Promise.resolve([]),
      },
    });
    const s = new FakeSession(connectUdpHeaders(path('later.test', 53)));
    const done = handler.handle(s);
    s.finish({ kind: 'reset', code: 0x10c });
    answer(['127.0.0.1']);
    await done;
    expect(sockets.sockets).toEqual([]);
    expect(s.status).toBeUndefined();
  });

  it('closeAll ends every tunnel with a FIN, closes every socket, and refuses new requests', async () => {
    const { handler, sockets } = setup();
    const tunnels = [
      await request(handler, path('127.0.0.1', 1)),
      await request(handler, path('127.0.0.1', 2)),
    ];
    handler.closeAll();
    expect(tunnels.map((t) => t.ended)).toEqual(['fin', 'fin']);
    expect(sockets.openCount).toBe(0);
    expect(handler.stats()).toMatchObject({ tunnelsActive: 0, socketsOpen: 0 });
    const late = await request(handler, path('127.0.0.1', 3));
    expect(late.status).toBe(503);
    expect(proxyStatus(late)).toMatchObject({ error: 'proxy_internal_response' });
  });

  it('flushes traffic counters into the metrics in batches', async () => {
    const metrics = new ProxyMetrics();
    const { handler, sockets } = setup({ metrics });
    const s = await request(handler, path('127.0.0.1', 1));
    for (let i = 0; i < 10; i++) s.deliver(fromHex('00 0102'));
    sockets.sockets[0].receive(fromHex('0a0b0c'));
    handler.flushMetrics();
    const text = await metrics.metricsText();
    expect(text).toContain('masque_datagrams_total{direction="client_to_target"} 10');
    expect(text).toContain('masque_bytes_total{direction="client_to_target"} 20');
    expect(text).toContain('masque_bytes_total{direction="target_to_client"} 3');
    expect(text).toContain('masque_tunnels_active 1');
  });
});

describe('one connect-udp session, a relay strategy per mode', () => {
  /** A strategy double for the bind mode: records what it is given and what it is asked. */
  function recordingBind(duringPrepare: () => void = () => {}) {
    const log: string[] = [];
    const strategy: RelayStrategy = {
      mode: 'bind',
      socketsOpen: 0,
      async prepare(admitted: Admitted) {
        log.push(`prepare ${admitted.mode} ${admitted.target === undefined ? '*' : 'target'}`);
        duringPrepare();
        return {
          ok: true,
          headers: [['connect-udp-bind', '?1']],
          describe: 'bound',
          start(session, ctx) {
            log.push(`start after ${(session as FakeSession).status}`);
            const relay: Relay = {
              counters: new TunnelCounters(),
              close: (reason) => {
                log.push(`close ${reason}`);
                ctx.onClose(relay, reason);
              },
            };
            return relay;
          },
          abandon: () => log.push('abandon'),
        };
      },
    };
    return { strategy, log };
  }

  it('dispatches Connect-UDP-Bind requests to the bind strategy and starts it after the 2xx', async () => {
    const { strategy, log } = recordingBind();
    const { handler, sockets } = setup({ strategies: [strategy] });
    expect([...handler.modes].sort()).toEqual(['bind', 'plain']);
    const s = await request(handler, path('%2A', '%2A'), [['connect-udp-bind', '?1']]);
    expect(s.status).toBe(200);
    expect(s.header('connect-udp-bind')).toBe('?1');
    expect(sockets.sockets).toEqual([]);
    expect(handler.stats().tunnelsActive).toBe(1);
    handler.closeAll();
    expect(log).toEqual(['prepare bind *', 'start after 200', 'close shutdown']);
    expect(handler.stats()).toMatchObject({ tunnelsActive: 0, closed: { shutdown: 1 } });
    // Plain requests still go to the built-in strategy.
    const { handler: h2 } = setup({ strategies: [recordingBind().strategy] });
    expect((await request(h2, path('127.0.0.1', 9))).header('connect-udp-bind')).toBeUndefined();
  });

  it('without a bind strategy: a real target falls back to plain, * gets 501', async () => {
    const { handler, sockets } = setup();
    const s = await request(handler, path('127.0.0.1', 9), [['connect-udp-bind', '?1']]);
    expect(s.status).toBe(200);
    expect(s.header('connect-udp-bind')).toBeUndefined(); // tells the client: no bind here
    expect(sockets.sockets).toHaveLength(1);
    const star = await request(handler, path('%2A', '%2A'), [['connect-udp-bind', '?1']]);
    expect(star.status).toBe(501);
    expect(proxyStatus(star)).toMatchObject({
      error: 'http_request_error',
      details: 'BIND_NOT_OFFERED',
    });
    expect(handler.stats().rejected).toEqual({ BIND_NOT_OFFERED: 1 });
  });

  it('a request that goes away while its relay is prepared is abandoned, its slot released', async () => {
    const s = new FakeSession(connectUdpHeaders(path('%2A', '%2A'), [['connect-udp-bind', '?1']]));
    const { strategy, log } = recordingBind(() => s.finish({ kind: 'reset', code: 0x10c }));
    const { handler } = setup({ strategies: [strategy], limits: { tunnelsPerConnection: 1 } });
    await handler.handle(s);
    expect(s.status).toBeUndefined();
    expect(log).toEqual(['prepare bind *', 'abandon']);
    expect(handler.stats().tunnelsActive).toBe(0);
    expect((await request(handler, path('127.0.0.1', 9))).status).toBe(200);
  });
});
