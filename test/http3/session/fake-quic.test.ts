/** The fake QUIC pair itself: what the session tests rely on. */
import { describe, expect, it } from 'vitest';
import { DatagramTooLargeError, type QuicAppEvent } from '../../../src/quic/api.js';
import { FakeQuicPair } from '../../support/fake-quic.js';

function recorder(pair: FakeQuicPair) {
  const got: { client: QuicAppEvent[]; server: QuicAppEvent[] } = { client: [], server: [] };
  pair.attach('client', (ev) => {
    got.client.push(ev);
    return [];
  });
  pair.attach('server', (ev) => {
    got.server.push(ev);
    return [];
  });
  return got;
}

const streamBytes = (evs: QuicAppEvent[], id: number) =>
  Buffer.concat(
    evs.flatMap((e) => (e.type === 'stream-data' && e.streamId === id ? [e.data] : [])),
  );

describe('FakeQuicPair', () => {
  it('assigns QUIC stream IDs by initiator and direction (RFC 9000 §2.1)', () => {
    const p = new FakeQuicPair();
    expect([
      p.client.openStream(true),
      p.client.openStream(true),
      p.client.openStream(false),
    ]).toEqual([0, 4, 2]);
    expect([
      p.server.openStream(true),
      p.server.openStream(false),
      p.server.openStream(false),
    ]).toEqual([1, 3, 7]);
  });

  it('delivers stream data reliably and in order, in 1-byte chunks or random splits, reproducibly', () => {
    const data = new Uint8Array(3000).map((_, i) => i * 7);
    const sizes = (chunking: 'byte' | 'random', seed: number) => {
      const p = new FakeQuicPair({ chunking, seed, maxChunk: 100 });
      const got = recorder(p);
      const id = p.client.openStream(true)!;
      p.client.writeStream(id, data, true);
      p.pump();
      expect(streamBytes(got.server, id)).toEqual(Buffer.from(data));
      const evs = got.server.filter((e) => e.type === 'stream-data');
      expect(evs[evs.length - 1]).toMatchObject({ fin: true });
      return evs.map((e) => (e.type === 'stream-data' ? e.data.length : 0));
    };
    expect(sizes('byte', 1).every((n) => n === 1)).toBe(true);
    expect(sizes('random', 5)).toEqual(sizes('random', 5));
    expect(sizes('random', 5)).not.toEqual(sizes('random', 6));
  });

  it('enforces stream limits and returns credit when both directions end', () => {
    const p = new FakeQuicPair({ maxBidiStreams: 1 });
    const got = recorder(p);
    const id = p.client.openStream(true)!;
    expect(p.client.openStream(true)).toBeUndefined();
    p.client.writeStream(id, new Uint8Array(1), true);
    p.pump();
    p.server.writeStream(id, new Uint8Array(1), true);
    p.pump();
    expect(got.client.some((e) => e.type === 'streams-available' && e.bidirectional)).toBe(true);
    expect(p.client.openStream(true)).toBe(4);
  });

  it('accepts less than offered when the send buffer is full, then reports stream-writable', () => {
    const p = new FakeQuicPair({ sendBuffer: 10, chunking: 'whole' });
    const got = recorder(p);
    const id = p.client.openStream(false)!;
    expect(p.client.writeStream(id, new Uint8Array(25))).toBe(10);
    expect(p.client.writableBytes(id)).toBe(0);
    p.pump();
    expect(got.client).toContainEqual({ type: 'stream-writable', streamId: id });
    expect(p.client.writableBytes(id)).toBe(10);
  });

  it('RESET_STREAM, STOP_SENDING and CONNECTION_CLOSE reach the peer', () => {
    const p = new FakeQuicPair();
    const got = recorder(p);
    const id = p.client.openStream(true)!;
    p.client.writeStream(id, new Uint8Array(5));
    p.pump();
    p.server.stopSending(id, 7);
    p.pump();
    expect(got.client).toContainEqual({ type: 'stop-sending', streamId: id, errorCode: 7 });
    p.client.resetStream(id, 9);
    p.pump();
    expect(got.server).toContainEqual({
      type: 'stream-reset',
      streamId: id,
      errorCode: 9,
      finalSize: 5,
    });
    expect(() => p.client.writeStream(id, new Uint8Array(1))).toThrow();
    p.server.close(0x100, 'bye');
    p.pump();
    expect(got.client.at(-1)).toMatchObject({
      type: 'connection-closed',
      info: { errorCode: 0x100, byPeer: true },
    });
    expect(got.server.at(-1)).toMatchObject({ type: 'connection-closed', info: { byPeer: false } });
  });

  it('datagrams: size limit, seeded loss', () => {
    const p = new FakeQuicPair({ datagramLoss: 0.5, seed: 3, maxDatagramPayload: 100 });
    const got = recorder(p);
    expect(() => p.client.sendDatagram(new Uint8Array(101))).toThrow(DatagramTooLargeError);
    for (let i = 0; i < 200; i++) p.client.sendDatagram(new Uint8Array([i]));
    p.pump();
    const n = got.server.filter((e) => e.type === 'datagram').length;
    expect(n).toBeGreaterThan(60);
    expect(n).toBeLessThan(140);
  });

  it('holds a stream until released', () => {
    const p = new FakeQuicPair();
    const got = recorder(p);
    const id = p.client.openStream(false)!;
    p.hold('client', id);
    p.client.writeStream(id, new Uint8Array(3));
    p.pump();
    expect(streamBytes(got.server, id).length).toBe(0);
    p.release('client', id);
    p.pump();
    expect(streamBytes(got.server, id).length).toBe(3);
  });
});
