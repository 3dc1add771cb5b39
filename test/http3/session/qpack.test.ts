/**
 * QPACK inside the session (RFC 9204 §2, §4.2, §4.4): the dynamic table in use, streams blocked
 * on the encoder stream and released, Stream Cancellation, the blocked-streams limit, and the
 * field section size limit (RFC 9114 §4.2.2).
 */
import { describe, expect, it } from 'vitest';
import { connect, get, headersFrame, ofType, onStream, rawPeer } from './harness.js';

const REPEATED: Array<[string, string]> = [
  ['user-agent', 'masque-test/1.0 (a rather long product token)'],
  ['x-custom-header', 'the same value on every request'],
];

/** Bytes the client sent on a request stream (the HEADERS frame for a bodiless GET). */
function sentOn(c: ReturnType<typeof connect>, id: number): number {
  return c.pair.client.sends.get(id)!.sent;
}

describe('QPACK dynamic table', () => {
  it('repeated header fields are inserted and referenced: later HEADERS frames shrink', () => {
    const c = connect({ quic: { chunking: 'whole' } });
    const sizes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const id = c.client.request(get('/same', REPEATED), { endStream: true });
      const ev = c.pump();
      const req = ofType(ev.server, 'request')[0];
      expect(req.headers).toEqual(get('/same', REPEATED));
      sizes.push(sentOn(c, id));
      c.server.respond(
        id,
        [
          [':status', '200'],
          ['server', 'masque'],
        ],
        { endStream: true },
      );
      c.pump();
    }
    expect(c.client.stats.encoderInsertCount).toBeGreaterThan(0);
    expect(c.server.stats.decoderInsertCount).toBe(c.client.stats.encoderInsertCount);
    // Acknowledged (Section Acknowledgment / Insert Count Increment on the decoder stream).
    expect(c.client.stats.encoderKnownReceived).toBe(c.client.stats.encoderInsertCount);
    expect(c.client.stats.encoderReferences).toBe(0);
    expect(sizes[5]).toBeLessThan(sizes[0] / 2);
  });

  it('a HEADERS blocked on the encoder stream waits, with its DATA and FIN, until the instructions arrive', () => {
    const c = connect({
      quic: { chunking: 'random', maxChunk: 5 },
      client: { qpackPolicy: { shouldInsert: () => true } },
    });
    const enc = c.client.localStreamIds.encoder!;
    c.pair.hold('client', enc);
    const headers: Array<[string, string]> = [
      [':method', 'POST'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/blocked'],
      ['x-fresh', 'inserted just now'],
    ];
    const id = c.client.request(headers);
    c.client.sendData(id, new Uint8Array([1, 2, 3]));
    c.client.sendData(id, new Uint8Array([4, 5]), true);
    let ev = c.pump();
    expect(onStream(ev.server, id)).toEqual([]);
    expect(c.server.stats.blockedStreams).toBe(1);
    c.pair.release('client', enc);
    ev = c.pump();
    const got = onStream(ev.server, id);
    expect(got[0]).toMatchObject({ type: 'request', headers, fin: false });
    const data = ofType(got, 'data');
    expect(data.flatMap((e) => [...e.data])).toEqual([1, 2, 3, 4, 5]);
    expect(data[data.length - 1].fin).toBe(true);
    expect(c.server.stats.blockedStreams).toBe(0);
    expect(c.client.stats.encoderReferences).toBe(0);
  });

  it('a blocked stream fed one byte at a time resumes the same way', () => {
    const c = connect({
      quic: { chunking: 'byte' },
      client: { qpackPolicy: { shouldInsert: () => true } },
    });
    const enc = c.client.localStreamIds.encoder!;
    c.pair.hold('client', enc);
    const ids = [0, 1, 2].map((i) =>
      c.client.request(get(`/${i}`, [['x-n', String(i)]]), { endStream: true }),
    );
    c.pump();
    expect(c.server.stats.blockedStreams).toBe(3);
    c.pair.release('client', enc);
    const ev = c.pump();
    expect(
      ofType(ev.server, 'request')
        .map((e) => e.streamId)
        .sort(),
    ).toEqual(ids);
  });

  it('the encoder never blocks more streams than the peer allows (SETTINGS_QPACK_BLOCKED_STREAMS)', () => {
    const c = connect({
      quic: { chunking: 'whole' },
      server: { qpackBlockedStreams: 1 },
      client: { qpackPolicy: { shouldInsert: () => true } },
    });
    const enc = c.client.localStreamIds.encoder!;
    c.pair.hold('client', enc);
    for (let i = 0; i < 5; i++)
      c.client.request(get(`/${i}`, [['x-n', String(i)]]), { endStream: true });
    const ev = c.pump();
    expect(c.server.stats.blockedStreams).toBe(1);
    expect(ofType(ev.server, 'request')).toHaveLength(4);
    expect(c.pair.server.closeInfo).toBeUndefined();
    c.pair.release('client', enc);
    expect(ofType(c.pump().server, 'request')).toHaveLength(1);
  });

  it('resetting a blocked stream sends a Stream Cancellation that frees the encoder references', () => {
    const c = connect({
      quic: { chunking: 'whole' },
      client: { qpackPolicy: { shouldInsert: () => true } },
    });
    const enc = c.client.localStreamIds.encoder!;
    c.pair.hold('client', enc);
    const id = c.client.request(get('/x', [['x-cancel', 'me']]));
    c.pump();
    expect(c.server.stats.blockedStreams).toBe(1);
    expect(c.client.stats.encoderReferences).toBeGreaterThan(0);
    // The client gives up: RESET_STREAM reaches the server before the encoder stream does.
    c.pair.client.resetStream(id, 0x10c);
    c.pump();
    expect(c.server.stats.blockedStreams).toBe(0);
    expect(c.client.stats.encoderReferences).toBe(0);
    c.pair.release('client', enc);
    c.pump();
    expect(c.pair.client.closeInfo).toBeUndefined();
  });
});

describe('field section size', () => {
  it('a server answers 431 to a header section above its SETTINGS_MAX_FIELD_SECTION_SIZE (§4.2.2)', () => {
    // The client sends before it learns the limit.
    const c = connect({ noStart: true, server: { maxFieldSectionSize: 300 } });
    c.client.start();
    c.server.start();
    const big = c.client.request(get('/big', [['x-big', 'y'.repeat(400)]]), { endStream: true });
    const ok = c.client.request(get('/ok'), { endStream: true });
    const ev = c.pump();
    expect(ofType(ev.server, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: big, code: 0x107 }),
    ]);
    expect(ofType(ev.server, 'request').map((e) => e.streamId)).toEqual([ok]);
    expect(onStream(ev.client, big)[0]).toMatchObject({ type: 'headers', status: 431, fin: true });
  });

  it('once SETTINGS arrived, the client refuses to send a section above the peer limit', () => {
    const c = connect({ server: { maxFieldSectionSize: 300 } });
    expect(() => c.client.request(get('/big', [['x-big', 'y'.repeat(400)]]))).toThrow(
      expect.objectContaining({ code: 'HEADERS_TOO_LARGE' }),
    );
  });

  it('an encoded HEADERS frame far above the limit is refused unread, still with 431', () => {
    const p = rawPeer('server', { session: { maxFieldSectionSize: 100 } });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(id, headersFrame(get('/', [['x', 'z'.repeat(1000)]])));
    const ev = p.pump();
    expect(ofType(ev, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: id, code: 0x107 }),
    ]);
    expect(p.closeCode()).toBeUndefined();
    expect(p.rawEvents.some((e) => e.type === 'stop-sending' && e.streamId === id)).toBe(true);
    // The 431 response arrived, complete (HEADERS frame 0x01 then FIN).
    const data = p.rawEvents.filter((e) => e.type === 'stream-data' && e.streamId === id);
    expect(data[0].type === 'stream-data' && data[0].data[0]).toBe(0x01);
    expect(data.some((e) => e.type === 'stream-data' && e.fin)).toBe(true);
  });

  it('a client treats a response section above its limit as a stream error H3_EXCESSIVE_LOAD', () => {
    const c = connect({ noStart: true, client: { maxFieldSectionSize: 200 } });
    c.client.start();
    // Hold the client's control stream: the server answers before it learns the limit.
    c.pair.hold('client', c.client.localStreamIds.control!);
    c.server.start();
    const id = c.client.request(get('/'), { endStream: true });
    c.pump();
    c.server.respond(
      id,
      [
        [':status', '200'],
        ['x-big', 'q'.repeat(300)],
      ],
      { endStream: true },
    );
    const ev = c.pump();
    expect(ofType(ev.client, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: id, code: 0x107 }),
    ]);
  });
});
