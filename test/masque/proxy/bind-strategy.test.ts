/**
 * Bind through the connect-udp handler with the built-in bind strategy, sockets faked: what the
 * 2xx says (connect-udp-bind, Proxy-Public-Address), which sockets open, limits and refusals.
 */
import { describe, expect, it } from 'vitest';
import { parseTargetRule, TargetPolicy } from '../../../src/masque/connect-udp/index.js';
import { parseProxyPublicAddress } from '../../../src/masque/headers/index.js';
import { type BindOptions, ConnectUdpHandler } from '../../../src/masque/proxy/index.js';
import { fromHex } from '../../../src/wire/index.js';
import {
  connectUdpHeaders,
  FakeBoundSocketFactory,
  FakeSession,
  FakeSocketFactory,
  tableResolver,
} from './fakes.js';

const TEMPLATE = 'https://proxy.example:4433/.well-known/masque/udp/{target_host}/{target_port}/';
const path = (host: string, port: number | string) => `/.well-known/masque/udp/${host}/${port}/`;
const BIND: Array<[string, string]> = [['connect-udp-bind', '?1']];

function setup(bind: BindOptions = {}, families?: { ipv4?: boolean; ipv6?: boolean }) {
  const bound = new FakeBoundSocketFactory();
  const plain = new FakeSocketFactory();
  const handler = new ConnectUdpHandler({
    template: TEMPLATE,
    proxyName: 'proxy.example',
    policy: new TargetPolicy([parseTargetRule('192.0.2.66/32', 'deny')], { allowSpecial: true }),
    resolver: tableResolver({ 'peer.test': { a: ['198.51.100.53'] } }),
    socketFactory: plain,
    families,
    bind: {
      socketFactory: bound,
      defaultPublicAddress: (f) => (f === 4 ? '203.0.113.1' : '2001:db8::1'),
      ...bind,
    },
  });
  return { handler, bound, plain };
}

async function request(handler: ConnectUdpHandler, p: string, extra = BIND): Promise<FakeSession> {
  const s = new FakeSession(connectUdpHeaders(p, extra));
  await handler.handle(s);
  return s;
}

function publicAddresses(s: FakeSession): string[] {
  const r = parseProxyPublicAddress(s.header('proxy-public-address'));
  if (!r.ok) throw new Error(r.error);
  return r.value.map((a) => (a.family === 6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`));
}

describe('a bind request to */*', () => {
  it('opens one unconnected socket per family and names both in Proxy-Public-Address', async () => {
    const { handler, bound, plain } = setup();
    const s = await request(handler, path('%2A', '%2A'));
    expect(s.status).toBe(200);
    expect(s.header('connect-udp-bind')).toBe('?1');
    expect(bound.sockets.map((x) => [x.family, x.address])).toEqual([
      [4, '0.0.0.0'],
      [6, '::'],
    ]);
    expect(publicAddresses(s)).toEqual(['203.0.113.1:50000', '[2001:db8::1]:50001']);
    expect(plain.sockets).toEqual([]);
    expect(handler.stats().socketsOpen).toBe(2);
  });

  it('uses the configured public addresses (NAT) with the bound ports', async () => {
    const { handler } = setup({ publicAddresses: ['192.0.2.200', '2001:db8:ffff::2'] });
    const s = await request(handler, path('%2A', '%2A'));
    expect(publicAddresses(s)).toEqual(['192.0.2.200:50000', '[2001:db8:ffff::2]:50001']);
  });

  it('names a specific egress address as it is bound', async () => {
    const { handler } = setup({ egress: { ipv4: '198.51.100.2', ipv6: false } });
    const s = await request(handler, path('%2A', '%2A'));
    expect(publicAddresses(s)).toEqual(['198.51.100.2:50000']);
  });

  it('offers only the families that opened (and those the proxy may use)', async () => {
    const a = setup();
    a.bound.refuse.add(6);
    expect(publicAddresses(await request(a.handler, path('%2A', '%2A')))).toEqual([
      '203.0.113.1:50000',
    ]);
    const b = setup({}, { ipv4: false });
    expect(publicAddresses(await request(b.handler, path('%2A', '%2A')))).toEqual([
      '[2001:db8::1]:50000',
    ]);
  });

  it('no socket at all: 502 destination_ip_unroutable', async () => {
    const { handler, bound } = setup();
    bound.refuse.add(4);
    bound.refuse.add(6);
    const s = await request(handler, path('%2A', '%2A'));
    expect(s.status).toBe(502);
    expect(handler.stats().socketsOpen).toBe(0);
  });

  it('beyond maxTunnels: 503 connection_limit_reached, and the slot comes back on close', async () => {
    const { handler, bound } = setup({ maxTunnels: 1 });
    const first = await request(handler, path('%2A', '%2A'));
    const second = await request(handler, path('%2A', '%2A'));
    expect([first.status, second.status]).toEqual([200, 503]);
    expect(handler.stats().rejected).toEqual({ BIND_TUNNELS: 1 });
    first.finish({ kind: 'end' });
    await Promise.resolve();
    expect(bound.openCount).toBe(0);
    expect(handler.stats().socketsOpen).toBe(0);
    expect((await request(handler, path('%2A', '%2A'))).status).toBe(200);
  });

  it('Context ID 0 aborts the stream; other tunnels go on', async () => {
    const { handler } = setup();
    const a = await request(handler, path('%2A', '%2A'));
    const b = await request(handler, path('%2A', '%2A'));
    a.deliver(fromHex('00 aa'));
    expect(a.ended).toBe(0x33); // H3_DATAGRAM_ERROR
    expect(b.ended).toBe('open');
    expect(handler.stats().tunnelsActive).toBe(1);
  });
});

describe('a bind request with a real target (bind with fallback)', () => {
  it('resolves the target and sends Context ID 0 to it from the bound socket', async () => {
    const { handler, bound } = setup();
    const s = await request(handler, path('peer.test', 53));
    expect(s.status).toBe(200);
    expect(s.header('connect-udp-bind')).toBe('?1');
    s.deliver(fromHex('00 aa'));
    expect(bound.sockets[0].sent.map((x) => [x.address, x.port])).toEqual([['198.51.100.53', 53]]);
  });

  it('a denied target is refused as plain connect-udp would be', async () => {
    const { handler } = setup();
    const s = await request(handler, path('192.0.2.66', 53));
    expect(s.status).toBe(502);
  });

  it('the target family without a socket: 502', async () => {
    const { handler, bound } = setup();
    bound.refuse.add(4);
    expect((await request(handler, path('peer.test', 53))).status).toBe(502);
    expect(bound.openCount).toBe(0);
  });
});
