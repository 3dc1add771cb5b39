/**
 * Requests and responses end to end over the fake transport: many requests on one session,
 * concurrency, bodies from 0 B to 1 MB checked by hash, 1-byte and random delivery, interim
 * responses, trailers, and backpressure.
 */
import { describe, expect, it } from 'vitest';
import { runWorkload } from './exchange.js';
import { connect, get, ofType, onStream } from './harness.js';

const small = (i: number): [number, number] => [(i * 37) % 300, (i * 53) % 500];

describe('request/response exchanges', () => {
  it('200 requests on one session, 50 at a time, bodies 0 B to 1 MB, verified by hash', () => {
    const c = connect({ quic: { chunking: 'random', maxChunk: 16_384 }, seed: 3 });
    const done = runWorkload(c, {
      requests: 200,
      concurrency: 50,
      sizes: (i, rng) => {
        if (i === 0) return [0, 0];
        if (i === 1) return [1 << 20, 1 << 20];
        const pick = (): number => {
          const r = rng.nextU32() % 100;
          if (r < 60) return rng.nextU32() % 1024;
          if (r < 95) return rng.nextU32() % 65_536;
          return rng.nextU32() % (1 << 20);
        };
        return [pick(), pick()];
      },
    });
    expect(done).toBe(200);
    expect(c.client.stats.activeStreams).toBe(0);
    expect(c.server.stats.activeStreams).toBe(0);
  });

  it('every message fed one byte at a time', () => {
    const c = connect({ quic: { chunking: 'byte' }, seed: 4 });
    expect(
      runWorkload(c, { requests: 12, concurrency: 4, sizes: small, trailers: true, interim: true }),
    ).toBe(12);
  });

  it('every message fed at random split points (several seeds)', () => {
    for (const seed of [5, 6, 7, 8]) {
      const c = connect({ quic: { chunking: 'random', maxChunk: 9 }, seed });
      const n = runWorkload(
        c,
        { requests: 16, concurrency: 8, sizes: small, trailers: true, interim: true, piece: 50 },
        seed,
      );
      expect(n).toBe(16);
    }
  });

  it('a small transport send buffer is handled by queueing and writable events', () => {
    const c = connect({ quic: { chunking: 'random', maxChunk: 4096, sendBuffer: 2048 }, seed: 9 });
    expect(runWorkload(c, { requests: 10, concurrency: 5, sizes: () => [100_000, 150_000] })).toBe(
      10,
    );
    // Client request streams stay open for their responses, so their drained backlogs are reported.
    expect(ofType(c.clientEvents, 'writable').length).toBeGreaterThan(0);
  });

  it('a backlog is reported writable once the transport took it all, and bufferedAmount counts it', () => {
    const c = connect({ quic: { chunking: 'whole', sendBuffer: 1000 } });
    const id = c.client.request(get('/'), { endStream: true });
    c.pump();
    c.server.respond(id, [[':status', '200']]);
    c.server.sendData(id, new Uint8Array(5000));
    expect(c.server.bufferedAmount(id)).toBeGreaterThan(3000);
    const ev = c.pump();
    expect(ofType(ev.server, 'writable')).toEqual([{ type: 'writable', streamId: id }]);
    expect(c.server.bufferedAmount(id)).toBe(0);
    const got = ofType(ev.client, 'data').reduce((n, e) => n + e.data.length, 0);
    expect(got).toBe(5000);
  });
});

describe('message framing', () => {
  it('a GET with FIN on its HEADERS reports fin on the request event', () => {
    const c = connect();
    const id = c.client.request(get('/'), { endStream: true });
    const ev = c.pump();
    const req = ofType(ev.server, 'request')[0];
    expect(req).toMatchObject({
      streamId: id,
      fin: true,
      method: 'GET',
      scheme: 'https',
      path: '/',
    });
    c.server.respond(id, [[':status', '204']], { endStream: true });
    const back = c.pump();
    expect(onStream(back.client, id)).toEqual([
      { type: 'headers', streamId: id, headers: [[':status', '204']], status: 204, fin: true },
    ]);
    expect(c.client.stats.activeStreams).toBe(0);
  });

  it('a FIN arriving after the last DATA is reported as an empty data event with fin', () => {
    const c = connect();
    const id = c.client.request(get('/'), { endStream: true });
    c.pump();
    c.server.respond(id, [[':status', '200']]);
    c.server.sendData(id, new Uint8Array([1, 2, 3]));
    const first = c.pump();
    expect(ofType(first.client, 'data')).toEqual([
      { type: 'data', streamId: id, data: new Uint8Array([1, 2, 3]), fin: false },
    ]);
    c.server.endStream(id);
    const second = c.pump();
    expect(ofType(second.client, 'data')).toEqual([
      { type: 'data', streamId: id, data: new Uint8Array(0), fin: true },
    ]);
  });

  it('interim 1xx responses come before the final response', () => {
    const c = connect();
    const id = c.client.request(get('/'), { endStream: true });
    c.pump();
    c.server.respond(id, [[':status', '100']]);
    c.server.respond(id, [
      [':status', '103'],
      ['link', '</style.css>'],
    ]);
    c.server.respond(id, [[':status', '200']], { endStream: true });
    const ev = onStream(c.pump().client, id);
    expect(ev.map((e) => e.type)).toEqual(['interim', 'interim', 'headers']);
    // The exchange is complete: the stream is gone.
    expect(() => c.server.respond(id, [[':status', '200']])).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_STREAM' }),
    );
    // A live stream refuses a second final response.
    const id2 = c.client.request(get('/2'), { endStream: true });
    c.pump();
    c.server.respond(id2, [[':status', '200']]);
    expect(() => c.server.respond(id2, [[':status', '200']])).toThrow(
      expect.objectContaining({ code: 'STREAM_CLOSED' }),
    );
  });

  it('the API refuses what would be malformed or out of order', () => {
    const c = connect();
    expect(() => c.client.request([[':method', 'GET']])).toThrow(
      expect.objectContaining({ code: 'INVALID_HEADERS' }),
    );
    expect(() => c.client.respond(0, [[':status', '200']])).toThrow(
      expect.objectContaining({ code: 'WRONG_ROLE' }),
    );
    const id = c.client.request(get('/'), { endStream: true });
    expect(() => c.client.sendData(id, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'STREAM_CLOSED' }),
    );
    c.pump();
    expect(() => c.server.sendData(id, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    expect(() => c.server.respond(id, [[':status', '100']], { endStream: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_STATE' }),
    );
    expect(() =>
      c.server.respond(id, [
        [':status', '200'],
        ['connection', 'close'],
      ]),
    ).toThrow(expect.objectContaining({ code: 'INVALID_HEADERS' }));
    expect(() => c.server.sendData(99, new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_STREAM' }),
    );
  });

  it('field names are lowercased before encoding (§4.2)', () => {
    const c = connect();
    c.client.request(get('/', [['X-Mixed-Case', 'Value']]), { endStream: true });
    const req = ofType(c.pump().server, 'request')[0];
    expect(req.headers).toContainEqual(['x-mixed-case', 'Value']);
  });

  it('the client stops at the peer stream limit and resumes on streams-available', () => {
    const c = connect({ quic: { maxBidiStreams: 2 } });
    const a = c.client.request(get('/a'), { endStream: true });
    c.client.request(get('/b'), { endStream: true });
    expect(() => c.client.request(get('/c'))).toThrow(
      expect.objectContaining({ code: 'STREAM_LIMIT' }),
    );
    c.pump();
    c.server.respond(a, [[':status', '200']], { endStream: true });
    const ev = c.pump();
    expect(ofType(ev.client, 'streams-available')).toHaveLength(1);
    expect(c.client.request(get('/c'), { endStream: true })).toBe(8);
  });
});

describe('cancellation', () => {
  it('a client reset reaches the server as a reset event; stop-sending is answered with a reset', () => {
    const c = connect();
    const id = c.client.request([
      [':method', 'POST'],
      [':scheme', 'https'],
      [':authority', 'a'],
      [':path', '/'],
    ]);
    c.client.sendData(id, new Uint8Array(10));
    c.pump();
    c.client.resetRequest(id);
    const ev = c.pump();
    expect(ofType(ev.server, 'reset')).toEqual([{ type: 'reset', streamId: id, code: 0x10c }]);
    expect(ofType(ev.server, 'stop-sending')).toEqual([
      { type: 'stop-sending', streamId: id, code: 0x10c },
    ]);
    expect(c.server.stats.activeStreams).toBe(0);
    expect(c.client.stats.activeStreams).toBe(0);
  });

  it('a server that rejects a request makes the client see the reset with H3_REQUEST_REJECTED', () => {
    const c = connect();
    const id = c.client.request(get('/'), { endStream: true });
    c.pump();
    c.server.resetRequest(id, 0x10b);
    const ev = c.pump();
    expect(ofType(ev.client, 'reset')).toEqual([{ type: 'reset', streamId: id, code: 0x10b }]);
    expect(c.client.stats.activeStreams).toBe(0);
  });

  it('a request stream that ends before its HEADERS is aborted with H3_REQUEST_INCOMPLETE', () => {
    const c = connect();
    const id = c.client.request(get('/'));
    c.pump();
    // A second client-side stream that only says FIN: open it through the transport directly.
    const raw = c.pair.client.openStream(true)!;
    c.pair.client.writeStream(raw, new Uint8Array(0), true);
    const ev = c.pump();
    expect(ofType(ev.server, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: raw, code: 0x10d }),
    ]);
    expect(c.pair.server.sends.get(raw)?.reset).toBe(true);
    expect(c.server.stats.activeStreams).toBe(1);
    expect(id).toBe(0);
  });
});
