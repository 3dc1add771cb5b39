/**
 * connect-udp-bind end to end over loopback: a running proxy, a client speaking HTTP/3 with
 * capsules and datagrams framed by hand from the draft's text (not with our codecs), and real
 * UDP peers that send to the public address the proxy announced.
 */
import { createSocket, type Socket } from 'node:dgram';
import { H3Client } from 'masque/http3';
import { afterEach, describe, expect, it } from 'vitest';
import { ipv6Available } from '../../support/ipv6.js';
import { waitFor } from '../../support/wait.js';
import { startTestProxy, type TestProxy, testCert } from './loopback.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Tunnel = Awaited<ReturnType<H3Client['connect']>>;

const ASSIGN = 0x11;
const ACK = 0x12;
const CLOSE = 0x13;
const LEGACY_ASSIGN = 0x1c0fe323;
const LEGACY_CLOSE = 0x1c0fe324;
const KNOWN: Array<[number, number]> = [
  [ASSIGN, 64],
  [ACK, 16],
  [CLOSE, 16],
  [LEGACY_ASSIGN, 64],
  [LEGACY_CLOSE, 16],
];

/** IPv4 "a.b.c.d" or the IPv6 loopback "::1" as bytes (all the test needs). */
function ip(text: string): number[] {
  if (text === '::1') return [...new Array(15).fill(0), 1];
  return text.split('.').map(Number);
}
const u16 = (n: number): number[] => [n >> 8, n & 0xff];
/** COMPRESSION_ASSIGN value: Context ID (one-byte varint here), IP Version, address, port. */
const assignValue = (id: number, addr?: string, port?: number): Uint8Array =>
  addr === undefined
    ? Uint8Array.of(id, 0)
    : Uint8Array.from([id, addr.includes(':') ? 6 : 4, ...ip(addr), ...u16(port ?? 0)]);
/** An uncompressed datagram: Context ID, IP Version, address, port, payload (§4). */
const uncompressed = (id: number, addr: string, port: number, payload: number[]): Uint8Array =>
  Uint8Array.from([id, addr.includes(':') ? 6 : 4, ...ip(addr), ...u16(port), ...payload]);

async function peer(
  host = '127.0.0.1',
): Promise<{ socket: Socket; port: number; got: Array<{ data: number[]; from: string }> }> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const got: Array<{ data: number[]; from: string }> = [];
  socket.on('message', (m, r) => got.push({ data: [...m], from: `${r.address}:${r.port}` }));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, port: socket.address().port, got };
}

async function setup(
  config: Record<string, unknown> = {},
): Promise<{ proxy: TestProxy; client: H3Client }> {
  const proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8', '::1/128'] }, ...config });
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const client = await H3Client.connect(
    { host: '127.0.0.1', port: proxy.proxy.port },
    { ca: [testCert.certPem], noSystemRoots: true, serverName: 'localhost' },
  );
  cleanup.push(() => client.close({ timeout: 500 }));
  return { proxy, client };
}

async function bind(
  client: H3Client,
  target = '%2A/%2A',
): Promise<{
  tunnel: Tunnel;
  capsules: Array<{ type: number; value: number[] }>;
  datagrams: number[][];
}> {
  const tunnel = await client.connect(
    'connect-udp',
    `/.well-known/masque/udp/${target}/`,
    [['connect-udp-bind', '?1']],
    { knownCapsules: KNOWN },
  );
  const capsules: Array<{ type: number; value: number[] }> = [];
  const datagrams: number[][] = [];
  tunnel.onCapsule((c) => capsules.push({ type: Number(c.type), value: [...c.value] }));
  tunnel.onDatagram((d) => datagrams.push([...d]));
  return { tunnel, capsules, datagrams };
}

/** The Proxy-Public-Address members, unquoted. */
function publicAddresses(t: Tunnel): string[] {
  return (t.header('proxy-public-address') ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^"|"$/g, ''));
}
const portOf = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

describe('connect-udp-bind over loopback', () => {
  it('a bound tunnel: public address, uncompressed both ways, then a compressed context', async () => {
    const { client, proxy } = await setup();
    const { tunnel, capsules, datagrams } = await bind(client);
    expect(tunnel.header('connect-udp-bind')).toBe('?1');
    expect(tunnel.header('capsule-protocol')).toBe('?1');
    const pub = publicAddresses(tunnel);
    expect(pub[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    const boundPort = portOf(pub[0]);

    // Before any context: the firewall property holds (no uncompressed context, no delivery).
    const a = await peer();
    a.socket.send(Uint8Array.of(1), boundPort, '127.0.0.1');
    await waitFor(() => (proxy.proxy.handler.stats().drops.no_context ?? 0) === 1);
    expect(datagrams).toEqual([]);

    tunnel.sendCapsule(ASSIGN, assignValue(2));
    await waitFor(() => capsules.length === 1);
    expect(capsules[0]).toEqual({ type: ACK, value: [2] });

    // Two peers that were never dialled reach the client through the one bound port.
    const b = await peer();
    a.socket.send(Uint8Array.of(0xa1), boundPort, '127.0.0.1');
    b.socket.send(Uint8Array.of(0xb1), boundPort, '127.0.0.1');
    await waitFor(() => datagrams.length === 2);
    expect(datagrams).toContainEqual([...uncompressed(2, '127.0.0.1', a.port, [0xa1])]);
    expect(datagrams).toContainEqual([...uncompressed(2, '127.0.0.1', b.port, [0xb1])]);

    // The client answers each one, from the bound port.
    tunnel.sendDatagram(uncompressed(2, '127.0.0.1', a.port, [0xa2]));
    tunnel.sendDatagram(uncompressed(2, '127.0.0.1', b.port, [0xb2]));
    await waitFor(() => a.got.length === 1 && b.got.length === 1);
    expect(a.got[0]).toEqual({ data: [0xa2], from: `127.0.0.1:${boundPort}` });
    expect(b.got[0]).toEqual({ data: [0xb2], from: `127.0.0.1:${boundPort}` });

    // A compressed context for a: its datagrams lose the address, both ways.
    tunnel.sendCapsule(ASSIGN, assignValue(4, '127.0.0.1', a.port));
    await waitFor(() => capsules.length === 2);
    expect(capsules[1]).toEqual({ type: ACK, value: [4] });
    tunnel.sendDatagram(Uint8Array.of(4, 0xa3));
    await waitFor(() => a.got.length === 2);
    a.socket.send(Uint8Array.of(0xa4), boundPort, '127.0.0.1');
    await waitFor(() => datagrams.length === 3);
    expect(datagrams[2]).toEqual([4, 0xa4]);

    // Closing the uncompressed context shuts b out; a still gets through.
    // The CLOSE travels on the stream, b's probes as UDP: probe until the proxy drops one.
    tunnel.sendCapsule(CLOSE, Uint8Array.of(2));
    const noContext = () => proxy.proxy.handler.stats().drops.no_context ?? 0;
    await waitFor(() => {
      b.socket.send(Uint8Array.of(0xb3), boundPort, '127.0.0.1');
      return noContext() === 2;
    });
    const before = datagrams.length;
    a.socket.send(Uint8Array.of(0xa5), boundPort, '127.0.0.1');
    await waitFor(() => datagrams.length === before + 1);
    expect(datagrams.at(-1)).toEqual([4, 0xa5]);
  });

  it('proxy-side compression: the proxy assigns an odd context to a chatty peer', async () => {
    const { client } = await setup({ bind: { compressAfter: 3 } });
    const { tunnel, capsules, datagrams } = await bind(client);
    const boundPort = portOf(publicAddresses(tunnel)[0]);
    tunnel.sendCapsule(ASSIGN, assignValue(2));
    await waitFor(() => capsules.length === 1);
    const a = await peer();
    for (let i = 0; i < 3; i++) a.socket.send(Uint8Array.of(i), boundPort, '127.0.0.1');
    await waitFor(() => capsules.length === 2);
    expect(capsules[1]).toEqual({ type: ASSIGN, value: [...assignValue(1, '127.0.0.1', a.port)] });
    tunnel.sendCapsule(ACK, Uint8Array.of(1));
    // The ACK travels on the stream: a's datagrams switch to Context ID 1 once it arrived.
    await waitFor(() => {
      a.socket.send(Uint8Array.of(9), boundPort, '127.0.0.1');
      return datagrams.some((d) => d[0] === 1);
    });
    expect(datagrams.find((d) => d[0] === 1)).toEqual([1, 9]);
    expect(datagrams.filter((d) => d[0] !== 1).every((d) => d[0] === 2)).toBe(true);
  });

  it('bind with a real target keeps Context ID 0 for it, from the bound port', async () => {
    const { client } = await setup();
    const target = await peer();
    const { tunnel, datagrams } = await bind(client, `127.0.0.1/${target.port}`);
    expect(tunnel.header('connect-udp-bind')).toBe('?1');
    const boundPort = portOf(publicAddresses(tunnel)[0]);
    tunnel.sendDatagram(Uint8Array.of(0, 0x55));
    await waitFor(() => target.got.length === 1);
    expect(target.got[0]).toEqual({ data: [0x55], from: `127.0.0.1:${boundPort}` });
    target.socket.send(Uint8Array.of(0x66), boundPort, '127.0.0.1');
    await waitFor(() => datagrams.length === 1);
    expect(datagrams[0]).toEqual([0, 0x66]);
  });

  it('hostile capsules reset only their own tunnel, with H3_DATAGRAM_ERROR', async () => {
    const { client, proxy } = await setup();
    const good = await bind(client);
    const bad = await bind(client);
    good.tunnel.sendCapsule(ASSIGN, assignValue(2));
    await waitFor(() => good.capsules.length === 1);
    bad.tunnel.sendCapsule(ASSIGN, assignValue(3)); // odd: the proxy's parity
    const closed = await bad.tunnel.closed;
    expect(closed).toEqual({ kind: 'reset', code: 0x33 });
    const other = await bind(client);
    other.tunnel.sendDatagram(Uint8Array.of(0, 1)); // Context ID 0 on */*: MUST abort
    expect(await other.tunnel.closed).toEqual({ kind: 'reset', code: 0x33 });
    const a = await peer();
    a.socket.send(Uint8Array.of(7), portOf(publicAddresses(good.tunnel)[0]), '127.0.0.1');
    await waitFor(() => good.datagrams.length === 1);
    expect(proxy.proxy.handler.stats().closed).toMatchObject({ protocol_error: 2 });
  });

  it('the legacy codepoints: ACK by echo, CLOSE 0x1C0FE324', async () => {
    const { client, proxy } = await setup({ bind: { wire: 'legacy', compressAfter: 2 } });
    const { tunnel, capsules, datagrams } = await bind(client);
    const boundPort = portOf(publicAddresses(tunnel)[0]);
    tunnel.sendCapsule(LEGACY_ASSIGN, assignValue(2));
    await waitFor(() => capsules.length === 1);
    expect(capsules[0]).toEqual({ type: LEGACY_ASSIGN, value: [2, 0] });
    const a = await peer();
    a.socket.send(Uint8Array.of(1), boundPort, '127.0.0.1');
    a.socket.send(Uint8Array.of(2), boundPort, '127.0.0.1');
    await waitFor(() => capsules.length === 2);
    expect(capsules[1].type).toBe(LEGACY_ASSIGN);
    tunnel.sendCapsule(LEGACY_ASSIGN, Uint8Array.from(capsules[1].value)); // the echo
    await waitFor(() => {
      a.socket.send(Uint8Array.of(3), boundPort, '127.0.0.1');
      return datagrams.some((d) => d[0] === 1);
    });
    expect(datagrams.find((d) => d[0] === 1)).toEqual([1, 3]);
    tunnel.sendCapsule(LEGACY_CLOSE, Uint8Array.of(2));
    tunnel.sendCapsule(LEGACY_CLOSE, Uint8Array.of(1));
    await waitFor(() => {
      a.socket.send(Uint8Array.of(4), boundPort, '127.0.0.1');
      return (proxy.proxy.handler.stats().drops.no_context ?? 0) > 0;
    });
  });

  it('IPv6: a peer on ::1 reaches the client through the IPv6 public address', async () => {
    expect(await ipv6Available()).toBe(true);
    const { client } = await setup();
    const { tunnel, capsules, datagrams } = await bind(client);
    const v6 = publicAddresses(tunnel).find((a) => a.startsWith('['));
    expect(v6).toMatch(/^\[::1\]:\d+$/);
    tunnel.sendCapsule(ASSIGN, assignValue(2));
    await waitFor(() => capsules.length === 1);
    const p = await peer('::1');
    p.socket.send(Uint8Array.of(6), portOf(v6 as string), '::1');
    await waitFor(() => datagrams.length === 1);
    expect(datagrams[0]).toEqual([...uncompressed(2, '::1', p.port, [6])]);
    tunnel.sendDatagram(uncompressed(2, '::1', p.port, [7]));
    await waitFor(() => p.got.length === 1);
    expect(p.got[0].from).toBe(`::1:${portOf(v6 as string)}`);
  });
});
