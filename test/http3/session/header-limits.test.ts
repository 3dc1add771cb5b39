/**
 * Incomplete request header sections at the server (issue 10, point 1): the bytes of HEADERS
 * frames that have not arrived in full are capped per connection and against a budget shared by
 * connections (H3_EXCESSIVE_LOAD on the stream that goes over), and a header section that does
 * not complete in time resets its stream with H3_REQUEST_INCOMPLETE (RFC 9114 §8.1). A slowloris
 * of half-sent HEADERS then holds bounded memory for a bounded time.
 */
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { HeaderBudget } from '../../../src/http3/session/index.js';
import type { H3SessionOptions } from '../../../src/http3/session/types.js';
import { concatBytes, encodeVarint, varintLength } from '../../../src/wire/index.js';
import { GET_HEADERS, headersFrame, ofType, type RawPeer, rawPeer } from './harness.js';

/** The start of a HEADERS frame declaring `declared` payload bytes, with `sent` of them. */
function partialHeaders(declared: number, sent: number): Uint8Array {
  const length = new Uint8Array(varintLength(declared));
  encodeVarint(length, 0, declared);
  return concatBytes(Uint8Array.of(0x01), length, new Uint8Array(sent).fill(0x41));
}

/** A server facing a scripted client that has sent its control stream. */
function server(session: H3SessionOptions, now?: () => number): RawPeer {
  const p = rawPeer('server', { session, now });
  p.control();
  p.pump();
  return p;
}

/** Opens a request stream on the scripted client and writes `bytes` to it. */
function send(p: RawPeer, bytes: Uint8Array): number {
  const id = p.raw.openStream(true)!;
  p.raw.writeStream(id, bytes);
  return id;
}

function resetCode(p: RawPeer, id: number): number | undefined {
  const ev = p.rawEvents.find((e) => e.type === 'stream-reset' && e.streamId === id);
  return ev?.type === 'stream-reset' ? ev.errorCode : undefined;
}

describe('incomplete request header sections (RFC 9114 §10.5, §8.1)', () => {
  it('are capped per connection: the stream that goes over is refused with H3_EXCESSIVE_LOAD', () => {
    const p = server({ maxIncompleteHeaderBytes: 4000 });
    const a = send(p, partialHeaders(3000, 1500));
    const b = send(p, partialHeaders(3000, 1500));
    p.pump();
    expect(p.session.stats.incompleteHeaderBytes).toBeGreaterThanOrEqual(3000);
    const c = send(p, partialHeaders(3000, 1500));
    const ev = p.pump();
    expect(ofType(ev, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: c, code: H3ErrorCode.H3_EXCESSIVE_LOAD }),
    ]);
    expect(p.session.stats.incompleteHeaderBytes).toBeLessThanOrEqual(4000);
    expect(p.session.stats.headerRefusals).toBe(1);
    expect(p.rawEvents.some((e) => e.type === 'stop-sending' && e.streamId === c)).toBe(true);
    // The others wait on, and the connection lives.
    expect(resetCode(p, a)).toBeUndefined();
    expect(resetCode(p, b)).toBeUndefined();
    expect(p.closeCode()).toBeUndefined();
  });

  it('default to 256 KiB per connection', () => {
    const p = server({});
    send(p, partialHeaders(250_000, 200_000));
    p.pump();
    expect(p.session.stats.incompleteHeaderBytes).toBeGreaterThan(199_000);
    const second = send(p, partialHeaders(250_000, 70_000));
    const ev = p.pump();
    expect(ofType(ev, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: second, code: H3ErrorCode.H3_EXCESSIVE_LOAD }),
    ]);
    expect(p.session.stats.incompleteHeaderBytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('count no longer once the section completes, or the stream is reset', () => {
    const p = server({ maxIncompleteHeaderBytes: 4000 });
    const frame = headersFrame(GET_HEADERS);
    const id = send(p, frame.subarray(0, frame.length - 2));
    p.pump();
    expect(p.session.stats.incompleteHeaderBytes).toBeGreaterThan(0);
    p.raw.writeStream(id, frame.subarray(frame.length - 2));
    expect(ofType(p.pump(), 'request')).toHaveLength(1);
    expect(p.session.stats.incompleteHeaderBytes).toBe(0);

    const other = send(p, partialHeaders(3000, 2000));
    p.pump();
    expect(p.session.stats.incompleteHeaderBytes).toBe(2000);
    p.raw.resetStream(other, 0x10c);
    p.pump();
    expect(p.session.stats.incompleteHeaderBytes).toBe(0);
  });

  it('share a budget across connections, given back when a connection closes', () => {
    const budget = new HeaderBudget(3000);
    const one = server({ headerBudget: budget });
    const two = server({ headerBudget: budget });
    send(one, partialHeaders(3000, 2000));
    one.pump();
    expect(budget.used).toBe(2000);
    const id = send(two, partialHeaders(3000, 2000));
    const ev = two.pump();
    expect(ofType(ev, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: id, code: H3ErrorCode.H3_EXCESSIVE_LOAD }),
    ]);
    expect(budget.refused).toBe(1);
    expect(budget.used).toBe(2000);
    one.raw.close(0x100, 'bye');
    one.pump();
    expect(budget.used).toBe(0);
  });

  it('time out: a request stream without a complete header section after 10 s is reset with H3_REQUEST_INCOMPLETE', () => {
    let now = 1_000;
    const p = server({}, () => now);
    const slow = send(p, partialHeaders(100, 10));
    p.pump();
    now = 4_000;
    const fast = send(p, headersFrame(GET_HEADERS).subarray(0, 5));
    p.pump();
    expect(p.session.nextTimeout).toBe(11_000);

    expect(p.session.handleTimeout(10_999)).toEqual([]);
    const ev = p.session.handleTimeout(11_000);
    expect(ev).toEqual([
      expect.objectContaining({
        type: 'stream-error',
        streamId: slow,
        code: H3ErrorCode.H3_REQUEST_INCOMPLETE,
      }),
    ]);
    p.pump();
    expect(resetCode(p, slow)).toBe(H3ErrorCode.H3_REQUEST_INCOMPLETE);
    expect(p.session.stats.headerTimeouts).toBe(1);
    expect(p.session.nextTimeout).toBe(14_000);

    // The other completes in time: no deadline remains.
    p.raw.writeStream(fast, headersFrame(GET_HEADERS).subarray(5));
    expect(ofType(p.pump(), 'request')).toHaveLength(1);
    expect(p.session.nextTimeout).toBeUndefined();
    expect(p.session.handleTimeout(20_000)).toEqual([]);
    expect(resetCode(p, fast)).toBeUndefined();
  });

  it('time out per headerTimeout; 0 keeps no deadline', () => {
    let now = 0;
    const quick = server({ headerTimeout: 500 }, () => now);
    send(quick, partialHeaders(100, 10));
    quick.pump();
    expect(quick.session.nextTimeout).toBe(500);
    now = 0;
    const off = server({ headerTimeout: 0 }, () => now);
    send(off, partialHeaders(100, 10));
    off.pump();
    expect(off.session.nextTimeout).toBeUndefined();
  });
});
