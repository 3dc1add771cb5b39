/**
 * The packet seam of a running HTTP/3 server (`claimDatagram`, `server.packets`) over loopback:
 * what MASQUE forwarded mode and loop detection need below HTTP/3. And the server's wake-up work:
 * a datagram pumps the HTTP/3 driver of the connection it reached, not every connection's.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import type { ClaimHeaderInfo } from '../../../src/quic/endpoint/index.js';
import { SessionDriver } from '../../../src/runtime/h3/driver.js';
import type { H3Server } from '../../../src/runtime/server/index.js';
import { systemRandom } from '../../../src/util/random.js';
import { closeAll, connectClient, startServer, waitFor } from './setup.js';

const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await closeAll();
});

/** A plain UDP socket on 127.0.0.1 recording what it receives (and from which port). */
async function rawSocket(): Promise<{
  sock: Socket;
  address: string;
  got: Array<{ data: Uint8Array; port: number }>;
}> {
  const sock = createSocket('udp4');
  sockets.push(sock);
  const got: Array<{ data: Uint8Array; port: number }> = [];
  sock.on('message', (m, r) => got.push({ data: new Uint8Array(m), port: r.port }));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return { sock, address: `127.0.0.1:${sock.address().port}`, got };
}

/** A 1-RTT-looking datagram (RFC 9000 §17.3: fixed bit set) to `dcid`, `size` bytes long. */
function shortDatagram(dcid: Uint8Array, size = 48): Uint8Array {
  const d = new Uint8Array(size).fill(0xab);
  d[0] = 0x40;
  d.set(dcid, 1);
  return d;
}

function send(sock: Socket, data: Uint8Array, server: H3Server): void {
  sock.send(data, server.port, '127.0.0.1');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function serverConnections(server: H3Server): QuicConnection[] {
  return server.endpoint.endpoint.connections();
}

describe('H3Server packet seam over loopback', () => {
  it('claimDatagram sees a datagram before connection lookup, even one for a live connection', async () => {
    const raw = await rawSocket();
    const claimed: Array<{ header: ClaimHeaderInfo; length: number }> = [];
    const server = await startServer({
      claimDatagram: (datagram, header, remote) => {
        if (remote !== raw.address) return false;
        claimed.push({ header: { ...header, dcid: header.dcid.slice() }, length: datagram.length });
        return true;
      },
    });
    server.onRequest((_req, res) => res.end('ok'));
    const client = await connectClient(server);
    expect(await (await client.request()).text()).toBe('ok');
    const liveCid = client.connection.peerCid as Uint8Array;
    const [conn] = serverConnections(server);
    const undecryptable = conn.stats.undecryptable;

    send(raw.sock, shortDatagram(liveCid, 60), server);
    await waitFor(() => claimed.length === 1);
    expect(claimed[0]).toEqual({
      header: { form: 'short', dcid: liveCid, version: undefined },
      length: 60,
    });
    expect(server.endpoint.endpoint.stats().claimed).toBe(1);
    // The connection never saw it (it would have failed to decrypt it).
    expect(conn.stats.undecryptable).toBe(undecryptable);
    expect(await (await client.request()).text()).toBe('ok');
  });

  it('claimCid routes a CID to a handler that answers with sendRaw; unclaimCid ends it', async () => {
    const raw = await rawSocket();
    const server = await startServer({ localCidLength: 12 });
    const seam = server.packets;
    expect(seam.localCidLength).toBe(12);
    const client = await connectClient(server);
    const liveCid = client.connection.peerCid as Uint8Array;
    // A live connection's CID routes here; a random one does not.
    expect(liveCid.length).toBe(12);
    expect(seam.isCidRouted(liveCid)).toBe(true);
    const vcid = new Uint8Array(12);
    systemRandom.fill(vcid);
    expect(seam.isCidRouted(vcid)).toBe(false);

    const handled: string[] = [];
    seam.claimCid(vcid, (datagram, remote) => {
      handled.push(`${datagram.length} from ${remote}`);
      // Answering from inside the receive path: sent by the flush that ends this input.
      seam.sendRaw(datagram.subarray(0, 5), remote);
    });
    expect(seam.isCidRouted(vcid)).toBe(true);
    send(raw.sock, shortDatagram(vcid, 50), server);
    await waitFor(() => raw.got.length === 1);
    expect(handled).toEqual([`50 from ${raw.address}`]);
    expect(hex(raw.got[0].data)).toBe(hex(shortDatagram(vcid, 50).subarray(0, 5)));
    expect(raw.got[0].port).toBe(server.port);

    seam.unclaimCid(vcid);
    expect(seam.isCidRouted(vcid)).toBe(false);
    const received = server.endpoint.endpoint.stats().received;
    send(raw.sock, shortDatagram(vcid, 50), server);
    await waitFor(() => server.endpoint.endpoint.stats().received === received + 1);
    expect(handled).toHaveLength(1);
    // Unclaimed, the CID routes nowhere: the server (which keys stateless resets by default)
    // answers with a reset smaller than the trigger (RFC 9000 §10.3, §10.3.3).
    await waitFor(() => raw.got.length === 2);
    expect(server.endpoint.endpoint.stats().resetsSent).toBe(1);
    expect(raw.got[1].data.length).toBeLessThan(50);
  });

  it('sendRaw outside any input leaves at once, from the server socket', async () => {
    const raw = await rawSocket();
    const server = await startServer();
    server.packets.sendRaw(new Uint8Array([1, 2, 3, 4]), raw.address);
    await waitFor(() => raw.got.length === 1);
    expect([...raw.got[0].data]).toEqual([1, 2, 3, 4]);
    expect(raw.got[0].port).toBe(server.port);
  });
});

describe('H3Server wake-up work', () => {
  it('requests on one connection pump only its HTTP/3 driver, not the idle connections', async () => {
    const server = await startServer();
    server.onRequest((_req, res) => res.end('ok'));
    const idle = await Promise.all(Array.from({ length: 5 }, () => connectClient(server)));
    const idleServerSide = new Set(serverConnections(server));
    expect(idleServerSide.size).toBe(5);
    const busy = await connectClient(server);
    const busyServerSide = serverConnections(server).find((c) => !idleServerSide.has(c));
    // Let post-handshake timers (ACKs, HANDSHAKE_DONE, key discard) run out on both sides, so that
    // nothing but the input below reaches the idle connections.
    const quiet = (c: QuicConnection): boolean =>
      (c.nextTimeout() ?? Number.POSITIVE_INFINITY) > server.endpoint.now() + 5_000;
    await waitFor(
      () =>
        [...idleServerSide].every(quiet) &&
        idle.every((c) => quiet(c.connection)) &&
        quiet(busy.connection),
      10_000,
    );
    const pump = vi.spyOn(SessionDriver.prototype, 'pump');
    try {
      for (let i = 0; i < 3; i++) expect(await (await busy.request()).text()).toBe('ok');
      const pumped = new Set(
        pump.mock.contexts
          .map((d) => (d as SessionDriver).connection as QuicConnection)
          .filter((c) => c.role === 'server'),
      );
      expect([...pumped]).toEqual([busyServerSide]);
    } finally {
      pump.mockRestore();
    }
  });
});
