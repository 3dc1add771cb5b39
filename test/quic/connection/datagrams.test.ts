import { describe, expect, it } from 'vitest';
import { DatagramTooLargeError } from '../../../src/quic/api.js';
import { Delay, Network } from '../../../src/sim/index.js';
import { ClientNode, clientConfig, ServerNode, serverConfig, T0 } from './harness.js';

function setup(
  clientMax: number,
  serverMax: number,
): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(
    clientConfig(1, { transport: { maxDatagramFrameSize: clientMax } }),
    T0,
  );
  const server = new ServerNode(() =>
    serverConfig(2, { transport: { maxDatagramFrameSize: serverMax } }),
  );
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('DATAGRAM frames (RFC 9221)', () => {
  it('datagrams flow both ways once both sides advertise max_datagram_frame_size', () => {
    const { net, client, server } = setup(65535, 65535);
    expect(client.conn.maxDatagramPayload).toBeGreaterThan(1100);
    expect(client.conn.sendDatagram(text('ping from client'))).toBe(true);
    server.onEvent = (conn, ev) => {
      if (ev.type === 'datagram')
        conn.sendDatagram(text(`echo: ${new TextDecoder().decode(ev.data)}`));
    };
    net.run({ until: net.now + 1_000, done: () => client.log.of('datagram').length > 0 });
    expect(server.log.of('datagram').map((e) => new TextDecoder().decode(e.data))).toEqual([
      'ping from client',
    ]);
    expect(client.log.of('datagram').map((e) => new TextDecoder().decode(e.data))).toEqual([
      'echo: ping from client',
    ]);
  });

  it('a datagram that cannot fit in one packet is refused with DatagramTooLargeError', () => {
    const { client } = setup(65535, 65535);
    const max = client.conn.maxDatagramPayload;
    expect(() => client.conn.sendDatagram(new Uint8Array(max + 1))).toThrow(DatagramTooLargeError);
    expect(client.conn.sendDatagram(new Uint8Array(max))).toBe(true);
  });

  it('the largest datagram fits exactly and arrives', () => {
    const { net, client, server } = setup(65535, 65535);
    const max = client.conn.maxDatagramPayload;
    client.conn.sendDatagram(new Uint8Array(max).fill(7));
    net.run({ until: net.now + 1_000, done: () => server.log.of('datagram').length > 0 });
    expect(server.log.of('datagram')[0]?.data.length).toBe(max);
  });

  it('the peer limit bounds maxDatagramPayload', () => {
    const { client } = setup(65535, 100);
    // 100-byte frames: type (1) + length (2) + 97 bytes of payload.
    expect(client.conn.maxDatagramPayload).toBe(97);
    expect(() => client.conn.sendDatagram(new Uint8Array(98))).toThrow(DatagramTooLargeError);
  });

  it('maxDatagramPayload is 0 when the peer does not accept datagrams', () => {
    const { client } = setup(65535, 0);
    expect(client.conn.maxDatagramPayload).toBe(0);
    expect(() => client.conn.sendDatagram(new Uint8Array(1))).toThrow(DatagramTooLargeError);
  });

  it('the datagram queue drops datagrams beyond its size (unreliable data)', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(
      clientConfig(1, { transport: { maxDatagramFrameSize: 1200 }, datagramQueueSize: 2 }),
      T0,
    );
    const server = new ServerNode(() =>
      serverConfig(2, { transport: { maxDatagramFrameSize: 1200 } }),
    );
    net
      .add(client)
      .add(server)
      .defaultLink([new Delay(10)]);
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(client.conn.sendDatagram(text('a'))).toBe(true);
    expect(client.conn.sendDatagram(text('b'))).toBe(true);
    expect(client.conn.sendDatagram(text('c'))).toBe(false);
  });

  it('a DATAGRAM frame larger than our max_datagram_frame_size is a PROTOCOL_VIOLATION', () => {
    const { net, client, server } = setup(65535, 100);
    // A misbehaving client that ignores the server's limit.
    const peer = client.conn.internals.peerParams;
    if (peer === undefined) throw new Error('no peer parameters');
    peer.maxDatagramFrameSize = 65535;
    client.conn.sendDatagram(new Uint8Array(500));
    net.run({ until: net.now + 1_000, done: () => client.log.of('connection-closed').length > 0 });
    const closed = server.log.of('connection-closed')[0];
    expect(closed?.info).toMatchObject({ errorCode: 0x0a, app: false, byPeer: false });
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x0a,
      byPeer: true,
    });
    expect(server.log.of('datagram')).toEqual([]);
  });

  it('a DATAGRAM frame when we advertised no support is a PROTOCOL_VIOLATION', () => {
    const { net, client, server } = setup(65535, 0);
    const peer = client.conn.internals.peerParams;
    if (peer === undefined) throw new Error('no peer parameters');
    peer.maxDatagramFrameSize = 65535;
    client.conn.sendDatagram(new Uint8Array(10));
    net.run({ until: net.now + 1_000, done: () => client.log.of('connection-closed').length > 0 });
    expect(server.log.of('connection-closed')[0]?.info.errorCode).toBe(0x0a);
  });

  it('a burst is queued, not lost: 200 datagrams sent in one loop all arrive (bounded by bytes)', () => {
    const { net, client, server } = setup(65535, 65535);
    for (let i = 0; i < 200; i++) {
      expect(client.conn.sendDatagram(new Uint8Array(40).fill(i & 0xff))).toBe(true);
    }
    expect(client.conn.queuedDatagramBytes).toBe(200 * 40);
    net.run({ until: net.now + 5_000, done: () => server.log.of('datagram').length === 200 });
    expect(server.log.of('datagram')).toHaveLength(200);
    expect(client.conn.queuedDatagramBytes).toBe(0);
    expect(client.conn.stats.datagramsDroppedTooLarge).toBe(0);
  });

  it('pauses above a quarter of the byte bound, refuses at the bound, then says datagrams-writable', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(
      clientConfig(1, { transport: { maxDatagramFrameSize: 65535 }, datagramQueueBytes: 40_000 }),
      T0,
    );
    const server = new ServerNode(() =>
      serverConfig(2, { transport: { maxDatagramFrameSize: 65535 } }),
    );
    net
      .add(client)
      .add(server)
      .defaultLink([new Delay(10)]);
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    const d = new Uint8Array(1000);
    for (let i = 0; i < 10; i++) expect(client.conn.sendDatagram(d)).toBe(true);
    expect(client.conn.datagramsWritable).toBe(true); // 10,000 bytes: at the quarter, not above
    expect(client.conn.sendDatagram(d)).toBe(true);
    expect(client.conn.datagramsWritable).toBe(false);
    let sent = 11;
    while (client.conn.sendDatagram(d)) sent++;
    expect(sent).toBe(40); // 40 × 1000 bytes fill the bound; the 41st is refused
    net.run({
      until: net.now + 10_000,
      done: () => client.log.of('datagrams-writable').length > 0,
    });
    expect(client.log.of('datagrams-writable')).toHaveLength(1);
    expect(client.conn.datagramsWritable).toBe(true);
    expect(client.conn.queuedDatagramBytes).toBeLessThanOrEqual(5_000);
  });
});
