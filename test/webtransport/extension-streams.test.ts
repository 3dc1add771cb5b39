/**
 * The HTTP/3 session's extension-stream hook, as WebTransport uses it (draft-ietf-webtrans-http3
 * §4.1-§4.2), driven over the fake QUIC pair with a scripted peer: a bidirectional stream whose
 * first varint is the 0x41 signal, a unidirectional stream of type 0x54, request streams that
 * must be untouched by the peek, resets, STOP_SENDING and backpressure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../src/http3/errors.js';
import { encodeFrame } from '../../src/http3/frames.js';
import type { H3Event, H3SessionOptions } from '../../src/http3/session/index.js';
import { H3UsageError } from '../../src/http3/session/index.js';
import type { QuicAppEvent } from '../../src/quic/api.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/hex.js';
import {
  connect,
  GET_HEADERS,
  headersFrame,
  ofType,
  onStream,
  rawPeer,
} from '../http3/session/harness.js';
import type { Chunking } from '../support/fake-quic.js';

const WT: H3SessionOptions = {
  extensionBidiSignals: [0x41],
  extensionUniTypes: [0x54],
  extraSettings: [{ id: 0x2b603742n, value: 1n }],
};

/** Everything a stream delivered as `data` events, and whether the last carried the FIN. */
function received(events: readonly H3Event[], streamId: number): { bytes: string; fin: boolean } {
  const data = ofType(onStream(events, streamId), 'data');
  return {
    bytes: toHex(concatBytes(...data.map((d) => d.data))),
    fin: data.length > 0 && data[data.length - 1].fin,
  };
}

const CHUNKINGS: Chunking[] = ['whole', 'byte', 'random'];

describe('a peer bidirectional stream starting with the 0x41 signal', () => {
  for (const chunking of CHUNKINGS) {
    it(`is handed to the extension, signal first, the rest as data (${chunking} chunks)`, () => {
      const p = rawPeer('server', { quic: { chunking, maxChunk: 3 }, session: WT });
      p.control();
      const id = p.raw.openStream(true)!;
      // 0x41 as a 2-byte varint (40 41), Session ID 0, then the stream body.
      p.raw.writeStream(id, fromHex('4041 00 68656c6c6f'), true);
      const events = p.pump();
      expect(ofType(events, 'extension-stream')).toEqual([
        { type: 'extension-stream', streamId: id, signal: 0x41, bidirectional: true },
      ]);
      expect(ofType(events, 'request')).toHaveLength(0);
      expect(received(events, id)).toEqual({ bytes: '0068656c6c6f', fin: true });
      expect(p.closeCode()).toBeUndefined();
    });
  }

  it('accepts the signal in a non-minimal encoding (8-byte varint)', () => {
    const p = rawPeer('server', { quic: { chunking: 'byte' }, session: WT });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(id, fromHex('c000000000000041 04 ff'), true);
    const events = p.pump();
    expect(ofType(events, 'extension-stream')[0]).toMatchObject({ streamId: id, signal: 0x41 });
    expect(received(events, id)).toEqual({ bytes: '04ff', fin: true });
  });

  it('keeps any split of the stream intact (property, random split points)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 16 }),
        (body, seed, maxChunk) => {
          const p = rawPeer('server', {
            seed,
            quic: { chunking: 'random', maxChunk },
            session: WT,
          });
          p.control();
          const id = p.raw.openStream(true)!;
          p.raw.writeStream(id, concatBytes(fromHex('404100'), body), true);
          const events = p.pump();
          expect(ofType(events, 'extension-stream')).toHaveLength(1);
          expect(received(events, id)).toEqual({ bytes: `00${toHex(body)}`, fin: true });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a reset and a STOP_SENDING, after which writes are refused', () => {
    const p = rawPeer('server', { session: WT });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(id, fromHex('404100aa'));
    p.pump();
    p.raw.resetStream(id, 0x52e4a40fa8dc);
    p.raw.stopSending(id, 0x52e4a40fa8dd);
    const events = p.pump();
    expect(onStream(events, id)).toEqual([
      { type: 'reset', streamId: id, code: 0x52e4a40fa8dc },
      { type: 'stop-sending', streamId: id, code: 0x52e4a40fa8dd },
    ]);
    expect(() => p.session.writeExtensionStream(id, fromHex('01'))).toThrow(H3UsageError);
  });

  it('carries our writes back on the same stream, queued beyond the transport buffer', () => {
    const p = rawPeer('server', { quic: { sendBuffer: 1000 }, session: WT });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(id, fromHex('404100'));
    p.pump();
    const reply = new Uint8Array(5000).map((_, i) => i & 0xff);
    p.session.writeExtensionStream(id, reply, true);
    expect(p.session.bufferedAmount(id)).toBe(4000);
    const events = p.pump();
    expect(onStream(events, id)).toContainEqual({ type: 'writable', streamId: id });
    expect(p.session.bufferedAmount(id)).toBe(0);
    const got = p.rawEvents.filter(
      (e): e is Extract<QuicAppEvent, { type: 'stream-data' }> =>
        e.type === 'stream-data' && e.streamId === id,
    );
    expect(concatBytes(...got.map((e) => e.data))).toEqual(reply);
    expect(got[got.length - 1].fin).toBe(true);
    expect(() => p.session.writeExtensionStream(id, reply)).toThrow(/sending side finished/);
  });
});

describe('request streams are untouched by the peek', () => {
  for (const chunking of CHUNKINGS) {
    it(`a GET still arrives as a request (${chunking} chunks)`, () => {
      const p = rawPeer('server', { quic: { chunking, maxChunk: 2 }, session: WT });
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, headersFrame(GET_HEADERS), true);
      const events = p.pump();
      expect(ofType(events, 'extension-stream')).toHaveLength(0);
      expect(ofType(events, 'request')).toMatchObject([{ streamId: id, method: 'GET', fin: true }]);
    });
  }

  it('a request opening with a reserved frame of 2-byte type is replayed whole', () => {
    const p = rawPeer('server', { quic: { chunking: 'byte' }, session: WT });
    p.control();
    const id = p.raw.openStream(true)!;
    // Reserved frame type 0x5f (0x1f * 2 + 0x21) encodes as 40 5f; then the HEADERS frame.
    const grease = encodeFrame({ kind: 'UNKNOWN', type: 0x5fn, payload: fromHex('0102') });
    expect(toHex(grease.subarray(0, 2))).toBe('405f');
    p.raw.writeStream(id, concatBytes(grease, headersFrame(GET_HEADERS)), true);
    const events = p.pump();
    expect(ofType(events, 'request')).toMatchObject([{ streamId: id, method: 'GET' }]);
    expect(p.closeCode()).toBeUndefined();
  });

  it('a stream that ends inside its first varint fails as it would without the hook', () => {
    const outcome = (session: H3SessionOptions) => {
      const p = rawPeer('server', { quic: { chunking: 'byte' }, session });
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, fromHex('40'), true);
      const events = p.pump();
      return {
        close: p.closeCode(),
        errors: ofType(events, 'stream-error').map((e) => e.code),
        ext: ofType(events, 'extension-stream').length,
      };
    };
    const plain = outcome({});
    expect(outcome(WT)).toEqual(plain);
    expect(plain.close ?? plain.errors[0]).toBeDefined();
  });
});

describe('a peer unidirectional stream of type 0x54', () => {
  for (const chunking of CHUNKINGS) {
    it(`is handed to the extension (${chunking} chunks)`, () => {
      const p = rawPeer('server', { quic: { chunking, maxChunk: 2 }, session: WT });
      p.control();
      const id = p.uni(fromHex('4054 00 0102030405'), true);
      const events = p.pump();
      expect(ofType(events, 'extension-stream')).toEqual([
        { type: 'extension-stream', streamId: id, signal: 0x54, bidirectional: false },
      ]);
      expect(received(events, id)).toEqual({ bytes: '000102030405', fin: true });
    });
  }

  it('is refused with H3_STREAM_CREATION_ERROR when no extension takes it (RFC 9114 §6.2)', () => {
    const p = rawPeer('server', {});
    p.control();
    const id = p.uni(fromHex('4054 00 01'));
    const events = p.pump();
    expect(ofType(events, 'extension-stream')).toHaveLength(0);
    expect(p.rawEvents).toContainEqual({
      type: 'stop-sending',
      streamId: id,
      errorCode: H3ErrorCode.H3_STREAM_CREATION_ERROR,
    });
  });
});

describe('streams an endpoint opens itself', () => {
  it('openExtensionStream writes the header first; the reply arrives as data', () => {
    const p = rawPeer('server', { session: WT });
    p.control();
    const id = p.session.openExtensionStream(true, fromHex('404100'));
    expect(id & 3).toBe(1); // server-initiated bidirectional
    p.session.writeExtensionStream(id, fromHex('beef'));
    p.pump();
    const got = p.rawEvents.filter(
      (e): e is Extract<QuicAppEvent, { type: 'stream-data' }> =>
        e.type === 'stream-data' && e.streamId === id,
    );
    expect(toHex(concatBytes(...got.map((e) => e.data)))).toBe('404100beef');
    p.raw.writeStream(id, fromHex('cafe'), true);
    const events = p.pump();
    expect(ofType(events, 'extension-stream')).toHaveLength(0);
    expect(received(events, id)).toEqual({ bytes: 'cafe', fin: true });
  });

  it('a client takes server-initiated 0x41 streams only when configured (RFC 9114 §6.1)', () => {
    const wt = rawPeer('client', { session: WT });
    wt.control();
    const id = wt.raw.openStream(true)!;
    wt.raw.writeStream(id, fromHex('404100ff'), true);
    const events = wt.pump();
    expect(ofType(events, 'extension-stream')).toMatchObject([{ streamId: id, signal: 0x41 }]);
    expect(wt.closeCode()).toBeUndefined();

    const plain = rawPeer('client', {});
    plain.control();
    const id2 = plain.raw.openStream(true)!;
    plain.raw.writeStream(id2, fromHex('404100ff'), true);
    plain.pump();
    expect(plain.closeCode()).toBe(H3ErrorCode.H3_STREAM_CREATION_ERROR);
  });
});

describe('extension SETTINGS', () => {
  it('are sent and read back with their values', () => {
    const c = connect({ server: WT, client: {} });
    expect(c.client.peerSettings?.unknown).toContainEqual({ id: 0x2b603742n, value: 1n });
    expect(c.client.peerSettings?.unknownIds).toContain(0x2b603742n);
  });

  it('cannot claim an identifier the session sends itself', () => {
    expect(() =>
      connect({ server: { extraSettings: [{ id: 0x33n, value: 1n }] }, client: {} }),
    ).toThrow(/cannot be sent/);
  });
});
