import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
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
  serverOverrides: Parameters<typeof serverConfig>[1] = {},
  clientOverrides: Parameters<typeof clientConfig>[1] = {},
): { net: Network; client: ClientNode; server: ServerNode } {
  const net = new Network();
  net.now = T0;
  const client = new ClientNode(clientConfig(1, clientOverrides), T0);
  const server = new ServerNode(() => serverConfig(2, serverOverrides));
  net
    .add(client)
    .add(server)
    .defaultLink([new Delay(10)]);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  return { net, client, server };
}

/** An echo server: writes back what it reads, ends when the peer ends. */
function echo(conn: QuicConnection, ev: import('../../../src/quic/api.js').QuicAppEvent): void {
  if (ev.type !== 'stream-data') return;
  const n = conn.writeStream(ev.streamId, ev.data, ev.fin);
  expect(n).toBe(ev.data.length);
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('streams', () => {
  it('a bidirectional stream is echoed back by the server', () => {
    const { net, client, server } = setup();
    server.onEvent = echo;
    const got = new StreamCollector();
    client.onEvent = (_c, ev) => got.add(ev);
    const id = client.conn.openStream(true);
    expect(id).toBe(0);
    const msg = new TextEncoder().encode('hello, quic');
    expect(client.conn.writeStream(0, msg, true)).toBe(msg.length);
    net.run({ until: net.now + 2_000, done: () => got.finished.has(0) });
    expect(new TextDecoder().decode(got.bytes(0))).toBe('hello, quic');
  });

  it('1 MB over one stream arrives intact', () => {
    const { net, client, server } = setup();
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const data = new Uint8Array(1024 * 1024);
    new SeededRandom(9).fill(data);
    const id = client.conn.openStream(false) as number;
    let off = 0;
    const pump = (): void => {
      while (off < data.length) {
        const n = client.conn.writeStream(id, data.subarray(off), true);
        if (n === 0) return;
        off += n;
      }
    };
    client.onEvent = (_c, ev) => {
      if (ev.type === 'stream-writable') pump();
    };
    pump();
    const r = net.run({ until: net.now + 60_000, done: () => got.finished.has(id) });
    expect(r.reason).toBe('done');
    expect(sha(got.bytes(id))).toBe(sha(data));
  });

  it('with default settings, PMTU discovery makes full-size datagrams 1452 bytes (the ceiling)', () => {
    const sizes: number[] = [];
    const { net, client, server } = setup();
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    net.onSend = (d) => {
      if (d.from === client.address) sizes.push(d.data.length);
    };
    const id = client.conn.openStream(false) as number;
    client.conn.writeStream(id, new Uint8Array(100_000), true);
    net.run({ until: net.now + 2_000, done: () => got.finished.has(id) });
    expect(got.bytes(id).length).toBe(100_000);
    expect(Math.max(...sizes)).toBe(1452);
  });

  it('tiny flow-control windows block the sender and credit updates unblock it', () => {
    const frames: string[] = [];
    const { net, client, server } = setup(
      {
        transport: {
          initialMaxData: 3_000,
          initialMaxStreamDataBidiRemote: 1_000,
          initialMaxStreamDataUni: 1_000,
        },
      },
      {
        qlog: (e) => {
          if (e.name === 'transport:packet_sent') {
            const list = e.data.frames as Array<{ frame_type: string }>;
            frames.push(...list.map((f) => f.frame_type.toUpperCase()));
          }
        },
      },
    );
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const id = client.conn.openStream(true) as number;
    // The true credit: the peer's initial MAX_STREAM_DATA for this stream.
    expect(client.conn.writableBytes(id)).toBe(1_000);
    const data = new Uint8Array(20_000);
    new SeededRandom(4).fill(data);
    let off = client.conn.writeStream(id, data, true);
    expect(off).toBe(1_000);
    let writable = 0;
    client.onEvent = (_c, ev) => {
      if (ev.type !== 'stream-writable') return;
      writable++;
      while (off < data.length) {
        const n = client.conn.writeStream(id, data.subarray(off), true);
        if (n === 0) break;
        off += n;
      }
    };
    const r = net.run({ until: net.now + 10_000, done: () => got.finished.has(id) });
    expect(r.reason).toBe('done');
    expect(sha(got.bytes(id))).toBe(sha(data));
    expect(writable).toBeGreaterThan(5);
    expect(frames).toContain('STREAM_DATA_BLOCKED');
  });

  it('the connection-level window (MAX_DATA) is shared by streams and replenished', () => {
    const { net, client, server } = setup({
      transport: { initialMaxData: 4_000, initialMaxStreamDataUni: 100_000 },
    });
    const got = new StreamCollector();
    server.onEvent = (_c, ev) => got.add(ev);
    const ids = [0, 1, 2].map(() => client.conn.openStream(false) as number);
    for (const id of ids)
      expect(client.conn.writeStream(id, new Uint8Array(30_000).fill(id), true)).toBe(30_000);
    const r = net.run({ until: net.now + 10_000, done: () => got.finished.size === 3 });
    expect(r.reason).toBe('done');
    for (const id of ids) expect(got.bytes(id)).toEqual(new Uint8Array(30_000).fill(id));
  });

  it('a stream limit of 2: the third open fails until the peer raises MAX_STREAMS', () => {
    const { net, client, server } = setup({ transport: { initialMaxStreamsBidi: 2 } });
    server.onEvent = echo;
    const got = new StreamCollector();
    client.onEvent = (_c, ev) => got.add(ev);
    const a = client.conn.openStream(true) as number;
    const b = client.conn.openStream(true) as number;
    expect([a, b]).toEqual([0, 4]);
    expect(client.conn.openStream(true)).toBeUndefined();
    const before = client.log.of('streams-available').length;
    client.conn.writeStream(a, new Uint8Array([1]), true);
    client.conn.writeStream(b, new Uint8Array([2]), true);
    net.run({
      until: net.now + 1_000,
      done: () => client.log.of('streams-available').length > before,
    });
    // Both streams closed on both sides: the server returned their credit with MAX_STREAMS.
    expect(client.log.of('streams-available').at(-1)).toEqual({
      type: 'streams-available',
      bidirectional: true,
    });
    expect(client.conn.openStream(true)).toBe(8);
  });

  it('a peer opening more streams than allowed gets STREAM_LIMIT_ERROR', () => {
    const { net, client, server } = setup({ transport: { initialMaxStreamsUni: 1 } });
    // A client that ignores the limit (test hook on its view of the server's parameters).
    client.conn.internals.streams.onMaxStreams(false, 5);
    client.conn.writeStream(client.conn.openStream(false) as number, new Uint8Array(1));
    client.conn.writeStream(client.conn.openStream(false) as number, new Uint8Array(1));
    net.run({ until: net.now + 200 });
    expect(server.log.of('connection-closed')[0]?.info.errorCode).toBe(0x04);
  });

  it('RESET_STREAM reaches the peer as a stream-reset event with the final size', () => {
    const { net, client, server } = setup();
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 50 });
    client.conn.resetStream(id, 0x33);
    expect(client.conn.writableBytes(id)).toBe(0);
    net.run({ until: net.now + 100 });
    expect(server.log.of('stream-reset')).toEqual([
      { type: 'stream-reset', streamId: id, errorCode: 0x33, finalSize: 10 },
    ]);
  });

  it('STOP_SENDING reaches the peer as a stop-sending event and its sending side is reset', () => {
    const { net, client, server } = setup();
    const id = client.conn.openStream(true) as number;
    client.conn.writeStream(id, new Uint8Array(10));
    net.run({ until: net.now + 50 });
    server.conn.stopSending(id, 0x44);
    net.run({ until: net.now + 100 });
    expect(client.log.of('stop-sending')).toEqual([
      { type: 'stop-sending', streamId: id, errorCode: 0x44 },
    ]);
    // RFC 9000 §3.5: the stream is reset in response; nothing more can be written.
    expect(client.conn.writableBytes(id)).toBe(0);
  });
});
