/**
 * Every example runs here, against servers the test starts on 127.0.0.1 (the DNS example against
 * a tiny DNS responder that answers A queries from a table).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { buildQuery, dnsQuery, parseAnswer } from '../../examples/dns-query.js';
import { main as quicInTunnel } from '../../examples/quic-in-tunnel.js';
import { main as udpEcho } from '../../examples/udp-echo.js';
import { main as udpRendezvous } from '../../examples/udp-rendezvous.js';
import { startTestProxy, testCert } from '../masque/proxy/loopback.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Answers A queries for the names in `table` (NXDOMAIN otherwise), echoing the question. */
async function dnsServer(
  table: Record<string, string[]>,
): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  socket.on('message', (q, rinfo) => {
    let i = 12;
    const labels: string[] = [];
    while (q[i] !== 0) {
      labels.push(q.subarray(i + 1, i + 1 + q[i]).toString());
      i += 1 + q[i];
    }
    const question = q.subarray(12, i + 5);
    const addresses = table[labels.join('.')];
    const header = Buffer.from([
      q[0],
      q[1],
      0x81,
      addresses ? 0x80 : 0x83,
      0,
      1,
      0,
      addresses?.length ?? 0,
      0,
      0,
      0,
      0,
    ]);
    const answers = (addresses ?? []).map((a) =>
      Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...a.split('.').map(Number)]),
    );
    socket.send(Buffer.concat([header, question, ...answers]), rinfo.port, rinfo.address);
  });
  return { port: socket.address().port, socket };
}

describe('examples/dns-query.ts', () => {
  it('builds the query of RFC 1035 §4.1 by hand', () => {
    expect(Buffer.from(buildQuery(0x1234, 'example.com')).toString('hex')).toBe(
      '123401000001000000000000' + '076578616d706c6503636f6d00' + '00010001',
    );
  });

  it('asks a DNS server on 127.0.0.1 through the proxy', async () => {
    const dns = await dnsServer({ 'masque.test': ['192.0.2.10', '192.0.2.11'] });
    cleanup.push(() => new Promise<void>((r) => dns.socket.close(() => r())));
    const { proxy } = await startTestProxy();
    cleanup.push(() => proxy.close({ timeout: 500 }));
    const ok = await dnsQuery({
      template: proxy.template,
      ca: testCert.certPem,
      server: { host: '127.0.0.1', port: dns.port },
      name: 'masque.test',
    });
    expect(ok).toEqual({ rcode: 0, addresses: ['192.0.2.10', '192.0.2.11'] });
    const nx = await dnsQuery({
      template: proxy.template,
      ca: testCert.certPem,
      server: { host: '127.0.0.1', port: dns.port },
      name: 'missing.test',
    });
    expect(nx).toEqual({ rcode: 3, addresses: [] });
  });

  it('refuses an answer with another ID', () => {
    const q = buildQuery(7, 'a.b');
    expect(() => parseAnswer(q, 8)).toThrow();
  });
});

describe('examples/udp-echo.ts', () => {
  it('echoes through one proxy and through two chained proxies', async () => {
    const lines = await udpEcho();
    expect(lines[0]).toMatch(/^one proxy: hello through one proxy \(next hop 127\.0\.0\.1:\d+\)$/);
    expect(lines[1]).toBe('two proxies: hello through two proxies');
  });
});

describe('examples/quic-in-tunnel.ts', () => {
  it('gets a page from an HTTP/3 server over QUIC carried in a connect-udp tunnel', async () => {
    const lines = await quicInTunnel();
    expect(lines[0]).toBe('status 200');
    expect(lines[1]).toMatch(/^hello from HTTP\/3 at \/inside, seen from 127\.0\.0\.1:\d+$/);
  });
});

describe('examples/udp-rendezvous.ts', () => {
  it('a second party reaches the bound client at its public address; the reply comes back from it', async () => {
    const lines = await udpRendezvous();
    const pub = /^public address: (127\.0\.0\.1:\d+)$/.exec(lines[0])?.[1];
    expect(pub).toBeDefined();
    const party = /^party (127\.0\.0\.1:\d+) got: hello (\S+), you said "hi"$/.exec(lines[1]);
    expect(party).not.toBeNull();
    // The client saw the party's own address, and answered from its public address.
    expect(party?.[2]).toBe(party?.[1]);
    expect(lines[2]).toBe(`from: ${pub}`);
  });
});
