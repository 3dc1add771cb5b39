import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Delay, Drop, Network, Reorder } from '../../../src/sim/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import {
  ClientNode,
  clientConfig,
  ServerNode,
  StreamCollector,
  serverConfig,
  T0,
} from './harness.js';

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function lossyNetwork(
  seed: number,
  loss: number,
  cc: 'newreno' | 'cubic' = 'newreno',
): { net: Network; client: ClientNode; server: ServerNode } {
  const rng = new SeededRandom(seed);
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(seed + 1, { congestionControl: cc }), T0);
  const server = new ServerNode(() => serverConfig(seed + 2));
  net
    .add(client)
    .add(server)
    // 40 ms RTT; 5 % of datagrams held back 4 ms (overtaken by the next ones), 1 ms jitter.
    .defaultLink([new Drop(rng, loss), new Reorder(rng, 0.05, 4), new Delay(20, 1, rng)]);
  return { net, client, server };
}

describe('loss recovery', () => {
  it('the handshake completes despite 20 % loss', () => {
    for (let seed = 100; seed < 110; seed++) {
      const { net, client } = lossyNetwork(seed, 0.2);
      const r = net.run({ until: T0 + 30_000, done: () => client.conn.handshakeConfirmed });
      expect(r.reason, `seed ${seed}`).toBe('done');
    }
  });

  it('10 MB over one stream with 5 % loss and reordering arrives intact', () => {
    const { net, client, server } = lossyNetwork(1, 0.05);
    net.run({ until: T0 + 30_000, done: () => client.conn.handshakeConfirmed });
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const data = pattern(10 * 1024 * 1024, 3);
    const id = client.conn.openStream(false) as number;
    const writer = new Writer(client, [[id, data]]);
    client.onEvent = (_c, ev) => writer.onEvent(ev);
    writer.pump();
    const r = net.run({ until: net.now + 600_000, done: () => got.finished.has(id) });
    expect(r.reason).toBe('done');
    expect(sha(got.bytes(id))).toBe(sha(data));
    expect(client.conn.stats.lostPackets).toBeGreaterThan(100);
  });

  it('with CUBIC congestion control, 2 MB with 5 % loss arrives intact', () => {
    const { net, client, server } = lossyNetwork(3, 0.05, 'cubic');
    net.run({ until: T0 + 30_000, done: () => client.conn.handshakeConfirmed });
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const data = pattern(2 * 1024 * 1024, 5);
    const id = client.conn.openStream(false) as number;
    const writer = new Writer(client, [[id, data]]);
    client.onEvent = (_c, ev) => writer.onEvent(ev);
    writer.pump();
    const r = net.run({ until: net.now + 600_000, done: () => got.finished.has(id) });
    expect(r.reason).toBe('done');
    expect(sha(got.bytes(id))).toBe(sha(data));
  });

  it('1 MB over each of 100 streams with 5 % loss and reordering arrives intact', {
    timeout: 180_000,
  }, () => {
    const { net, client, server } = lossyNetwork(2, 0.05);
    net.run({ until: T0 + 30_000, done: () => client.conn.handshakeConfirmed });
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const jobs: Array<[number, Uint8Array]> = [];
    for (let i = 0; i < 100; i++) {
      const id = client.conn.openStream(true) as number;
      expect(id).toBe(4 * i);
      jobs.push([id, pattern(SIZE_PER_STREAM, 100 + i)]);
    }
    const writer = new Writer(client, jobs);
    client.onEvent = (_c, ev) => writer.onEvent(ev);
    writer.pump();
    const r = net.run({ until: net.now + 3_600_000, done: () => got.finished.size === 100 });
    expect(r.reason).toBe('done');
    for (const [id, data] of jobs) expect(sha(got.bytes(id)), `stream ${id}`).toBe(sha(data));
  });
});

/** 1 MB per stream, 100 MB in all: the full-size case (the longest test of the folder). */
const SIZE_PER_STREAM = 1024 * 1024;

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  new SeededRandom(seed).fill(out);
  return out;
}

/** Writes each stream's data as credit allows, resuming on `stream-writable`. */
class Writer {
  readonly #offsets = new Map<number, number>();
  constructor(
    readonly client: ClientNode,
    readonly jobs: Array<[number, Uint8Array]>,
  ) {
    for (const [id] of jobs) this.#offsets.set(id, 0);
  }

  onEvent(ev: import('../../../src/quic/api.js').QuicAppEvent): void {
    if (ev.type === 'stream-writable') this.pump();
  }

  pump(): void {
    for (const [id, data] of this.jobs) {
      let off = this.#offsets.get(id) as number;
      while (off < data.length) {
        const n = this.client.conn.writeStream(id, data.subarray(off), true);
        if (n === 0) break;
        off += n;
      }
      this.#offsets.set(id, off);
    }
  }
}
