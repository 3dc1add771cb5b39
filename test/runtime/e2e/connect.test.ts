/**
 * Extended CONNECT (RFC 9220) over loopback: a session carries 10,000 HTTP/3 datagrams each way
 * (RFC 9297 §2) and 1,000 capsules each way (RFC 9297 §3), in order; a protocol without capsules
 * tunnels bytes; unknown protocols and plain CONNECT are refused with 501.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Capsule } from '../../../src/capsule/types.js';
import type { ServerConnectSession } from '../../../src/runtime/server/index.js';
import { H3HttpError } from '../../../src/runtime/server/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { closeAll, connectClient, pattern, sha256, sleep, startServer, waitFor } from './setup.js';

afterEach(closeAll);

const TEST_CAPSULE = 0x2a5e;
const KNOWN = [[TEST_CAPSULE, 65_536]] as const;
const DATAGRAMS = 10_000;

/** Sends `n` datagrams numbered 0..n-1, yielding when the transport queue is full. */
async function sendNumbered(send: (p: Uint8Array) => boolean, n: number, tag: number) {
  let refused = 0;
  for (let i = 0; i < n; ) {
    const p = new Uint8Array(40);
    p[0] = tag;
    new DataView(p.buffer).setUint32(1, i);
    if (send(p)) i++;
    else {
      refused++;
      await new Promise((r) => setImmediate(r));
    }
  }
  return refused;
}

/** Capsule values of random sizes (most small, a few up to 60 KB), seeded. */
function capsuleValues(seed: number): Uint8Array[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: 1000 }, (_, i) => {
    const size = i % 97 === 0 ? 20_000 + (rng.nextU32() % 40_000) : rng.nextU32() % 3000;
    return pattern(size, seed * 10_000 + i);
  });
}

describe('extended CONNECT sessions over loopback', () => {
  it('10,000 datagrams each way arrive (counted) and 1,000 capsules each way arrive in order', async () => {
    const server = await startServer();
    const serverGot = new Set<number>();
    const serverCapsules: Capsule[] = [];
    let serverSession: ServerConnectSession | undefined;
    const serverValues = capsuleValues(2);
    server.handleConnect(
      'test-tunnel',
      async (s) => {
        serverSession = s;
        expect(s.capsuleMode).toBe(true);
        expect(s.path).toBe('/tunnel/1');
        s.onDatagram((d) => {
          if (d[0] === 0xc1) serverGot.add(new DataView(d.buffer, d.byteOffset).getUint32(1));
        });
        s.onCapsule((c) => serverCapsules.push(c));
        s.accept({ 'x-tunnel': 'yes' });
        for (const v of serverValues) if (!s.sendCapsule(TEST_CAPSULE, v)) await s.drained();
      },
      { knownCapsules: KNOWN },
    );
    const client = await connectClient(server);
    expect(client.datagramsEnabled).toBe(true);
    const tunnel = await client.connect(
      'test-tunnel',
      '/tunnel/1',
      { 'x-user': 'test' },
      {
        knownCapsules: KNOWN,
      },
    );
    expect(tunnel.status).toBe(200);
    expect(tunnel.header('capsule-protocol')).toBe('?1');
    expect(tunnel.header('x-tunnel')).toBe('yes');
    expect(tunnel.capsuleMode).toBe(true);
    const clientGot = new Set<number>();
    const clientCapsules: Capsule[] = [];
    tunnel.onDatagram((d) => {
      if (d[0] === 0x5e) clientGot.add(new DataView(d.buffer, d.byteOffset).getUint32(1));
    });
    tunnel.onCapsule((c) => clientCapsules.push(c));
    await waitFor(() => serverSession !== undefined);

    // Datagrams both ways at once.
    const t0 = performance.now();
    const s = serverSession as ServerConnectSession;
    const [refusedC, refusedS] = await Promise.all([
      sendNumbered((p) => tunnel.sendDatagram(p), DATAGRAMS, 0xc1),
      sendNumbered((p) => s.sendDatagram(p), DATAGRAMS, 0x5e),
    ]);
    // Wait until arrivals stop growing.
    let last = -1;
    while (serverGot.size + clientGot.size !== last) {
      last = serverGot.size + clientGot.size;
      if (last === 2 * DATAGRAMS) break;
      await sleep(200);
    }
    const lossC = DATAGRAMS - serverGot.size;
    const lossS = DATAGRAMS - clientGot.size;
    process.stdout.write(
      `datagrams: client→server ${serverGot.size}/${DATAGRAMS}, server→client ${clientGot.size}/${DATAGRAMS} (sender back-offs ${refusedC}/${refusedS})\n`,
    );
    // Loopback should lose none; allow 1% for a loaded machine's socket buffers.
    expect(lossC).toBeLessThanOrEqual(DATAGRAMS / 100);
    expect(lossS).toBeLessThanOrEqual(DATAGRAMS / 100);

    const t1 = performance.now();
    // Capsules both ways.
    const clientValues = capsuleValues(1);
    for (const v of clientValues) if (!tunnel.sendCapsule(TEST_CAPSULE, v)) await tunnel.drained();
    await waitFor(() => serverCapsules.length === 1000 && clientCapsules.length === 1000, 20_000);
    const t2 = performance.now();
    expect(serverCapsules.every((c) => c.type === TEST_CAPSULE)).toBe(true);
    expect(clientCapsules.every((c) => c.type === TEST_CAPSULE)).toBe(true);
    // Order and content: compare digests (vitest's deep equality is slow on 2,000 arrays).
    expect(serverCapsules.map((c) => sha256(c.value))).toEqual(clientValues.map(sha256));
    expect(clientCapsules.map((c) => sha256(c.value))).toEqual(serverValues.map(sha256));
    process.stdout.write(`capsules arrived in ${(t2 - t1).toFixed(0)} ms\n`);

    process.stdout.write(
      `datagram phase ${(t1 - t0).toFixed(0)} ms, capsule phase ${(performance.now() - t1).toFixed(0)} ms\n`,
    );
    // The client ends the tunnel; both sides see a clean end.
    tunnel.close();
    expect(await tunnel.closed).toEqual({ kind: 'end' });
    expect(await s.closed).toEqual({ kind: 'end' });
  }, 60_000);

  it('datagrams sent right after the 2xx reach the client; DATAGRAM capsules count as datagrams', async () => {
    const server = await startServer();
    server.handleConnect('early', (s) => {
      s.accept();
      s.sendDatagram(new Uint8Array([1, 2, 3]));
      // RFC 9297 §3.5: a DATAGRAM capsule is delivered like a datagram.
      s.sendCapsule(0, new Uint8Array([4, 5]));
    });
    const client = await connectClient(server);
    const got: number[][] = [];
    const tunnel = await client.connect('early', '/');
    tunnel.onDatagram((d) => got.push([...d]));
    await waitFor(() => got.length === 2);
    expect(got).toContainEqual([1, 2, 3]);
    expect(got).toContainEqual([4, 5]);
  });

  it('with 1452-byte QUIC packets a 1300-byte payload rides one QUIC DATAGRAM frame', async () => {
    const server = await startServer({ maxUdpPayload: 1452 });
    const sizes: number[] = [];
    server.handleConnect('big', (s) => {
      s.accept();
      s.onDatagram((d) => {
        sizes.push(d.length);
        s.sendDatagram(d);
      });
    });
    const client = await connectClient(server, { maxUdpPayload: 1452 });
    expect(client.connection.maxDatagramPayload).toBeGreaterThan(1300);
    const tunnel = await client.connect('big', '/');
    const echoed: number[] = [];
    tunnel.onDatagram((d) => echoed.push(d.length));
    tunnel.sendDatagram(new Uint8Array(1300).fill(7));
    await waitFor(() => echoed.length === 1);
    expect(sizes).toEqual([1300]);
    expect(echoed).toEqual([1300]);
  });

  it('a protocol without the Capsule Protocol tunnels bytes both ways', async () => {
    const server = await startServer();
    server.handleConnect(
      'echo-bytes',
      async (s) => {
        expect(s.capsuleMode).toBe(false);
        s.accept();
        for await (const chunk of s.data()) s.write(chunk);
      },
      { capsuleProtocol: false },
    );
    const client = await connectClient(server);
    const tunnel = await client.connect('echo-bytes', '/', undefined, { capsuleProtocol: false });
    expect(tunnel.capsuleMode).toBe(false);
    const received: number[] = [];
    tunnel.onData((d) => received.push(...d));
    const sent = pattern(50_000, 9);
    tunnel.write(sent);
    await waitFor(() => received.length === sent.length);
    expect(new Uint8Array(received)).toEqual(sent);
    tunnel.close();
    expect((await tunnel.closed).kind).toBe('end');
  });

  it('capsules sent before any listener is attached are held and delivered in order', async () => {
    const server = await startServer();
    const seen: number[] = [];
    server.handleConnect(
      'held',
      async (s) => {
        s.accept();
        await sleep(50);
        s.onCapsule((c) => seen.push(c.value[0]));
      },
      { knownCapsules: KNOWN },
    );
    const client = await connectClient(server);
    const tunnel = await client.connect('held', '/', undefined, { knownCapsules: KNOWN });
    for (let i = 0; i < 10; i++) tunnel.sendCapsule(TEST_CAPSULE, new Uint8Array([i]));
    await waitFor(() => seen.length === 10);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('the server can reject, and a handler that throws answers 500', async () => {
    const server = await startServer();
    server.handleConnect('refused', (s) => s.reject(403, { 'x-why': 'policy' }));
    server.handleConnect('broken', () => {
      throw new Error('handler bug');
    });
    const client = await connectClient(server);
    const err = await client.connect('refused', '/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(H3HttpError);
    expect(err).toMatchObject({ code: 'CONNECT_REFUSED', status: 403 });
    expect((err as H3HttpError).headers).toContainEqual(['x-why', 'policy']);
    await expect(client.connect('broken', '/')).rejects.toMatchObject({ status: 500 });
  });
});
