import { describe, expect, it } from 'vitest';
import {
  encodeRetry,
  encodeVersionNegotiation,
  parsePacketHeader,
  QUIC_V1,
} from '../../../src/quic/packet/index.js';
import { AddressTokens } from '../../../src/quic/path/index.js';
import { computeRetryTag } from '../../../src/quic/protection/index.js';
import { Delay, Network } from '../../../src/sim/index.js';
import { randomBytes, SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, toHex } from '../../../src/wire/index.js';
import {
  ClientNode,
  clientConfig,
  SERVER_ADDR,
  type ServerConfigFactory,
  ServerNode,
  serverConfig,
  T0,
} from './harness.js';

function setup(
  factory: ServerConfigFactory = () => serverConfig(),
  clientOverrides: Parameters<typeof clientConfig>[1] = {},
): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(1, clientOverrides), T0);
  const server = new ServerNode(factory);
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  return { net, client, server };
}

describe('handshake', () => {
  it('client and server complete the handshake in one round trip and agree on ALPN and parameters', () => {
    const keylog: string[] = [];
    const { net, client, server } = setup(
      () => serverConfig(2, { transport: { initialMaxStreamsBidi: 7, maxIdleTimeout: 9_000 } }),
      { keylog: (l) => keylog.push(l), transport: { initialMaxStreamsUni: 5 } },
    );
    const r = net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(r.reason).toBe('done');
    // 10 ms links: Initial (0) → server flight (10) → client Finished (20) → HANDSHAKE_DONE (30),
    // which confirms the handshake at the client on arrival (40).
    expect(net.now - T0).toBe(40);
    expect(client.conn.state).toBe('established');
    expect(server.conn.state).toBe('established');
    expect(server.conn.handshakeConfirmed).toBe(true);
    expect(client.log.of('handshake-complete')).toEqual([
      { type: 'handshake-complete', alpn: 'h3', resumed: false },
    ]);
    expect(server.log.of('handshake-complete')[0]?.alpn).toBe('h3');
    expect(client.conn.alpn).toBe('h3');
    expect(client.conn.peerTransportParameters?.initialMaxStreamsBidi).toBe(7);
    expect(client.conn.peerTransportParameters?.maxIdleTimeout).toBe(9_000);
    expect(server.conn.peerTransportParameters?.initialMaxStreamsUni).toBe(5);
    // max_udp_payload_size is what we can receive (RFC 9000 §18.2), not the 1200 bytes we send.
    expect(client.conn.peerTransportParameters?.maxUdpPayloadSize).toBe(65_527);
    expect(server.conn.peerTransportParameters?.maxUdpPayloadSize).toBe(65_527);
    // RFC 9000 §7.3: the server echoes the client's original DCID.
    expect(
      bytesEqual(
        client.conn.peerTransportParameters?.originalDestinationConnectionId ?? new Uint8Array(),
        client.conn.originalDcid,
      ),
    ).toBe(true);
    // The client now addresses the server by the CID the server chose (RFC 9000 §7.2).
    expect(
      bytesEqual(
        client.conn.peerCid ?? new Uint8Array(),
        server.conn.localCids[0] ?? new Uint8Array(),
      ),
    ).toBe(true);
    // NSS key log lines for Wireshark.
    const labels = keylog.map((l) => l.split(' ')[0]);
    expect(labels).toContain('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    expect(labels).toContain('SERVER_TRAFFIC_SECRET_0');
  });

  it('the client pads its Initial datagrams to 1200 bytes (RFC 9000 §14.1)', () => {
    const { net, client } = setup();
    const sizes: number[] = [];
    net.onSend = (d) => {
      if (d.from === client.address && (d.data[0] & 0x80) !== 0) sizes.push(d.data.length);
    };
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(sizes.length).toBeGreaterThan(0);
    for (const s of sizes) expect(s).toBeGreaterThanOrEqual(1200);
  });

  it('Initial and Handshake keys are discarded once the handshake is confirmed (RFC 9001 §4.9)', () => {
    const { net, client, server } = setup();
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    for (const conn of [client.conn, server.conn]) {
      const spaces = conn.internals.spaces;
      expect(spaces[0].discarded).toBe(true);
      expect(spaces[1].discarded).toBe(true);
    }
  });

  it('new connection IDs are issued up to the peer limit, and announced to the endpoint', () => {
    const { net, client, server } = setup(
      () => serverConfig(2, { transport: { activeConnectionIdLimit: 3 } }),
      { transport: { activeConnectionIdLimit: 5 } },
    );
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    net.run({ until: net.now + 100 });
    // Our limit is the peer's active_connection_id_limit (capped by the CID manager).
    expect(server.conn.localCids.length).toBe(5);
    expect(client.conn.localCids.length).toBe(3);
    expect(client.conn.internals.peerCids.active().length).toBe(5);
  });

  it('a client switching to a new CID retires the old one; the server reports both changes', () => {
    const { net, client, server } = setup();
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    net.run({ until: net.now + 50 });
    const serverConn = server.conn;
    const logged = server.cidLog.length;
    const before = client.conn.peerCid ?? new Uint8Array();
    expect(client.conn.rotatePeerCid()).toBe(true);
    const after = client.conn.peerCid ?? new Uint8Array();
    expect(bytesEqual(before, after)).toBe(false);
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array([1, 2, 3]), true);
    const seen = server.logs.get(serverConn);
    net.run({ until: net.now + 200 });
    // The packets to the new CID were routed and processed.
    expect(seen?.of('stream-data').at(-1)).toMatchObject({ streamId: id, fin: true });
    // The old CID was retired (RETIRE_CONNECTION_ID) and a replacement issued.
    expect(serverConn.localCids.some((c) => bytesEqual(c, before))).toBe(false);
    expect(serverConn.localCids.length).toBe(
      client.conn.internals.settings.activeConnectionIdLimit,
    );
    const changes = server.cidLog.slice(logged);
    expect(changes[0]).toBe(`cid-removed ${toHex(before)}`);
    expect(changes[1]).toMatch(/^cid-added /);
  });

  it('the server hands the client a NEW_TOKEN for its next connection (RFC 9000 §8.1.3)', () => {
    const token = new Uint8Array([1, 2, 3, 4]);
    const { net, client } = setup(() => serverConfig(2, { newToken: () => token }));
    net.run({ until: T0 + 2_000, done: () => client.conn.receivedTokens.length > 0 });
    expect(client.conn.receivedTokens).toEqual([token]);
  });

  it('qlog sees packets sent and received, with their frames', () => {
    const events: Array<{ name: string; data: Record<string, unknown> }> = [];
    const { net, client } = setup(() => serverConfig(), { qlog: (e) => events.push(e) });
    net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(events[0]).toMatchObject({
      name: 'transport:packet_sent',
      data: { header: { packet_type: 'initial', packet_number: 0 }, raw: { length: 1200 } },
    });
    const received = events.filter((e) => e.name === 'transport:packet_received');
    expect(received.some((e) => frameTypes(e.data).includes('handshake_done'))).toBe(true);
    expect(events.some((e) => e.name === 'recovery:metrics_updated')).toBe(true);
  });

  it('an ALPN mismatch closes the connection with CRYPTO_ERROR no_application_protocol (0x178)', () => {
    const { net, client, server } = setup(() => serverConfig(2, { alpn: ['other'] }));
    net.run({ until: T0 + 2_000 });
    expect(server.log.of('connection-closed')[0]?.info.errorCode).toBe(0x178);
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x178,
      byPeer: true,
    });
  });

  it('a certificate the client does not trust closes the connection with a CRYPTO_ERROR', () => {
    const { net, client } = setup(() => serverConfig(), {
      tls: { serverName: 'localhost', verify: { noSystemRoots: true } },
    });
    net.run({ until: T0 + 2_000 });
    const info = client.log.of('connection-closed')[0]?.info;
    expect(info?.byPeer).toBe(false);
    expect(info?.errorCode).toBeGreaterThanOrEqual(0x100);
    expect(info?.errorCode).toBeLessThan(0x200);
  });
});

describe('Retry (RFC 9000 §8.1.2, §17.2.5)', () => {
  const tokens = new AddressTokens(new Uint8Array(16).fill(1), new SeededRandom(5));
  const rng = new SeededRandom(6);

  /** An endpoint that answers every token-less Initial with a Retry. */
  function retryingServer(
    factory: (retry: {
      originalDcid: Uint8Array;
      retryScid: Uint8Array;
    }) => ReturnType<ServerConfigFactory>,
    corruptTag = false,
  ): ReturnType<typeof setup> & { retries: () => number } {
    let retries = 0;
    const env = setup((first, from, now) => {
      const check = tokens.open(first.token ?? new Uint8Array(), from, now);
      if (
        !check.ok ||
        check.token.originalDcid === undefined ||
        check.token.retryScid === undefined
      ) {
        return undefined;
      }
      return factory({ originalDcid: check.token.originalDcid, retryScid: check.token.retryScid });
    });
    env.server.filter = (d, now, node) => {
      const h = parsePacketHeader(d.data, 0, 8);
      if (h.kind !== 'long' || h.type !== 0 || node.knows(h.dcid) || h.token.length > 0)
        return false;
      const retryScid = randomBytes(rng, 8);
      const token = tokens.sealRetry(d.from, now, h.dcid, retryScid);
      const packet = encodeRetry({
        dcid: h.scid,
        scid: retryScid,
        token,
        integrityTag: new Uint8Array(16),
      });
      packet.set(
        computeRetryTag(h.dcid, packet.subarray(0, packet.length - 16)),
        packet.length - 16,
      );
      if (corruptTag) packet[packet.length - 1] ^= 1;
      node.outbox.push({ from: SERVER_ADDR, to: d.from, data: packet });
      retries++;
      return true;
    };
    return { ...env, retries: () => retries };
  }

  it('the client follows a Retry: new DCID, the token in its Initials, validated parameters', () => {
    const { net, client, server, retries } = retryingServer((r) =>
      serverConfig(2, {
        originalDcid: r.originalDcid,
        retrySourceCid: r.retryScid,
        addressValidated: true,
      }),
    );
    const r = net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(r.reason).toBe('done');
    expect(retries()).toBe(1);
    const params = client.conn.peerTransportParameters;
    expect(
      bytesEqual(
        params?.retrySourceConnectionId ?? new Uint8Array(),
        client.conn.internals.retrySourceCid ?? new Uint8Array(1),
      ),
    ).toBe(true);
    expect(
      bytesEqual(
        params?.originalDestinationConnectionId ?? new Uint8Array(),
        client.conn.originalDcid,
      ),
    ).toBe(true);
    expect(server.conn.state).toBe('established');
  });

  it('a server that omits retry_source_connection_id after a Retry fails the handshake (0x08)', () => {
    const { net, client } = retryingServer((r) =>
      serverConfig(2, { originalDcid: r.originalDcid }),
    );
    net.run({ until: T0 + 2_000 });
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x08,
      byPeer: false,
    });
  });

  it('a Retry whose integrity tag does not verify is discarded', () => {
    const { net, client, retries } = retryingServer(() => serverConfig(), true);
    net.run({ until: T0 + 1_500 });
    expect(retries()).toBeGreaterThan(0);
    expect(client.conn.internals.retrySourceCid).toBeUndefined();
    expect(client.conn.state).toBe('handshaking');
  });
});

describe('version negotiation (RFC 9000 §6)', () => {
  function vnServer(versions: number[]): ReturnType<typeof setup> {
    const env = setup();
    let sent = false;
    env.server.filter = (d, _now, node) => {
      const h = parsePacketHeader(d.data, 0, 8);
      if (h.kind !== 'long' || sent) return false;
      sent = true;
      node.outbox.push({
        from: SERVER_ADDR,
        to: d.from,
        data: encodeVersionNegotiation({ dcid: h.scid, scid: h.dcid, versions, unusedBits: 0x40 }),
      });
      return !versions.includes(QUIC_V1);
    };
    return env;
  }

  it('a Version Negotiation packet without version 1 ends the attempt with an error event', () => {
    const { net, client } = vnServer([0x6b3343cf, 0x1a2a3a4a]);
    net.run({ until: T0 + 1_000 });
    expect(client.conn.state).toBe('closed');
    const info = client.log.of('connection-closed')[0]?.info;
    expect(info?.cause).toBe('close');
    expect(info?.reason).toMatch(/version negotiation/);
  });

  it('a Version Negotiation packet that lists version 1 is ignored', () => {
    const { net, client } = vnServer([0x6b3343cf, QUIC_V1]);
    const r = net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
    expect(r.reason).toBe('done');
  });
});

/** The qlog frame types of a packet event. */
function frameTypes(data: Record<string, unknown>): string[] {
  return (data.frames as Array<{ frame_type: string }>).map((f) => f.frame_type);
}
