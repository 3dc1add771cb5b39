import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import type { LinkElement, SimDatagram } from '../../../src/sim/index.js';
import { Delay, Network } from '../../../src/sim/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import {
  ClientNode,
  clientConfig,
  ServerNode,
  StreamCollector,
  serverConfig,
  T0,
} from './harness.js';

function setup(
  aead?: { confidentiality?: number; integrity?: number },
  extra: LinkElement[] = [],
): {
  net: Network;
  client: ClientNode;
  server: ServerNode;
} {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(), T0);
  if (aead) client.conn.setAeadLimitsForTesting(aead);
  const server = new ServerNode(() => serverConfig());
  net
    .add(client)
    .add(server)
    .defaultLink([...extra, new Delay(10)]);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Sends `data` on a new client stream, resuming on stream-writable. */
function send(client: ClientNode, data: Uint8Array): number {
  const id = client.conn.openStream(false) as number;
  let off = 0;
  const pump = (): void => {
    while (off < data.length) {
      const n = client.conn.writeStream(id, data.subarray(off), true);
      if (n === 0) return;
      off += n;
    }
  };
  client.onEvent = (_c, ev: QuicAppEvent) => {
    if (ev.type === 'stream-writable') pump();
  };
  pump();
  return id;
}

function data(n: number): Uint8Array {
  const d = new Uint8Array(n);
  new SeededRandom(n).fill(d);
  return d;
}

describe('key update (RFC 9001 §6)', () => {
  it('the client initiates a key update while data flows; the server follows', () => {
    const { net, client, server } = setup();
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const payload = data(300_000);
    const id = send(client, payload);
    net.run({ until: net.now + 15 });
    client.conn.keyUpdate();
    net.run({ until: net.now + 5_000, done: () => got.finished.has(id) });
    expect(sha(got.bytes(id))).toBe(sha(payload));
    expect(client.conn.stats.keyGeneration).toBe(1);
    expect(server.conn.stats.keyGeneration).toBe(1);
    expect(server.conn.internals.oneRtt?.readGeneration).toBe(1);
  });

  it('the server initiates, then the client: both reach generation 2', () => {
    const { net, client, server } = setup();
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    server.conn.keyUpdate();
    const id1 = send(client, data(50_000));
    net.run({ until: net.now + 2_000, done: () => got.finished.has(id1) });
    expect(server.conn.stats.keyGeneration).toBe(1);
    expect(client.conn.stats.keyGeneration).toBe(1);
    client.conn.keyUpdate();
    const payload = data(60_000);
    const id2 = send(client, payload);
    net.run({ until: net.now + 2_000, done: () => got.finished.has(id2) });
    expect(sha(got.bytes(id2))).toBe(sha(payload));
    expect(client.conn.stats.keyGeneration).toBe(2);
    expect(server.conn.stats.keyGeneration).toBe(2);
  });

  it('a second update waits until a packet of the current keys is acknowledged (§6.1)', () => {
    const { net, client } = setup();
    client.conn.keyUpdate();
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 1 });
    expect(client.conn.stats.keyGeneration).toBe(1);
    // Asked again at once: nothing of generation 1 is acknowledged yet.
    client.conn.keyUpdate();
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 1 });
    expect(client.conn.stats.keyGeneration).toBe(1);
    // After the acknowledgment the pending request goes through.
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 100 });
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 100 });
    expect(client.conn.stats.keyGeneration).toBe(2);
  });

  it('reaching the confidentiality limit updates the keys by itself (§6.6)', () => {
    const { net, client, server } = setup({ confidentiality: 40 });
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const payload = data(200_000);
    const id = send(client, payload);
    net.run({ until: net.now + 5_000, done: () => got.finished.has(id) });
    expect(sha(got.bytes(id))).toBe(sha(payload));
    expect(client.conn.stats.keyGeneration).toBeGreaterThanOrEqual(3);
    expect(client.conn.state).toBe('established');
  });

  it('exceeding the integrity limit closes the connection with AEAD_LIMIT_REACHED (§6.6)', () => {
    /** Delivers a corrupted copy of each short-header datagram from the server. */
    class Forger implements LinkElement {
      on = false;
      process(d: SimDatagram): Array<[number, SimDatagram]> {
        if (!this.on || (d.data[0] & 0x80) !== 0) return [[0, d]];
        const bad = d.data.slice();
        bad[bad.length - 20] ^= 0xff;
        return [
          [0, d],
          [0.5, { ...d, data: bad }],
        ];
      }
    }
    const forger = new Forger();
    const { net, client, server } = setup({ integrity: 3 }, [forger]);
    forger.on = true;
    const id = server.conn.openStream(false) as number;
    for (let i = 0; i < 6; i++) {
      server.conn.writeStream(id, new Uint8Array(100));
      net.run({ until: net.now + 50 });
    }
    expect(client.log.of('connection-closed')[0]?.info).toMatchObject({
      errorCode: 0x0f,
      byPeer: false,
    });
  });
});
