import { describe, expect, it } from 'vitest';
import { Delay, Nat, Network } from '../../../src/sim/index.js';
import {
  CLIENT_ADDR,
  ClientNode,
  clientConfig,
  SERVER_ADDR,
  ServerNode,
  StreamCollector,
  serverConfig,
  T0,
} from './harness.js';

const REBOUND = '10.0.0.1:6000';

describe('NAT rebinding (RFC 9000 §9.3)', () => {
  it('the server validates the new path and the connection continues on it', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(clientConfig(), T0);
    const frames: string[][] = [];
    const server = new ServerNode(() =>
      serverConfig(2, {
        qlog: (e) => {
          if (e.name === 'transport:packet_sent') {
            const list = e.data.frames as Array<{ frame_type: string }>;
            frames.push(list.map((f) => f.frame_type.toUpperCase()));
          }
        },
      }),
    );
    const nat = new Nat();
    net.add(client).add(server);
    net.link(CLIENT_ADDR, SERVER_ADDR, [nat, new Delay(10)]);
    net.defaultLink([new Delay(10)]);
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    const got = new StreamCollector();
    server.onEvent = (conn, ev) => {
      got.add(ev);
      if (ev.type === 'stream-data') conn.writeStream(ev.streamId, ev.data, ev.fin);
    };
    const echoed = new StreamCollector();
    client.onEvent = (_c, ev) => echoed.add(ev);

    // The NAT gives the client a new port; datagrams to it still reach the client.
    nat.map.set(CLIENT_ADDR, REBOUND);
    net.alias(REBOUND, client);
    let bigToNew = 0;
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new TextEncoder().encode('after rebinding'));
    const serverConn = server.conn;
    net.onSend = (d) => {
      if (d.from === SERVER_ADDR && d.to === REBOUND && d.data.length >= 1200) bigToNew++;
    };
    net.run({ until: net.now + 500 });
    expect(serverConn.remote).toBe(REBOUND);
    // Two validations: the first challenge was held to the amplification limit, so a second one
    // in a datagram expanded to 1200 bytes checks the path MTU (§8.2.1); both were answered.
    expect(frames.filter((f) => f.includes('PATH_CHALLENGE')).length).toBe(2);
    expect(bigToNew).toBeGreaterThan(0);
    expect(serverConn.internals.path.validator).toBeUndefined();
    expect(serverConn.internals.path.amp.validated).toBe(true);
    expect(new TextDecoder().decode(echoed.bytes(id))).toBe('after rebinding');
    // More data keeps flowing on the new path.
    client.conn.writeStream(id, new TextEncoder().encode('!'), true);
    net.run({ until: net.now + 500, done: () => echoed.finished.has(id) });
    expect(new TextDecoder().decode(echoed.bytes(id))).toBe('after rebinding!');
  });

  it('before validation, the server sends at most three times what it received on the new path', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(clientConfig(), T0);
    const server = new ServerNode(() => serverConfig());
    const nat = new Nat();
    net.add(client).add(server);
    net.link(CLIENT_ADDR, SERVER_ADDR, [nat, new Delay(10)]);
    net.defaultLink([new Delay(10)]);
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    const serverConn = server.conn;
    const id = serverConn.openStream(false) as number;
    // A spoofed-looking rebinding: replies to the new address vanish, so validation cannot finish.
    nat.map.set(CLIENT_ADDR, REBOUND);
    const toNew: number[] = [];
    net.onSend = (d) => {
      if (d.to === REBOUND) toNew.push(d.data.length);
    };
    const probe = client.conn.openStream(true) as number;
    client.conn.writeStream(probe, new Uint8Array(30));
    serverConn.writeStream(id, new Uint8Array(100_000));
    net.run({ until: net.now + 100 });
    const sent = toNew.reduce((a, b) => a + b, 0);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(3 * serverConn.internals.path.amp.bytesReceived);
  });
});
