/**
 * QUIC-aware proxying end to end over loopback, proxy side: a running proxy, a client that speaks
 * the capsules (draft-09 unless said) and forwarded mode by hand over an H3Client (its own socket
 * sends and receives the forwarded packets), and a UDP "target" that plays a QUIC server with
 * hand-made short-header packets (the proxy never decrypts them, so their bytes are ours to pick).
 * An unmodified QUIC target through forwarded mode needs the client SDK's connectQuic (left for
 * the next round; see drafts/quic-proxy.md).
 */
import { createSocket, type Socket } from 'node:dgram';
import { H3Client } from 'masque/http3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
  type QuicProxyProfile,
  quicProxyCapsuleLimits,
} from '../../../src/masque/capsules/quic-proxy.js';
import { parseProxyQuicForwarding } from '../../../src/masque/headers/proxy-quic-forwarding.js';
import { quicLbServerId } from '../../../src/masque/quic-aware/vcid.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { createTransform } from '../../../transforms/registry.js';
import { settle, waitFor } from '../../support/wait.js';
import { startTestProxy, type TestProxy, testCert } from './loopback.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const CLIENT_KEY = new Uint8Array(32).fill(0x11);
const CLIENT_CID = fromHex('c1c2c3c4c5c6c7c8');
const TARGET_CID = fromHex('7172737475767778');
const TOKEN = new Uint8Array(16).fill(0xee);

interface Target {
  socket: Socket;
  port: number;
  got: Array<{ data: Uint8Array; from: string }>;
  from?: { address: string; port: number };
}

async function target(): Promise<Target> {
  const socket = createSocket('udp4');
  const t: Target = { socket, port: 0, got: [] };
  socket.on('message', (m, r) => {
    t.got.push({ data: new Uint8Array(m), from: `${r.address}:${r.port}` });
    t.from = { address: r.address, port: r.port };
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.port = socket.address().port;
  cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
  return t;
}

/** A 1-RTT-looking packet: first byte 0x40 | bits, DCID, then `body` bytes (>= 16 for scramble). */
function shortPacket(dcid: Uint8Array, body: number, seed: number): Uint8Array {
  const payload = new Uint8Array(body);
  for (let i = 0; i < body; i++) payload[i] = (seed * 31 + i * 7) & 0xff;
  return concatBytes(Uint8Array.of(0x41), dcid, payload);
}

async function setup(
  config: Record<string, unknown> = {},
): Promise<{ proxy: TestProxy; client: H3Client }> {
  const proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] }, ...config });
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const client = await H3Client.connect(
    { host: '127.0.0.1', port: proxy.proxy.port },
    { ca: [testCert.certPem], noSystemRoots: true, serverName: 'localhost' },
  );
  cleanup.push(() => client.close({ timeout: 500 }));
  return { proxy, client };
}

async function open(
  client: H3Client,
  t: Target | { port: number },
  profile: QuicProxyProfile = 'draft-09',
  extra: Array<[string, string]> = [],
) {
  const key = Buffer.from(CLIENT_KEY).toString('base64');
  const tunnel = await client.connect(
    'connect-udp',
    `/.well-known/masque/udp/127.0.0.1/${t.port}/`,
    [
      [
        'proxy-quic-forwarding',
        `?1; accept-transform="scramble-dt,identity"; scramble-key=:${key}:`,
      ],
      ['proxy-quic-port-sharing', '?1'],
      ...extra,
    ],
    { knownCapsules: quicProxyCapsuleLimits(profile) },
  );
  const capsules: QuicProxyCapsule[] = [];
  tunnel.onCapsule((c) => {
    const d = decodeQuicProxyCapsule(Number(c.type), c.value, profile, 'client');
    if (d !== undefined) capsules.push(d);
  });
  const datagrams: Uint8Array[] = [];
  tunnel.onDatagram((d) => datagrams.push(d.slice()));
  const send = (c: QuicProxyCapsule) => {
    const [type, value] = encodeQuicProxyCapsule(c, profile);
    tunnel.sendCapsule(type, value);
  };
  return { tunnel, capsules, datagrams, send };
}

describe('QUIC-aware proxying over loopback', () => {
  it('registration, tunnelled packets, then forwarded mode both ways with scramble-dt', async () => {
    const { client, proxy } = await setup();
    const t = await target();
    const { tunnel, capsules, datagrams, send } = await open(client, t);
    const fwd = parseProxyQuicForwarding(tunnel.header('proxy-quic-forwarding'), 'response');
    expect(fwd.ok && fwd.value).toMatchObject({ enabled: true, transform: 'scramble-dt' });
    expect(tunnel.header('proxy-quic-port-sharing')).toBe('?1');
    expect(tunnel.header('proxy-status')).toContain(`next-hop="127.0.0.1:${t.port}"`);
    const proxyKey = (fwd.ok && fwd.value?.scrambleKey) as Uint8Array;
    expect(proxyKey.length).toBe(32);

    // Tunnelled first: the client's Initial (a long header) rides Context ID 0.
    const initial = concatBytes(
      fromHex('c000000001 08'),
      TARGET_CID,
      fromHex('08'),
      CLIENT_CID,
      new Uint8Array(40),
    );
    tunnel.sendDatagram(concatBytes(Uint8Array.of(0), initial));
    await waitFor(() => t.got.length === 1);
    expect(toHex(t.got[0].data)).toBe(toHex(initial));

    // Registrations (§5.9.1): client CID, then its VCID acknowledged; then the target CID.
    send({ kind: 'register_client_cid', reason: 0, cid: CLIENT_CID });
    await waitFor(() => capsules.some((c) => c.kind === 'ack_client_cid'));
    expect(capsules[0]).toEqual({ kind: 'max_connection_ids', limit: 16 });
    const ackClient = capsules.find((c) => c.kind === 'ack_client_cid') as { vcid: Uint8Array };
    const clientVcid = ackClient.vcid;
    expect(clientVcid.length).toBe(8);
    send({ kind: 'ack_client_vcid', cid: CLIENT_CID, vcid: clientVcid, token: new Uint8Array(0) });
    send({ kind: 'register_target_cid', reason: 0, cid: TARGET_CID, token: TOKEN });
    await waitFor(() => capsules.some((c) => c.kind === 'ack_target_cid'));
    const ackTarget = capsules.find((c) => c.kind === 'ack_target_cid') as {
      vcid: Uint8Array;
      token: Uint8Array;
    };
    expect(ackTarget.vcid.length).toBe(8);
    expect(ackTarget.token.length).toBe(16); // our reset token for the VCID (§6.8)

    // Target → client, forwarded: the client's socket gets it with the client VCID, scrambled.
    const fromProxy: Uint8Array[] = [];
    client.packets.claimCid(clientVcid, (d) => fromProxy.push(d.slice()));
    const toClient = shortPacket(CLIENT_CID, 60, 1);
    const proxyTargetSocket = t.from as { address: string; port: number };
    // A long header from the target still comes tunnelled.
    t.socket.send(
      concatBytes(fromHex('e000000001 08'), CLIENT_CID, fromHex('00'), new Uint8Array(30)),
      proxyTargetSocket.port,
      proxyTargetSocket.address,
    );
    await waitFor(() => datagrams.length === 1);
    t.socket.send(toClient, proxyTargetSocket.port, proxyTargetSocket.address);
    await waitFor(() => fromProxy.length === 1);
    const wire = fromProxy[0];
    expect(toHex(wire.subarray(1, 9))).toBe(toHex(clientVcid));
    // Scrambled: no run of the payload survives in place.
    let same = 0;
    for (let i = 9; i < wire.length; i++) if (wire[i] === toClient[i]) same++;
    expect(same).toBeLessThan(10);
    const unscrambled = wire.slice();
    createTransform('scramble-dt', { key: proxyKey }).decode(unscrambled, 8);
    expect(toHex(unscrambled)).toBe(
      toHex(concatBytes(toClient.subarray(0, 1), clientVcid, toClient.subarray(9))),
    );

    // Client → target, forwarded: target VCID in, scrambled with the client's key, from the
    // client's own socket; the target gets the real CID and the original bytes.
    const original = shortPacket(ackTarget.vcid, 80, 2);
    const out = original.slice();
    createTransform('scramble-dt', { key: CLIENT_KEY }).encode(out, 8);
    client.packets.sendRaw(out, `127.0.0.1:${proxy.proxy.port}`);
    await waitFor(() => t.got.length === 2);
    expect(toHex(t.got[1].data)).toBe(
      toHex(concatBytes(original.subarray(0, 1), TARGET_CID, original.subarray(9))),
    );

    // The same packet from another socket (another 4-tuple) is not forwarded (§2.2).
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => stranger.close(() => r())));
    const tunnels = () =>
      [...proxy.proxy.handler.tunnels] as unknown as Array<{ forwarded: { wrongPath: number } }>;
    await waitFor(() => {
      stranger.send(out, proxy.proxy.port, '127.0.0.1');
      return tunnels()[0].forwarded.wrongPath > 0;
    });
    expect(t.got.length).toBe(2);

    // A stateless reset from the target (registered token at the end) is tunnelled, not forwarded.
    const reset = concatBytes(shortPacket(CLIENT_CID, 20, 3), TOKEN);
    t.socket.send(reset, proxyTargetSocket.port, proxyTargetSocket.address);
    await waitFor(() => datagrams.length === 2);
    expect(toHex(datagrams[1])).toBe(toHex(concatBytes(Uint8Array.of(0), reset)));
  });

  it('loops: a target that is the proxy is refused; a VCID we issued cannot be registered as a CID', async () => {
    const { client, proxy } = await setup();
    await expect(open(client, { port: proxy.proxy.port })).rejects.toMatchObject({ status: 502 });
    const t = await target();
    const a = await open(client, t);
    a.send({ kind: 'register_target_cid', reason: 0, cid: TARGET_CID, token: TOKEN });
    await waitFor(() => a.capsules.some((c) => c.kind === 'ack_target_cid'));
    const vcid = (a.capsules.find((c) => c.kind === 'ack_target_cid') as { vcid: Uint8Array }).vcid;
    const b = await open(client, await target());
    b.send({ kind: 'register_target_cid', reason: 0, cid: vcid, token: new Uint8Array(0) });
    b.send({ kind: 'register_client_cid', reason: 0, cid: vcid });
    await waitFor(() => b.capsules.filter((c) => c.kind.startsWith('reject')).length === 2);
    expect(b.capsules.filter((c) => c.kind.startsWith('reject'))).toEqual([
      { kind: 'reject_target_cid', reason: 2, cid: vcid },
      { kind: 'reject_client_cid', reason: 2, cid: vcid },
    ]);
  });

  it('port sharing: two tunnels to one target share its socket, packets routed by client CID', async () => {
    const { client, proxy } = await setup();
    const t = await target();
    const a = await open(client, t);
    const b = await open(client, t);
    const cidA = fromHex('a1a1a1a1a1a1a1a1');
    const cidB = fromHex('b2b2b2b2b2b2b2b2');
    a.send({ kind: 'register_client_cid', reason: 0, cid: cidA });
    b.send({ kind: 'register_client_cid', reason: 0, cid: cidB });
    // A conflicting (prefix) registration on the shared socket is refused.
    b.send({ kind: 'register_client_cid', reason: 0, cid: fromHex('a1a1a1a1') });
    await waitFor(
      () => a.capsules.some((c) => c.kind === 'ack_client_cid') && b.capsules.length >= 3,
    );
    expect(b.capsules.at(-1)).toEqual({
      kind: 'reject_client_cid',
      reason: 2,
      cid: fromHex('a1a1a1a1'),
    });
    a.tunnel.sendDatagram(concatBytes(Uint8Array.of(0), shortPacket(TARGET_CID, 30, 1)));
    b.tunnel.sendDatagram(concatBytes(Uint8Array.of(0), shortPacket(TARGET_CID, 30, 2)));
    await waitFor(() => t.got.length === 2);
    expect(new Set(t.got.map((g) => g.from)).size).toBe(1); // one proxy-side socket
    const from = t.from as { address: string; port: number };
    t.socket.send(shortPacket(cidB, 30, 3), from.port, from.address);
    t.socket.send(shortPacket(cidA, 30, 4), from.port, from.address);
    t.socket.send(shortPacket(fromHex('0000000000000000'), 30, 5), from.port, from.address); // nobody's
    await waitFor(() => a.datagrams.length === 1 && b.datagrams.length === 1);
    expect(toHex(a.datagrams[0].subarray(2, 10))).toBe(toHex(cidA));
    expect(toHex(b.datagrams[0].subarray(2, 10))).toBe(toHex(cidB));
    expect(proxy.proxy.handler.stats().socketsOpen).toBe(1);
  });

  it('the draft-07 and draft-08 profiles, learnt from the first capsule', async () => {
    const { client } = await setup();
    for (const profile of ['draft-07', 'draft-08'] as const) {
      const s = await open(client, await target(), profile);
      s.send({ kind: 'register_client_cid', reason: 0, cid: fromHex('0102030405060708') });
      s.send({ kind: 'register_client_cid', reason: 0, cid: fromHex('0a0b') }); // too short
      await waitFor(() => s.capsules.length === 3, {
        timeoutMs: 2000,
        what: `${profile}: ${JSON.stringify(s.capsules.map((c) => c.kind))}`,
      });
      expect(s.capsules.map((c) => c.kind)).toEqual([
        'max_connection_ids',
        'ack_client_cid',
        'reject_client_cid',
      ]);
    }
  });

  it('a hostile capsule resets only its own tunnel with H3_DATAGRAM_ERROR', async () => {
    const { client } = await setup();
    const t = await target();
    const good = await open(client, t);
    const bad = await open(client, t);
    bad.tunnel.sendCapsule(0xffe809, fromHex('05')); // MAX_CONNECTION_IDS from the client
    expect(await bad.tunnel.closed).toEqual({ kind: 'reset', code: 0x33 });
    good.send({ kind: 'register_client_cid', reason: 0, cid: CLIENT_CID });
    await waitFor(() => good.capsules.some((c) => c.kind === 'ack_client_cid'));
  });
});

describe('QUIC-aware transform negotiation (quic-proxy §3, §6.3)', () => {
  it('identity when offered alone; ?0 for scramble without a key or for unknown transforms', async () => {
    const { client } = await setup();
    const t = await target();
    const ask = async (value: string) => {
      const tunnel = await client.connect(
        'connect-udp',
        `/.well-known/masque/udp/127.0.0.1/${t.port}/`,
        [['proxy-quic-forwarding', value]],
        { knownCapsules: quicProxyCapsuleLimits('draft-09') },
      );
      const h = tunnel.header('proxy-quic-forwarding');
      tunnel.close();
      return h;
    };
    expect(await ask('?1; accept-transform="identity"')).toBe('?1;transform="identity"');
    // §6.3.2: "If either side receives a scramble transform without the scramble-key parameter,
    // forwarded mode MUST be disabled."
    expect(await ask('?1; accept-transform="scramble-dt"')).toBe('?0');
    expect(await ask('?1; accept-transform="scramble,rot13"')).toBe('?0');
    expect(await ask('?0')).toBe('?0');
  });

  it('forwarding off by configuration: ?0, and ACKs carry no VCIDs', async () => {
    const { client } = await setup({ quicAware: { forwarding: false } });
    const s = await open(client, await target());
    expect(s.tunnel.header('proxy-quic-forwarding')).toBe('?0');
    s.send({ kind: 'register_client_cid', reason: 0, cid: CLIENT_CID });
    await waitFor(() => s.capsules.some((c) => c.kind === 'ack_client_cid'));
    expect(s.capsules.find((c) => c.kind === 'ack_client_cid')).toEqual({
      kind: 'ack_client_cid',
      cid: CLIENT_CID,
      vcid: new Uint8Array(0),
    });
  });
});

/** Registers `cid` as a target CID on `s` and returns the target VCID the proxy gave. */
async function ackTarget(
  s: Awaited<ReturnType<typeof open>>,
  cid: Uint8Array,
): Promise<Uint8Array> {
  const acks = () => s.capsules.filter((c) => c.kind === 'ack_target_cid');
  const before = acks().length;
  s.send({ kind: 'register_target_cid', reason: 0, cid, token: new Uint8Array(0) });
  await waitFor(() => acks().length > before);
  return (acks().at(-1) as { vcid: Uint8Array }).vcid;
}

/** A proxy's forwarded-mode counts over its open tunnels. */
function forwardedCounts(p: TestProxy): { toTarget: number; wrongPath: number } {
  let toTarget = 0;
  let wrongPath = 0;
  for (const t of p.proxy.handler.tunnels as unknown as Set<{
    forwarded: { toTarget: number; wrongPath: number };
  }>) {
    toTarget += t.forwarded.toTarget;
    wrongPath += t.forwarded.wrongPath;
  }
  return { toTarget, wrongPath };
}

/** Sends ten scrambled forwarded packets carrying `vcid` from `c`'s socket to its proxy. */
function forwardTen(c: { client: H3Client; proxy: TestProxy }, vcid: Uint8Array): void {
  const enc = createTransform('scramble-dt', { key: CLIENT_KEY });
  for (let i = 0; i < 10; i++) {
    const p = shortPacket(vcid, 60, i);
    enc.encode(p, 8);
    c.client.packets.sendRaw(p, `127.0.0.1:${c.proxy.proxy.port}`);
  }
}

describe('loop attacks (quic-proxy §10.3): two proxies pointed at each other', () => {
  it('a registration cycle across two proxies ends in dropped packets, never an amplifying loop', async () => {
    const a = await setup();
    const b = await setup();
    const fromA = await open(a.client, { port: b.proxy.proxy.port }); // A's tunnel to B
    const fromB = await open(b.client, { port: a.proxy.proxy.port }); // B's tunnel to A
    // The IETF 119 construction: each proxy's target CID is the other's VCID.
    const vtA = await ackTarget(fromA, fromHex('0101010101010101'));
    const vtB = await ackTarget(fromB, vtA); // B: vtB -> vtA, sent to A
    expect(vtB.length).toBe(8);
    const vtA2 = await ackTarget(fromA, vtB); // A: vtA2 -> vtB, sent to B
    const key = (s: Awaited<ReturnType<typeof open>>) => {
      const f = parseProxyQuicForwarding(s.tunnel.header('proxy-quic-forwarding'), 'response');
      expect(f.ok && f.value?.transform).toBe('scramble-dt');
    };
    key(fromA);
    key(fromB);
    forwardTen(a, vtA2); // ten forwarded packets into A with vtA2, from A's client
    // A forwards each once to B; B refuses them (they come from A's target socket, not from its
    // client's 4-tuple): the cycle is cut at the first hop back.
    await waitFor(() => forwardedCounts(b.proxy).wrongPath === 10);
    expect(forwardedCounts(a.proxy).toTarget).toBe(10);
    expect(forwardedCounts(b.proxy).toTarget).toBe(0);
    // Nothing keeps circulating: no event can say nothing happened, so let 100 ms (hundreds of
    // loopback round trips) pass and check that the counts held.
    await settle(100);
    expect(forwardedCounts(a.proxy)).toEqual({ toTarget: 10, wrongPath: 0 });
    expect(forwardedCounts(b.proxy)).toEqual({ toTarget: 0, wrongPath: 10 });
  });

  it('a cycle through three proxies ends the same way: one hop, then dropped', async () => {
    const [a, b, c] = [await setup(), await setup(), await setup()];
    const toB = await open(a.client, { port: b.proxy.proxy.port });
    const toC = await open(b.client, { port: c.proxy.proxy.port });
    const toA = await open(c.client, { port: a.proxy.proxy.port });
    const vtA = await ackTarget(toB, fromHex('0202020202020202')); // A: vtA -> X, to B
    const vtC = await ackTarget(toA, vtA); // C: vtC -> vtA, to A
    const vtB = await ackTarget(toC, vtC); // B: vtB -> vtC, to C
    const vtA2 = await ackTarget(toB, vtB); // A: vtA2 -> vtB, to B: the ring is closed on paper
    forwardTen(a, vtA2); // ten forwarded packets into A with vtA2, from A's client
    await waitFor(() => forwardedCounts(b.proxy).wrongPath === 10);
    // No event can say nothing more happened: 100 ms (hundreds of loopback round trips), then check.
    await settle(100);
    expect([forwardedCounts(a.proxy), forwardedCounts(b.proxy), forwardedCounts(c.proxy)]).toEqual([
      { toTarget: 10, wrongPath: 0 },
      { toTarget: 0, wrongPath: 10 },
      { toTarget: 0, wrongPath: 0 },
    ]);
  });
});

describe('QUIC-LB routable VCIDs (quic-proxy §2.2; draft-ietf-quic-load-balancers)', () => {
  it('a proxy configured with a server ID puts it in every VCID it issues', async () => {
    const config = { configId: 1, serverId: 'a1b2', nonceLength: 5 };
    const { client } = await setup({ quicAware: { quicLb: config } });
    const s = await open(client, await target());
    s.send({ kind: 'register_client_cid', reason: 0, cid: CLIENT_CID });
    s.send({ kind: 'register_target_cid', reason: 0, cid: TARGET_CID, token: TOKEN });
    await waitFor(() => s.capsules.some((c) => c.kind === 'ack_target_cid'));
    const lb = { configId: 1, serverId: fromHex('a1b2'), nonceLength: 5 };
    for (const kind of ['ack_client_cid', 'ack_target_cid'] as const) {
      const vcid = (s.capsules.find((c) => c.kind === kind) as { vcid: Uint8Array }).vcid;
      expect(vcid[0] >> 5, kind).toBe(1);
      expect(toHex(quicLbServerId(vcid, lb) as Uint8Array), kind).toBe('a1b2');
    }
  });

  it('a QUIC-LB layout longer than the server CIDs is refused at start', async () => {
    await expect(
      startTestProxy({
        quicAware: { quicLb: { configId: 0, serverId: 'a1b2c3d4', nonceLength: 8 } },
      }),
    ).rejects.toThrow(/QUIC-LB VCIDs need 13 bytes/);
  });
});
