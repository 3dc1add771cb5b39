/**
 * Extended CONNECT (RFC 9220) over loopback: a session carries 10,000 HTTP/3 datagrams each way
 * (RFC 9297 §2; unreliable, so their loss is accounted for, not forbidden) and 1,000 capsules
 * each way (RFC 9297 §3), all of them in order; a protocol without capsules tunnels bytes;
 * unknown protocols and plain CONNECT are refused with 501.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Capsule } from '../../../src/capsule/types.js';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import type { ConnectSession } from '../../../src/runtime/h3/connect-session.js';
import type { ServerConnectSession } from '../../../src/runtime/server/index.js';
import { H3HttpError } from '../../../src/runtime/server/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual } from '../../../src/wire/index.js';
import { closeAll, connectClient, pattern, sha256, sleep, startServer, waitFor } from './setup.js';

afterEach(closeAll);

const TEST_CAPSULE = 0x2a5e;
const KNOWN = [[TEST_CAPSULE, 65_536]] as const;
const DATAGRAMS = 10_000;
const DATAGRAM_SIZE = 40;

/** Datagram `i` of the stream tagged `tag`: tag, index, then bytes derived from both. */
function numbered(tag: number, i: number): Uint8Array {
  const p = new Uint8Array(DATAGRAM_SIZE);
  p[0] = tag;
  new DataView(p.buffer).setUint32(1, i);
  for (let k = 5; k < p.length; k++) p[k] = (i * 31 + k + tag) & 0xff;
  return p;
}

/** What one side received of the other's numbered datagrams. */
class Arrivals {
  readonly got = new Set<number>();
  duplicates = 0;
  readonly corrupt: string[] = [];
  constructor(readonly tag: number) {}
  receive(d: Uint8Array): void {
    const i = d.length === DATAGRAM_SIZE ? new DataView(d.buffer, d.byteOffset).getUint32(1) : -1;
    if (i < 0 || i >= DATAGRAMS || d[0] !== this.tag || !bytesEqual(d, numbered(this.tag, i))) {
      this.corrupt.push(Buffer.from(d.subarray(0, 8)).toString('hex'));
    } else if (this.got.has(i)) this.duplicates++;
    else this.got.add(i);
  }
}

/** Sends `n` datagrams numbered 0..n-1, yielding when the transport queue is full. */
async function sendNumbered(send: (p: Uint8Array) => boolean, n: number, tag: number) {
  let refused = 0;
  for (let i = 0; i < n; ) {
    if (send(numbered(tag, i))) i++;
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
  it('10,000 datagrams each way are accounted for and 1,000 capsules each way arrive in order', async () => {
    const server = await startServer();
    const serverGot = new Arrivals(0xc1);
    const serverCapsules: Capsule[] = [];
    let serverSession: ServerConnectSession | undefined;
    const serverValues = capsuleValues(2);
    let startCapsules!: () => void;
    const capsulePhase = new Promise<void>((resolve) => {
      startCapsules = resolve;
    });
    server.handleConnect(
      'test-tunnel',
      async (s) => {
        serverSession = s;
        expect(s.capsuleMode).toBe(true);
        expect(s.path).toBe('/tunnel/1');
        s.onDatagram((d) => serverGot.receive(d));
        s.onCapsule((c) => serverCapsules.push(c));
        s.accept({ 'x-tunnel': 'yes' });
        await capsulePhase;
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
    const clientGot = new Arrivals(0x5e);
    const clientCapsules: Capsule[] = [];
    tunnel.onDatagram((d) => clientGot.receive(d));
    tunnel.onCapsule((c) => clientCapsules.push(c));
    await waitFor(() => serverSession !== undefined);
    const s = serverSession as ServerConnectSession;
    const clientConn = client.connection;
    const serverConn = s.driver.connection as unknown as QuicConnection;

    // Datagrams both ways at once, and nothing else in flight meanwhile.
    const lostBefore = [clientConn.stats.lostPackets, serverConn.stats.lostPackets];
    const t0 = performance.now();
    const [refusedC, refusedS] = await Promise.all([
      sendNumbered((p) => tunnel.sendDatagram(p), DATAGRAMS, 0xc1),
      sendNumbered((p) => s.sendDatagram(p), DATAGRAMS, 0x5e),
    ]);
    // Datagrams are unreliable (RFC 9221 §5): a loaded machine's socket buffers may drop some.
    // What must hold anyway: nothing corrupted, duplicated or invented, and every missing one
    // explained: it rode a QUIC packet its sender declared lost during this phase (at most one
    // packet's worth of datagrams per lost packet), or the receiver counted it dropped. Wait
    // until that holds with no packet in flight either way (a datagram still queued keeps the
    // count short until it has been sent and has arrived or been declared lost); a datagram
    // dropped silently never lets it hold.
    const perPacket = Math.ceil(clientConn.maxDatagramPayload / DATAGRAM_SIZE);
    const lost = (sender: QuicConnection, before: number) => sender.stats.lostPackets - before;
    const unexplained = (got: Arrivals, sender: QuicConnection, lostBefore: number) => {
      const receiver: ConnectSession = sender === clientConn ? s : tunnel;
      return (
        DATAGRAMS -
        got.got.size -
        lost(sender, lostBefore) * perPacket -
        receiver.droppedDatagrams -
        receiver.driver.session.stats.droppedDatagrams
      );
    };
    const report = () =>
      `datagrams: client→server ${serverGot.got.size}/${DATAGRAMS} (client lost ` +
      `${lost(clientConn, lostBefore[0])} packets), server→client ${clientGot.got.size}/` +
      `${DATAGRAMS} (server lost ${lost(serverConn, lostBefore[1])} packets); corrupt ` +
      `${serverGot.corrupt.length}/${clientGot.corrupt.length}, duplicates ` +
      `${serverGot.duplicates}/${clientGot.duplicates}; sender back-offs ${refusedC}/${refusedS}`;
    await waitFor(
      () =>
        clientConn.stats.bytesInFlight === 0 &&
        serverConn.stats.bytesInFlight === 0 &&
        unexplained(serverGot, clientConn, lostBefore[0]) <= 0 &&
        unexplained(clientGot, serverConn, lostBefore[1]) <= 0,
      20_000,
    ).catch(() => {
      throw new Error(`missing datagrams not explained by packet loss: ${report()}`);
    });
    process.stdout.write(`${report()}\n`);
    for (const got of [serverGot, clientGot]) {
      expect(got.corrupt).toEqual([]);
      expect(got.duplicates).toBe(0);
      // Loss is the exception, not the rule: most arrive even on a loaded machine.
      expect(got.got.size).toBeGreaterThan(DATAGRAMS / 2);
    }

    const t1 = performance.now();
    // Capsules both ways: reliable, so every one arrives, in order.
    startCapsules();
    const clientValues = capsuleValues(1);
    for (const v of clientValues) if (!tunnel.sendCapsule(TEST_CAPSULE, v)) await tunnel.drained();
    await waitFor(() => serverCapsules.length === 1000 && clientCapsules.length === 1000, 20_000);
    const t2 = performance.now();
    expect(serverCapsules.every((c) => c.type === TEST_CAPSULE)).toBe(true);
    expect(clientCapsules.every((c) => c.type === TEST_CAPSULE)).toBe(true);
    // Order and content: compare digests (vitest's deep equality is slow on 2,000 arrays).
    expect(serverCapsules.map((c) => sha256(c.value))).toEqual(clientValues.map(sha256));
    expect(clientCapsules.map((c) => sha256(c.value))).toEqual(serverValues.map(sha256));
    process.stdout.write(
      `datagram phase ${(t1 - t0).toFixed(0)} ms, capsule phase ${(t2 - t1).toFixed(0)} ms\n`,
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

  it('once PMTU discovery grew the packets (default settings), a 1300-byte payload rides one QUIC DATAGRAM frame', async () => {
    const server = await startServer();
    const sizes: number[] = [];
    server.handleConnect('big', (s) => {
      s.accept();
      s.onDatagram((d) => {
        sizes.push(d.length);
        s.sendDatagram(d);
      });
    });
    const client = await connectClient(server);
    await waitFor(() => client.connection.maxDatagramPayload > 1300);
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
    let arrived = false;
    server.handleConnect(
      'held',
      async (s) => {
        s.accept();
        // No listener until the capsules are at this end (the test sets `arrived`, below).
        while (!arrived) await sleep(5);
        s.onCapsule((c) => seen.push(c.value[0]));
      },
      { knownCapsules: KNOWN },
    );
    const client = await connectClient(server);
    const tunnel = await client.connect('held', '/', undefined, { knownCapsules: KNOWN });
    for (let i = 0; i < 10; i++) tunnel.sendCapsule(TEST_CAPSULE, new Uint8Array([i]));
    await Promise.resolve(); // the capsules leave in a microtask, queued before this one
    // The server acknowledged every packet: it has the capsules, and still no listener.
    await waitFor(() => client.connection.stats.bytesInFlight === 0);
    expect(seen).toEqual([]);
    arrived = true;
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
