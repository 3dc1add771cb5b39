/**
 * The endpoint with real `QuicConnection`s, in memory: two endpoints exchange datagrams through a
 * tiny pump; virtual time starts at a real date because TLS checks certificate validity.
 */
import { describe, expect, it } from 'vitest';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import { CidSteering } from '../../../src/quic/cid/steering.js';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import {
  QuicEndpoint,
  type QuicEndpointOptions,
  quicClientFactory,
  quicServerFactory,
} from '../../../src/quic/endpoint/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { loadServerCredential } from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';

const T0 = Date.UTC(2026, 5, 1);
const CLIENT = '10.0.0.1:5000';
const SERVER = '10.0.0.2:443';
const CERT = generateDevCert({ now: T0, random: new SeededRandom(7) });
const CREDENTIAL = loadServerCredential(CERT.certPem, CERT.keyPem);

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];
type Ep = QuicEndpoint<QuicConnection, ClientCfg>;

function serverEndpoint(
  seed: number,
  options: Partial<QuicEndpointOptions<QuicConnection, ClientCfg>> = {},
  issueNewTokens = false,
): Ep {
  return new QuicEndpoint<QuicConnection, ClientCfg>({
    random: new SeededRandom(seed),
    createServerConnection: quicServerFactory(
      { random: new SeededRandom(seed + 100), alpn: ['h3'], tls: { credentials: [CREDENTIAL] } },
      { issueNewTokens },
    ),
    ...options,
  });
}

function clientEndpoint(seed: number): Ep {
  return new QuicEndpoint<QuicConnection, ClientCfg>({
    random: new SeededRandom(seed),
    createClientConnection: quicClientFactory(),
  });
}

function clientConfig(seed: number, token?: Uint8Array): ClientCfg {
  return {
    token,
    random: new SeededRandom(seed),
    alpn: ['h3'],
    tls: { serverName: 'localhost', verify: { ca: [CERT.certPem], noSystemRoots: true } },
  };
}

/** Moves datagrams between the two endpoints until both are quiet; returns how many moved. */
function pump(
  client: Ep,
  server: Ep,
  now: number,
  fromServer?: (datagram: Uint8Array) => void,
): number {
  let moved = 0;
  for (let round = 0; round < 1000; round++) {
    let any = false;
    for (let t = client.pollTransmit(now); t !== undefined; t = client.pollTransmit(now)) {
      if (t.to === SERVER) server.receive(t.data, CLIENT, now);
      any = true;
      moved++;
    }
    for (let t = server.pollTransmit(now); t !== undefined; t = server.pollTransmit(now)) {
      fromServer?.(t.data);
      if (t.to === CLIENT) client.receive(t.data, SERVER, now);
      any = true;
      moved++;
    }
    if (!any) return moved;
  }
  throw new Error('pump never settles');
}

function events(conn: QuicConnection): QuicAppEvent[] {
  const out: QuicAppEvent[] = [];
  for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) out.push(e);
  return out;
}

function acceptedConnection(server: Ep): QuicConnection {
  const ev = server.pollEvent();
  if (ev?.type !== 'connection') throw new Error(`expected a connection event, got ${ev?.type}`);
  return ev.conn;
}

/** Client writes `text` on a new stream; the server echoes it; returns what the client read. */
function echo(client: Ep, server: Ep, cConn: QuicConnection, sConn: QuicConnection, text: string) {
  const id = cConn.openStream(true);
  if (id === undefined) throw new Error('no stream');
  cConn.writeStream(id, new TextEncoder().encode(text), true);
  // Application calls queue work the endpoints cannot see: flag the connections.
  client.markActive(cConn);
  pump(client, server, T0 + 10);
  for (const e of events(sConn)) {
    if (e.type === 'stream-data') sConn.writeStream(e.streamId, e.data, e.fin);
  }
  server.markActive(sConn);
  pump(client, server, T0 + 20);
  let got = '';
  for (const e of events(cConn)) {
    if (e.type === 'stream-data' && e.streamId === id) got += new TextDecoder().decode(e.data);
  }
  return got;
}

describe('endpoint + QuicConnection, in memory', () => {
  it('a client connects through its endpoint, the server endpoint accepts, a stream echoes', () => {
    const server = serverEndpoint(1);
    const client = clientEndpoint(2);
    const cConn = client.connect(clientConfig(3), SERVER, T0);
    pump(client, server, T0);
    const sConn = acceptedConnection(server);
    expect(cConn.state).toBe('established');
    expect(sConn.state).toBe('established');
    expect(events(cConn)[0]).toMatchObject({ type: 'handshake-complete', alpn: 'h3' });
    expect(events(sConn)[0]).toMatchObject({ type: 'handshake-complete', alpn: 'h3' });
    // The server's CIDs (handshake CID and those issued after it) all route to it.
    expect(sConn.localCids.length).toBeGreaterThan(1);
    for (const cid of sConn.localCids) expect(server.isCidRouted(cid)).toBe(true);
    expect(echo(client, server, cConn, sConn, 'hello over the endpoint')).toBe(
      'hello over the endpoint',
    );
  });

  it('with Retry always, the retried handshake completes (transport parameters agree, §7.3)', () => {
    const server = serverEndpoint(4, { retry: 'always' });
    const client = clientEndpoint(5);
    const cConn = client.connect(clientConfig(6), SERVER, T0);
    pump(client, server, T0);
    expect(server.stats().retrySent).toBe(1);
    const sConn = acceptedConnection(server);
    expect(cConn.state).toBe('established');
    expect(sConn.state).toBe('established');
    expect(echo(client, server, cConn, sConn, 'after retry')).toBe('after retry');
  });

  it('a restarted server sharing the reset key resets the client statelessly (§10.3)', () => {
    const key = new Uint8Array(32).fill(0x61);
    const server = serverEndpoint(7, { statelessResetKey: key });
    const client = clientEndpoint(8);
    const cConn = client.connect(clientConfig(9), SERVER, T0);
    pump(client, server, T0);
    expect(cConn.state).toBe('established');
    events(cConn);
    // The server loses its state; its successor keeps the key.
    const restarted = serverEndpoint(10, { statelessResetKey: key });
    const id = cConn.openStream(true) as number;
    cConn.writeStream(id, new Uint8Array(100), false);
    client.markActive(cConn);
    pump(client, restarted, T0 + 50);
    expect(restarted.stats().resetsSent).toBeGreaterThan(0);
    expect(client.stats().resetsDetected).toBe(1);
    expect(cConn.state === 'draining' || cConn.state === 'closed').toBe(true);
    const closed = events(cConn).find((e) => e.type === 'connection-closed');
    expect(closed).toMatchObject({ info: { cause: 'stateless-reset' } });
  });

  it('closing the client removes it from its endpoint once its timers run out', () => {
    const server = serverEndpoint(11);
    const client = clientEndpoint(12);
    const cConn = client.connect(clientConfig(13), SERVER, T0);
    pump(client, server, T0);
    const sConn = acceptedConnection(server);
    cConn.close(0x42, 'done');
    client.markActive(cConn);
    pump(client, server, T0 + 30);
    let now = T0 + 30;
    for (
      let i = 0;
      i < 100 && (client.stats().connections > 0 || server.stats().connections > 0);
      i++
    ) {
      const next = Math.min(client.nextTimeout() ?? Infinity, server.nextTimeout() ?? Infinity);
      if (next === Infinity) break;
      now = Math.max(now, next);
      client.handleTimeout(now);
      server.handleTimeout(now);
      pump(client, server, now);
    }
    expect(client.stats().connections).toBe(0);
    expect(server.stats().connections).toBe(0);
    expect(client.pollEvent()).toEqual({ type: 'closed', conn: cConn });
    expect(server.pollEvent()).toEqual({ type: 'closed', conn: sConn });
    const closed = events(sConn).find((e) => e.type === 'connection-closed');
    expect(closed).toMatchObject({ info: { errorCode: 0x42, app: true, byPeer: true } });
  });

  it('a NEW_TOKEN token from one connection lets the next skip the Retry (§8.1.3)', () => {
    const server = serverEndpoint(14, { retry: 'always' }, true);
    const client = clientEndpoint(15);
    const first = client.connect(clientConfig(16), SERVER, T0);
    pump(client, server, T0);
    expect(first.state).toBe('established');
    expect(server.stats().retrySent).toBe(1);
    expect(first.receivedTokens.length).toBeGreaterThan(0);
    const token = first.receivedTokens[first.receivedTokens.length - 1];
    const second = client.connect(clientConfig(17, token), SERVER, T0 + 1000);
    pump(client, server, T0 + 1000);
    expect(second.state).toBe('established');
    expect(server.stats().retrySent).toBe(1);
  });
});

describe('CID steering: one of several workers on a port (src/quic/cid/steering.ts)', () => {
  it('the Retry SCID and every CID the server issues name its worker; the connection works', () => {
    const steering = new CidSteering(2, 3);
    const server = serverEndpoint(30, { retry: 'always', cidSteering: steering });
    const client = clientEndpoint(31);
    const cConn = client.connect(clientConfig(32), SERVER, T0);
    const retryScids: Uint8Array[] = [];
    pump(client, server, T0, (d) => {
      // A Retry (RFC 9000 §17.2.5): long header, type 3; its SCID follows the DCID.
      if ((d[0] & 0xf0) !== 0xf0) return;
      const scidAt = 6 + d[5];
      retryScids.push(d.subarray(scidAt + 1, scidAt + 1 + d[scidAt]));
    });
    expect(retryScids).toHaveLength(1);
    expect(CidSteering.workerOf(retryScids[0], 3)).toBe(2);
    const sConn = acceptedConnection(server);
    expect(cConn.state).toBe('established');
    // The handshake CID and the NEW_CONNECTION_ID ones (§5.1.1).
    expect(sConn.localCids.length).toBeGreaterThan(1);
    for (const c of sConn.localCids) expect(CidSteering.workerOf(c, 3)).toBe(2);
    expect(echo(client, server, cConn, sConn, 'steered')).toBe('steered');
  });

  it('enforced, a short header for no connection naming another worker is dropped, not reset', () => {
    const key = new Uint8Array(32).fill(0x33);
    const steering = new CidSteering(0, 2);
    const server = serverEndpoint(40, { statelessResetKey: key, cidSteering: steering });
    const short = (last: number): Uint8Array => {
      const d = new Uint8Array(60).fill(0x5a);
      d[0] = 0x40;
      d[8] = last; // the last byte of an 8-byte DCID
      return d;
    };
    const sent = (): number => {
      let n = 0;
      while (server.pollTransmit(T0) !== undefined) n++;
      return n;
    };
    // Not yet enforced (no kernel program): the hash may have sent it anywhere; reset it.
    server.receive(short(1), CLIENT, T0);
    expect(sent()).toBe(1);
    steering.enforced = true;
    server.receive(short(1), CLIENT, T0);
    expect(sent()).toBe(0);
    expect(server.stats().dropped['other-worker']).toBe(1);
    server.receive(short(4), CLIENT, T0);
    expect(sent()).toBe(1);
    expect(server.stats().resetsSent).toBe(2);
  });
});
