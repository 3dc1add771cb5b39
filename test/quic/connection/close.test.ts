import { describe, expect, it } from 'vitest';
import { StatelessResetKey } from '../../../src/quic/path/index.js';
import { Delay, Network } from '../../../src/sim/index.js';
import {
  Blackhole,
  ClientNode,
  clientConfig,
  SERVER_ADDR,
  ServerNode,
  serverConfig,
  T0,
} from './harness.js';

function setup(
  clientOverrides: Parameters<typeof clientConfig>[1] = {},
  serverOverrides: Parameters<typeof serverConfig>[1] = {},
  handshake = true,
): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(1, clientOverrides), T0);
  const server = new ServerNode(() => serverConfig(2, serverOverrides));
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  if (handshake) net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

describe('connection close (RFC 9000 §10.2)', () => {
  it('the client closes with an application code: the server drains, both end closed', () => {
    const { net, client, server } = setup();
    const serverConn = server.conn;
    client.conn.close(0x101, 'bye');
    expect(client.conn.state).toBe('closing');
    net.run({ until: net.now + 100 });
    expect(serverConn.state).toBe('draining');
    expect(server.log.of('connection-closed')).toEqual([
      {
        type: 'connection-closed',
        info: { errorCode: 0x101, reason: 'bye', app: true, byPeer: true, cause: 'close' },
      },
    ]);
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x101,
      app: true,
      byPeer: false,
    });
    // Closing and draining last three PTOs, then nothing is left to do.
    const r = net.run({ until: net.now + 10_000 });
    expect(r.reason).toBe('idle');
    expect(client.conn.state).toBe('closed');
    expect(serverConn.state).toBe('closed');
  });

  it('the server closes with an application code and the client learns it', () => {
    const { net, client, server } = setup();
    server.conn.close(0x42, 'server going away');
    net.run({ until: net.now + 100 });
    expect(client.conn.state).toBe('draining');
    expect(client.log.of('connection-closed')[0]?.info).toEqual({
      errorCode: 0x42,
      reason: 'server going away',
      app: true,
      byPeer: true,
      cause: 'close',
    });
  });

  it('a closing endpoint answers a peer that keeps sending with CONNECTION_CLOSE again', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(clientConfig(1), T0);
    const server = new ServerNode(() => serverConfig(2));
    const toServer = new Blackhole();
    net.add(client).add(server);
    net.link(client.address, SERVER_ADDR, [toServer, new Delay(10)]);
    net.defaultLink([new Delay(10)]);
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    const serverConn = server.conn;
    // The first CONNECTION_CLOSE is lost; the server, unaware, keeps sending stream data.
    toServer.active = true;
    client.conn.close(7, 'x');
    net.run({ until: net.now + 5 });
    expect(toServer.dropped).toBe(1);
    toServer.active = false;
    const id = serverConn.openStream(false) as number;
    serverConn.writeStream(id, new Uint8Array(100));
    net.run({ until: net.now + 200 });
    expect(serverConn.state).toBe('draining');
    expect(server.logs.get(serverConn)?.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 7,
      byPeer: true,
    });
  });

  it('an application close before the handshake completes is sent as APPLICATION_ERROR (0x0c)', () => {
    const { net, client, server } = setup({}, {}, false);
    // Let the first flights cross, then close before the client has 1-RTT confirmed.
    net.run({ until: T0 + 12 });
    client.conn.close(0x1234, 'secret reason');
    net.run({ until: T0 + 200 });
    expect(server.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x0c,
      app: false,
      reason: '',
      byPeer: true,
    });
  });
});

describe('idle timeout (RFC 9000 §10.1)', () => {
  it('the connection closes silently after the smaller of both idle timeouts', () => {
    const { net, client, server } = setup(
      { transport: { maxIdleTimeout: 1_000 } },
      { transport: { maxIdleTimeout: 5_000 } },
    );
    const start = net.now;
    const serverConn = server.conn;
    let sent = 0;
    net.onSend = () => sent++;
    net.run({ until: start + 10_000, done: () => client.conn.state === 'closed' });
    // 1 s (the client's value, the smaller) after the last packet of the handshake.
    expect(net.now - start).toBeGreaterThan(950);
    expect(net.now - start).toBeLessThan(1_100);
    net.run({ until: start + 10_000 });
    expect(client.conn.state).toBe('closed');
    expect(serverConn.state).toBe('closed');
    const info = client.log.of('connection-closed')[0]?.info;
    expect(info).toMatchObject({ cause: 'idle-timeout', byPeer: false });
    expect(server.logs.get(serverConn)?.of('connection-closed')[0]?.info.cause).toBe(
      'idle-timeout',
    );
    // Silently: nothing is sent when the timer fires (only the handshake's tail before it).
    expect(sent).toBeLessThan(4);
  });

  it('traffic keeps an idle timer from firing', () => {
    const { net, client } = setup({ transport: { maxIdleTimeout: 1_000 } });
    const id = client.conn.openStream(true) as number;
    for (let i = 0; i < 10; i++) {
      client.conn.writeStream(id, new Uint8Array([i]));
      net.run({ until: net.now + 500 });
    }
    expect(client.conn.state).toBe('established');
    net.run({ until: net.now + 5_000 });
    expect(client.conn.state).toBe('closed');
  });

  it('keep-alive PINGs keep a quiet connection open past the idle timeout (§10.1.2)', () => {
    const { net, client, server } = setup(
      { transport: { maxIdleTimeout: 1_000 }, keepAlive: 400 },
      { transport: { maxIdleTimeout: 1_000 } },
    );
    const serverConn = server.conn;
    let sent = 0;
    net.onSend = () => sent++;
    net.run({ until: net.now + 10_000 });
    // Ten idle timeouts later both sides are still up, kept alive by about 25 PINGs and ACKs.
    expect(client.conn.state).toBe('established');
    expect(serverConn.state).toBe('established');
    expect(sent).toBeGreaterThan(20);
    expect(sent).toBeLessThan(80);
  });

  it('without keep-alive the same quiet connection times out', () => {
    const { net, client } = setup(
      { transport: { maxIdleTimeout: 1_000 } },
      { transport: { maxIdleTimeout: 1_000 } },
    );
    net.run({ until: net.now + 10_000 });
    expect(client.conn.state).toBe('closed');
  });
});

describe('stateless reset (RFC 9000 §10.3)', () => {
  it('a client recognises the reset of a server that lost its state', () => {
    const key = new StatelessResetKey(new Uint8Array(32).fill(5));
    const { net, client, server } = setup({}, { resetTokenFor: key.tokenFor });
    server.resetKey = key;
    server.forget();
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(200));
    net.run({ until: net.now + 1_000 });
    expect(client.conn.state === 'draining' || client.conn.state === 'closed').toBe(true);
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      cause: 'stateless-reset',
      byPeer: true,
    });
  });

  it('a datagram ending in an unknown token is not a reset', () => {
    const key = new StatelessResetKey(new Uint8Array(32).fill(5));
    const other = new StatelessResetKey(new Uint8Array(32).fill(6));
    const { net, client, server } = setup({}, { resetTokenFor: key.tokenFor });
    server.resetKey = other;
    server.forget();
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(200));
    net.run({ until: net.now + 200 });
    expect(client.conn.state).toBe('established');
    expect(server.unroutable.length).toBeGreaterThan(0);
  });
});
