/** Graceful shutdown with GOAWAY (RFC 9114 §5.2, §7.2.6). */
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { connect, get, ofType } from './harness.js';

describe('GOAWAY', () => {
  it('a server shutting down names the first request it will not process; in-flight work completes, then the client closes with H3_NO_ERROR', () => {
    const c = connect({ quic: { chunking: 'whole' } });
    const a = c.client.request(get('/a'), { endStream: true });
    const b = c.client.request(get('/b'), { endStream: true });
    c.pump();
    c.server.shutdown();
    const ev = c.pump();
    expect(ofType(ev.client, 'goaway')).toEqual([{ type: 'goaway', id: 8 }]);
    expect(c.client.goawayReceived).toBe(8n);
    // §5.2: "Endpoints MUST NOT initiate new requests ... after receipt of a GOAWAY frame".
    expect(() => c.client.request(get('/c'))).toThrow(expect.objectContaining({ code: 'GOAWAY' }));
    c.server.respond(a, [[':status', '200']], { endStream: true });
    c.pump();
    expect(c.pair.server.closeInfo).toBeUndefined();
    expect(c.server.drained).toBe(false);
    c.server.respond(b, [[':status', '200']], { endStream: true });
    // The server has nothing left to do, but its last response may still be in flight.
    expect(c.server.drained).toBe(true);
    expect(c.pair.server.closeInfo).toBeUndefined();
    const last = c.pump();
    expect(ofType(last.client, 'headers').map((h) => h.streamId)).toEqual([b]);
    // The client, holding every response, closes.
    expect(c.pair.client.closeInfo).toMatchObject({
      errorCode: H3ErrorCode.H3_NO_ERROR,
      byPeer: false,
    });
    expect(ofType(last.server, 'closed')[0].info).toMatchObject({ errorCode: 0x100, byPeer: true });
  });

  it('requests in flight at or above the GOAWAY identifier are rejected and reported retryable', () => {
    const c = connect({ quic: { chunking: 'whole' } });
    const a = c.client.request(get('/a'), { endStream: true });
    c.pump();
    // These two cross the server's GOAWAY on the wire.
    const b = c.client.request(get('/b'), { endStream: true });
    const d = c.client.request(get('/d'), { endStream: true });
    c.server.shutdown();
    const ev = c.pump();
    expect(ofType(ev.client, 'goaway')).toEqual([{ type: 'goaway', id: 4 }]);
    const rejected = new Set(ofType(ev.client, 'rejected').map((e) => e.streamId));
    for (const e of ofType(ev.client, 'reset'))
      if (e.code === H3ErrorCode.H3_REQUEST_REJECTED) rejected.add(e.streamId);
    expect([...rejected].sort()).toEqual([b, d]);
    // The server never surfaced them, and all below 4 have arrived.
    expect(ofType(ev.server, 'request')).toEqual([]);
    expect(c.server.drained).toBe(false);
    c.server.respond(a, [[':status', '200']], { endStream: true });
    c.pump();
    expect(c.pair.client.closeInfo?.errorCode).toBe(H3ErrorCode.H3_NO_ERROR);
  });

  it('announce first with the largest identifier, then the final one; identifiers never grow', () => {
    const c = connect({ quic: { chunking: 'whole' } });
    const a = c.client.request(get('/a'), { endStream: true });
    c.pump();
    c.server.shutdown({ announce: true });
    let ev = c.pump();
    // 2^62 - 4 is reported saturated.
    expect(ofType(ev.client, 'goaway')).toEqual([{ type: 'goaway', id: Number.MAX_SAFE_INTEGER }]);
    expect(c.client.goawayReceived).toBe((1n << 62n) - 4n);
    expect(c.pair.server.closeInfo).toBeUndefined();
    c.server.shutdown();
    ev = c.pump();
    expect(ofType(ev.client, 'goaway')).toEqual([{ type: 'goaway', id: 4 }]);
    c.server.shutdown();
    ev = c.pump();
    expect(ofType(ev.client, 'goaway')).toEqual([{ type: 'goaway', id: 4 }]);
    c.server.respond(a, [[':status', '200']], { endStream: true });
    c.pump();
    expect(c.pair.client.closeInfo?.errorCode).toBe(H3ErrorCode.H3_NO_ERROR);
  });

  it('a client GOAWAY carries push ID 0 (we allow no pushes) and reaches the server', () => {
    const c = connect();
    const a = c.client.request(get('/a'), { endStream: true });
    c.pump();
    c.client.shutdown();
    const ev = c.pump();
    expect(ofType(ev.server, 'goaway')).toEqual([{ type: 'goaway', id: 0 }]);
    expect(() => c.client.request(get('/b'))).toThrow(expect.objectContaining({ code: 'GOAWAY' }));
    c.server.respond(a, [[':status', '200']], { endStream: true });
    c.pump();
    expect(c.pair.client.closeInfo).toMatchObject({ errorCode: 0x100, byPeer: false });
  });

  it('after the connection closes, the API refuses work', () => {
    const c = connect();
    c.client.close();
    c.pump();
    expect(() => c.client.request(get('/'))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(ofType(c.serverEvents, 'closed')).toHaveLength(1);
  });
});
