/**
 * Path MTU discovery end to end in the simulator (RFC 9000 §14.2-§14.4, RFC 8899): two
 * connections with default settings over links that drop datagrams above an MTU. Virtual time,
 * seeded randomness: every run is the same.
 */
import { describe, expect, it } from 'vitest';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import type {
  ClientConfig,
  QlogEvent,
  QuicConnection,
  ServerConfig,
} from '../../../src/quic/connection/index.js';
import { BASE_PLPMTU, MAX_PROBES, SEARCH_GRANULARITY } from '../../../src/quic/path/index.js';
import { initialWindow } from '../../../src/quic/recovery/index.js';
import { Bandwidth, Delay, type LinkElement, Nat, Network } from '../../../src/sim/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import {
  CLIENT_ADDR,
  ClientNode,
  clientConfig,
  SERVER_ADDR,
  ServerNode,
  StreamCollector,
  serverConfig,
  T0,
  VariableMtu,
} from './harness.js';

/** One-way delay of the links: RTT 20 ms. */
const ONE_WAY = 10;
const RTT = 2 * ONE_WAY;

interface Pair {
  net: Network;
  client: ClientNode;
  server: ServerNode;
  mtu: VariableMtu;
  clientQlog: QlogEvent[];
  serverQlog: QlogEvent[];
  /** Sizes of the datagrams each side sent (before the link). */
  sentBy: { client: number[]; server: number[] };
}

function setup(
  opts: {
    mtu?: number;
    client?: Partial<ClientConfig>;
    server?: Partial<ServerConfig>;
    /** More link elements, between the MTU and the delay (both directions). */
    links?: LinkElement[];
  } = {},
): Pair {
  const net = new Network();
  net.now = T0;
  const mtu = new VariableMtu(opts.mtu ?? 1500);
  const clientQlog: QlogEvent[] = [];
  const serverQlog: QlogEvent[] = [];
  const client = new ClientNode(
    clientConfig(1, {
      transport: { maxDatagramFrameSize: 65535 },
      qlog: (e) => clientQlog.push(e),
      ...opts.client,
    }),
    T0,
  );
  const server = new ServerNode(() =>
    serverConfig(2, {
      transport: { maxDatagramFrameSize: 65535 },
      qlog: (e) => serverQlog.push(e),
      ...opts.server,
    }),
  );
  const sentBy = { client: [] as number[], server: [] as number[] };
  net.onSend = (d) => {
    (d.from === SERVER_ADDR ? sentBy.server : sentBy.client).push(d.data.length);
  };
  net
    .add(client)
    .add(server)
    .defaultLink([mtu, ...(opts.links ?? []), new Delay(ONE_WAY)]);
  const r = net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  expect(r.reason).toBe('done');
  return { net, client, server, mtu, clientQlog, serverQlog, sentBy };
}

const complete = (conn: QuicConnection): boolean => conn.pmtu.state === 'search-complete';

/** Runs until both ends finished searching; returns the virtual time it took. */
function converge(p: Pair, limitMs = 10_000): number {
  const start = p.net.now;
  const r = p.net.run({
    until: start + limitMs,
    done: () => complete(p.client.conn) && complete(p.server.conn),
  });
  expect(r.reason).toBe('done');
  return p.net.now - start;
}

function mtuUpdates(log: QlogEvent[]): Array<Record<string, unknown>> {
  return log.filter((e) => e.name === 'connectivity:mtu_updated').map((e) => e.data);
}

function probesSent(log: QlogEvent[]): number[] {
  return log
    .filter((e) => e.name === 'transport:packet_sent' && e.data.is_mtu_probe_packet === true)
    .map((e) => (e.data.raw as { length: number }).length);
}

function sizesOf(events: QuicAppEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'max-datagram-payload' ? [e.size] : []));
}

/** Sends `bytes` on a new unidirectional stream of `from`, refilling on stream-writable. */
function upload(from: ClientNode, bytes: Uint8Array): number {
  const conn = from.conn;
  const id = conn.openStream(false) as number;
  let off = 0;
  const pump = (): void => {
    while (off < bytes.length) {
      const n = conn.writeStream(id, bytes.subarray(off), true);
      if (n === 0) return;
      off += n;
    }
  };
  from.onEvent = (_c, ev) => {
    if (ev.type === 'stream-writable' && ev.streamId === id) pump();
  };
  pump();
  return id;
}

describe('path MTU discovery (RFC 9000 §14.3, RFC 8899)', () => {
  it('a 1500-byte path: both ends reach the 1452-byte ceiling within three round trips', () => {
    const p = setup({ mtu: 1500 });
    const { client, server } = p;
    expect(client.conn.pmtu.current).toBe(BASE_PLPMTU);
    const took = converge(p);
    expect(took).toBeLessThanOrEqual(3 * RTT);
    for (const conn of [client.conn, server.conn]) {
      expect(conn.pmtu).toMatchObject({
        state: 'search-complete',
        current: 1452,
        ceiling: 1452,
        probesSent: 1,
        probesAcked: 1,
        probesLost: 0,
      });
    }
    // One probe of exactly 1452 bytes (PING + PADDING), then an update in qlog.
    expect(probesSent(p.clientQlog)).toEqual([1452]);
    expect(mtuUpdates(p.clientQlog)).toEqual([{ old: 1200, new: 1452, done: true }]);
    // Congestion control counts in the new datagram size (RFC 9002 §7.2).
    expect(client.conn.stats.cwnd).toBe(initialWindow(1452));
    // maxDatagramPayload followed, with one event; a 1300-byte payload now fits one frame.
    const payload = client.conn.maxDatagramPayload;
    expect(payload).toBeGreaterThan(1400);
    expect(sizesOf(client.log.events)).toEqual([payload]);
    expect(client.conn.sendDatagram(new Uint8Array(1300).fill(1))).toBe(true);
    p.net.run({ until: p.net.now + 200, done: () => server.log.of('datagram').length > 0 });
    expect(server.log.of('datagram')[0]?.data.length).toBe(1300);
  });

  it('a 1350-byte path: converges just below the MTU, and only probes ever exceed it', () => {
    const p = setup({ mtu: 1350 });
    const { client, server } = p;
    const cwndBefore = client.conn.stats.cwnd;
    const took = converge(p);
    for (const conn of [client.conn, server.conn]) {
      const { current, probesLost } = conn.pmtu;
      expect(current).toBeLessThanOrEqual(1350);
      expect(1350 - current).toBeLessThanOrEqual(SEARCH_GRANULARITY);
      expect(current).toBeGreaterThan(1300);
      // Every size that failed took MAX_PROBES lost probes.
      expect(probesLost % MAX_PROBES).toBe(0);
      expect(probesLost).toBeGreaterThanOrEqual(MAX_PROBES);
    }
    // Bounded: a handful of failed sizes, each three probe losses.
    expect(took).toBeLessThan(100 * RTT);
    // The link dropped probes and nothing else.
    expect(p.mtu.dropped).toBe(client.conn.pmtu.probesLost + server.conn.pmtu.probesLost);
    const probes = new Set(probesSent(p.clientQlog));
    expect(p.sentBy.client.filter((n) => n > 1350 && !probes.has(n))).toEqual([]);

    // RFC 9000 §14.4: the lost probes caused no congestion response.
    const stats = client.conn.stats;
    expect(stats.ssthresh).toBe(Number.POSITIVE_INFINITY);
    expect(stats.cwnd).toBeGreaterThanOrEqual(cwndBefore);
    expect(stats.lostPackets).toBe(0);
    expect(stats.persistentCongestions).toBe(0);
  });

  it('probe losses do not cut the window of a connection in congestion avoidance (cubic)', () => {
    const p = setup({ mtu: 1350, client: { congestionControl: 'cubic' } });
    converge(p);
    expect(p.client.conn.stats.ssthresh).toBe(Number.POSITIVE_INFINITY);
    expect(p.client.conn.stats.cwnd).toBe(initialWindow(p.client.conn.pmtu.current));
  });

  it('a black hole mid-transfer (link MTU 1500 → 1280): detected, back to 1200, the transfer completes', () => {
    // 1 MB/s with a 30 KB drop-tail queue: the transfer lasts about 2 s and also meets
    // congestion losses, which must not pass for a black hole.
    const p = setup({ mtu: 1500, links: [new Bandwidth(1_000, 30_000)] });
    const { net, client, server } = p;
    converge(p);
    expect(client.conn.pmtu.current).toBe(1452);
    const data = new Uint8Array(2 * 1024 * 1024);
    new SeededRandom(5).fill(data);
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const id = upload(client, data);
    net.run({ until: net.now + 600 });
    const before = got.bytes(id).length;
    expect(before).toBeGreaterThan(100_000);
    expect(before).toBeLessThan(data.length / 2);
    expect(client.conn.stats.lostPackets).toBeGreaterThan(0);
    p.mtu.mtu = 1280;
    const sw = net.now;
    const r = net.run({ until: net.now + 60_000, done: () => got.finished.has(id) });
    expect(r.reason).toBe('done');
    expect(Buffer.from(got.bytes(id)).equals(data)).toBe(true);
    expect(client.conn.state).toBe('established');
    const pmtu = client.conn.pmtu;
    expect(pmtu.blackHoles).toBe(1);
    // Fell back to BASE_PLPMTU within a few round trips, then searched again below the size that
    // failed.
    const updates = mtuUpdates(p.clientQlog).map((u) => u.new);
    expect(updates.slice(0, 2)).toEqual([1452, BASE_PLPMTU]);
    const fallback = p.clientQlog.find(
      (e) => e.name === 'connectivity:mtu_updated' && e.data.new === BASE_PLPMTU,
    ) as QlogEvent;
    expect(fallback.time - sw).toBeLessThan(1_000);
    net.run({ until: net.now + 10_000, done: () => complete(client.conn) });
    expect(client.conn.pmtu.current).toBeLessThanOrEqual(1280);
    expect(1280 - client.conn.pmtu.current).toBeLessThanOrEqual(SEARCH_GRANULARITY);
    // The application heard maxDatagramPayload fall and rise again.
    const sizes = sizesOf(client.log.events);
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    expect(sizes[1]).toBeLessThan(sizes[0]);
    expect(sizes.at(-1)).toBe(client.conn.maxDatagramPayload);
  });

  it('a ceiling of 1200 turns probing off at that end only', () => {
    const p = setup({ mtu: 1500, client: { maxUdpPayload: 1200 } });
    const { net, client, server } = p;
    net.run({ until: net.now + 1_000, done: () => complete(server.conn) });
    expect(client.conn.pmtu).toMatchObject({ state: 'disabled', current: 1200, probesSent: 0 });
    // The two ends need not agree: the server discovers its own direction.
    expect(server.conn.pmtu.current).toBe(1452);
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const id = upload(client, new Uint8Array(200_000));
    net.run({ until: net.now + 10_000, done: () => got.finished.has(id) });
    expect(got.bytes(id).length).toBe(200_000);
    expect(Math.max(...p.sentBy.client)).toBe(1200);
  });

  it("the peer's max_udp_payload_size (1300) caps the search, probes included", () => {
    const p = setup({
      mtu: 1500,
      server: { transport: { maxDatagramFrameSize: 65535, maxUdpPayloadSize: 1300 } },
    });
    converge(p);
    expect(p.client.conn.pmtu).toMatchObject({ current: 1300, ceiling: 1300, probesLost: 0 });
    expect(Math.max(...p.sentBy.client)).toBe(1300);
    expect(p.server.conn.pmtu.current).toBe(1452);
  });

  it('PMTU_RAISE_TIMER: a path that grew is found again after the interval', () => {
    const p = setup({ mtu: 1350, client: { pmtuRaiseInterval: 20_000 } });
    const { net, client } = p;
    converge(p);
    const low = client.conn.pmtu.current;
    expect(low).toBeLessThanOrEqual(1350);
    p.mtu.mtu = 1500;
    // Keep the connection alive meanwhile (the idle timeout is 30 s).
    const id = client.conn.openStream(true) as number;
    net.run({ until: net.now + 15_000 });
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 4_000 });
    expect(client.conn.pmtu.current).toBe(low);
    net.run({ until: net.now + 2_000, done: () => client.conn.pmtu.current === 1452 });
    expect(client.conn.pmtu).toMatchObject({ current: 1452, state: 'search-complete' });
  });

  it('NAT rebinding: the new path starts at BASE_PLPMTU and is probed once validated', () => {
    const net = new Network();
    net.now = T0;
    const client = new ClientNode(clientConfig(), T0);
    const server = new ServerNode(() => serverConfig());
    const nat = new Nat();
    net.add(client).add(server);
    net.link(CLIENT_ADDR, SERVER_ADDR, [nat, new Delay(ONE_WAY)]);
    net.defaultLink([new Delay(ONE_WAY)]);
    net.run({
      until: T0 + 2_000,
      done: () => client.conn.handshakeConfirmed && complete(server.conn),
    });
    const serverConn = server.conn;
    expect(serverConn.pmtu.current).toBe(1452);
    const rebound = '10.0.0.1:6000';
    nat.map.set(CLIENT_ADDR, rebound);
    net.alias(rebound, client);
    const toNew: number[] = [];
    net.onSend = (d) => {
      if (d.to === rebound) toNew.push(d.data.length);
    };
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(100));
    net.run({ until: net.now + 1_000, done: () => serverConn.remote === rebound });
    // RFC 9000 §14.2: the PMTU belongs to the address pair; the new one starts from 1200.
    expect(serverConn.pmtu).toMatchObject({ current: BASE_PLPMTU, probesSent: 0 });
    net.run({ until: net.now + 1_000, done: () => complete(serverConn) });
    expect(serverConn.pmtu).toMatchObject({ current: 1452, probesSent: 1 });
    // Until the probe was acknowledged nothing above 1200 went to the new address.
    const firstBig = toNew.findIndex((n) => n > 1200);
    expect(toNew[firstBig]).toBe(1452);
    expect(toNew.slice(0, firstBig).every((n) => n <= 1200)).toBe(true);
  });
});
