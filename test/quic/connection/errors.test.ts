/**
 * The error boundary: a peer that breaks a rule gets CONNECTION_CLOSE with the RFC's code. The
 * misbehaving packets are forged with the client's real 1-RTT keys, so they pass decryption and
 * reach the rule under test.
 */
import { describe, expect, it } from 'vitest';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import { encodeFrames, type Frame } from '../../../src/quic/frames/index.js';
import { Delay, Network } from '../../../src/sim/index.js';
import {
  ClientNode,
  clientConfig,
  forgeOneRtt,
  SERVER_ADDR,
  ServerNode,
  serverConfig,
  T0,
} from './harness.js';

function setup(serverOverrides: Parameters<typeof serverConfig>[1] = {}): {
  net: Network;
  client: ClientNode;
  server: ServerNode;
} {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(), T0);
  const server = new ServerNode(() => serverConfig(2, serverOverrides));
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

function inject(
  net: Network,
  client: ClientNode,
  server: ServerNode,
  payload: Uint8Array,
  reservedBits = 0,
): QuicConnection {
  const serverConn = server.conn;
  net.send({
    from: client.address,
    to: SERVER_ADDR,
    data: forgeOneRtt(client.conn, payload, reservedBits),
  });
  net.run({ until: net.now + 100 });
  return serverConn;
}

function closeCode(server: ServerNode, conn: QuicConnection): number | undefined {
  return server.logs.get(conn)?.of('connection-closed')[0]?.info.errorCode;
}

const frames = (...f: Frame[]): Uint8Array => encodeFrames(f);

describe('protocol errors close the connection with the RFC code', () => {
  it('non-zero reserved bits in a short header: PROTOCOL_VIOLATION (RFC 9000 §17.3.1)', () => {
    const { net, client, server } = setup();
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'PING' }, { kind: 'PADDING', length: 10 }),
      0b11,
    );
    expect(closeCode(server, conn)).toBe(0x0a);
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x0a,
      byPeer: true,
    });
  });

  it('HANDSHAKE_DONE from a client: PROTOCOL_VIOLATION (RFC 9000 §19.20)', () => {
    const { net, client, server } = setup();
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'HANDSHAKE_DONE' }, { kind: 'PADDING', length: 4 }),
    );
    expect(closeCode(server, conn)).toBe(0x0a);
  });

  it('NEW_TOKEN from a client: PROTOCOL_VIOLATION (RFC 9000 §19.7)', () => {
    const { net, client, server } = setup();
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'NEW_TOKEN', token: new Uint8Array([1, 2]) }),
    );
    expect(closeCode(server, conn)).toBe(0x0a);
  });

  it('a packet without frames: PROTOCOL_VIOLATION (RFC 9000 §12.4)', () => {
    const { net, client, server } = setup();
    const conn = inject(net, client, server, new Uint8Array(0));
    expect(closeCode(server, conn)).toBe(0x0a);
  });

  it('an unknown frame type: FRAME_ENCODING_ERROR (RFC 9000 §12.4)', () => {
    const { net, client, server } = setup();
    const conn = inject(net, client, server, new Uint8Array([0x21, 0, 0, 0]));
    expect(closeCode(server, conn)).toBe(0x07);
  });

  it('an ACK for a packet never sent: PROTOCOL_VIOLATION (RFC 9000 §13.1)', () => {
    const { net, client, server } = setup();
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'ACK', ranges: [[1000, 1000]], ackDelay: 0, ecn: null }),
    );
    expect(closeCode(server, conn)).toBe(0x0a);
  });

  it('a STREAM frame on a stream the server may only send on: STREAM_STATE_ERROR (RFC 9000 §19.8)', () => {
    const { net, client, server } = setup();
    // Stream 3: server-initiated unidirectional.
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'STREAM', streamId: 3, offset: 0, data: new Uint8Array(4), fin: false }),
    );
    expect(closeCode(server, conn)).toBe(0x05);
  });

  it('data beyond MAX_STREAM_DATA: FLOW_CONTROL_ERROR (RFC 9000 §4.1)', () => {
    const { net, client, server } = setup({ transport: { initialMaxStreamDataBidiRemote: 100 } });
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'STREAM', streamId: 0, offset: 0, data: new Uint8Array(101), fin: false }),
    );
    expect(closeCode(server, conn)).toBe(0x03);
  });

  it('retiring the CID the packet was sent to: PROTOCOL_VIOLATION (RFC 9000 §19.16)', () => {
    const { net, client, server } = setup();
    const conn = inject(
      net,
      client,
      server,
      frames({ kind: 'RETIRE_CONNECTION_ID', sequenceNumber: 0 }, { kind: 'PADDING', length: 4 }),
    );
    expect(closeCode(server, conn)).toBe(0x0a);
  });

  it('an undecryptable packet is dropped silently and counted', () => {
    const { net, client, server } = setup();
    const bad = forgeOneRtt(client.conn, frames({ kind: 'PING' }, { kind: 'PADDING', length: 30 }));
    bad[bad.length - 1] ^= 1;
    const conn = server.conn;
    net.send({ from: client.address, to: SERVER_ADDR, data: bad });
    net.run({ until: net.now + 100 });
    expect(conn.state).toBe('established');
    expect(conn.stats.undecryptable).toBe(1);
  });
});
