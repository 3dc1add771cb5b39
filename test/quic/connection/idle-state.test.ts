/**
 * What a connection lets go once its handshake is over (issue 10, memory per idle connection;
 * figures: `npm run bench -- memory`): the server's TLS session, and the packet tracking and CRYPTO
 * streams of the discarded Initial and Handshake spaces (RFC 9001 §4.9). What stays must still
 * answer a misbehaving peer as the RFC says.
 */
import { describe, expect, it } from 'vitest';
import { DatagramBuilder } from '../../../src/quic/connection/packet-builder.js';
import { SERVER_TLS_DONE } from '../../../src/quic/connection/tls-adapter.js';
import { encodeFrames } from '../../../src/quic/frames/index.js';
import { PacketSpace } from '../../../src/quic/recovery/index.js';
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

function setup(seed = 1): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(seed), T0);
  const server = new ServerNode(() => serverConfig(seed + 1));
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

function closeCodeAfterCrypto(data: Uint8Array): number | undefined {
  const { net, client, server } = setup();
  const conn = server.conn;
  const payload = encodeFrames([
    { kind: 'CRYPTO', offset: 0, data },
    { kind: 'PADDING', length: 4 },
  ]);
  net.send({ from: client.address, to: SERVER_ADDR, data: forgeOneRtt(client.conn, payload) });
  net.run({ until: net.now + 100 });
  return server.logs.get(conn)?.of('connection-closed')[0]?.info.errorCode;
}

describe('after the handshake', () => {
  it('the server lets its TLS session go; the client keeps its own (tickets come later)', () => {
    const { client, server } = setup();
    expect(server.conn.internals.tls).toBe(SERVER_TLS_DONE);
    expect(client.conn.internals.tls).not.toBe(SERVER_TLS_DONE);
  });

  it('discarded spaces share one empty tracker and CRYPTO stream; the application space keeps its own', () => {
    const a = setup(1);
    const b = setup(5);
    const spaces = [a.client, a.server, b.client, b.server].map((n) => n.conn.internals.spaces);
    const stand = spaces[0][PacketSpace.Initial];
    for (const s of spaces) {
      for (const id of [PacketSpace.Initial, PacketSpace.Handshake]) {
        expect(s[id].discarded).toBe(true);
        expect(s[id].received).toBe(stand.received);
        expect(s[id].crypto).toBe(stand.crypto);
      }
      expect(s[PacketSpace.ApplicationData].received).not.toBe(stand.received);
    }
    // The stand-in was never written to: every connection above ran its handshake through it.
    expect(stand.received.largestReceived).toBe(-1);
    expect(stand.crypto.readable).toBe(0);
  });

  it('a TLS KeyUpdate in 1-RTT CRYPTO data closes with 0x10a (RFC 9001 §6)', () => {
    // HandshakeType key_update (24), length 1, update_not_requested.
    expect(closeCodeAfterCrypto(Uint8Array.of(24, 0, 0, 1, 0))).toBe(0x10a);
  });

  it('even the first byte of a post-handshake message closes with 0x10a', () => {
    expect(closeCodeAfterCrypto(Uint8Array.of(24))).toBe(0x10a);
  });

  it('connections that do not trace share one datagram builder per size', () => {
    expect(DatagramBuilder.shared(1452)).toBe(DatagramBuilder.shared(1452));
    expect(DatagramBuilder.shared(1452)).not.toBe(DatagramBuilder.shared(1200));
  });
});
