/**
 * Robustness: arbitrary bytes on any stream, or as a datagram, never make a session throw; the
 * worst outcome is a stream or connection error carrying an HTTP/3 code. And delivery at any
 * split points yields the same HTTP events as delivery in one piece.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { encodeFrame } from '../../../src/http3/frames.js';
import type { H3Event } from '../../../src/http3/session/types.js';
import { encodeUniStreamHeader } from '../../../src/http3/stream-types.js';
import { concatBytes } from '../../../src/wire/hex.js';
import { dataFrame, GET_HEADERS, headersFrame, rawPeer } from './harness.js';

/** Registered codes, minus H3_INTERNAL_ERROR (which would mean a bug of ours). */
const CODES = new Set<number>(
  Object.values(H3ErrorCode).filter((c) => c !== H3ErrorCode.H3_INTERNAL_ERROR),
);

const target = fc.constantFrom(
  'request',
  'control',
  'encoder',
  'decoder',
  'unknown-uni',
  'datagram',
);

describe('arbitrary input', () => {
  it('never throws out of handleEvent, and every error carries a registered HTTP/3 code', () => {
    fc.assert(
      fc.property(
        target,
        fc.constantFrom('client', 'server'),
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        (where, role, bytes, fin) => {
          const p = rawPeer(role as 'client' | 'server', { session: { h3Datagram: true } });
          p.control({ h3Datagram: true });
          switch (where) {
            case 'request': {
              if (role === 'server') {
                const id = p.raw.openStream(true)!;
                p.raw.writeStream(id, bytes, fin);
              } else {
                p.pump();
                const id = p.session.request(GET_HEADERS, { endStream: true });
                p.pump();
                p.raw.writeStream(id, bytes, fin);
              }
              break;
            }
            case 'control':
              p.uni(
                concatBytes(
                  encodeUniStreamHeader(0),
                  encodeFrame({ kind: 'SETTINGS', settings: {} }),
                  bytes,
                ),
                fin,
              );
              break;
            case 'encoder':
              p.uni(concatBytes(encodeUniStreamHeader(2), bytes), fin);
              break;
            case 'decoder':
              p.uni(concatBytes(encodeUniStreamHeader(3), bytes), fin);
              break;
            case 'unknown-uni':
              p.uni(bytes, fin);
              break;
            default:
              p.pump();
              p.raw.sendDatagram(bytes);
          }
          p.pump();
          const code = p.closeCode();
          if (code !== undefined) expect(CODES.has(code)).toBe(true);
          for (const e of p.events) {
            if (e.type === 'stream-error' || e.type === 'connection-error')
              expect(CODES.has(e.code)).toBe(true);
          }
        },
      ),
      { numRuns: 2500 },
    );
  });
});

describe('split delivery', () => {
  const request = concatBytes(
    headersFrame([
      [':method', 'POST'],
      [':scheme', 'https'],
      [':authority', 'example.com'],
      [':path', '/split'],
      ['content-length', '300'],
    ]),
    encodeFrame({ kind: 'UNKNOWN', type: 0x21n, payload: new Uint8Array(9) }),
    dataFrame(new Uint8Array(100).fill(1)),
    dataFrame(new Uint8Array(0)),
    dataFrame(new Uint8Array(200).fill(2)),
    headersFrame([['x-trailer', 'yes']]),
  );

  /** The HTTP events for `request` delivered with the given chunking, data merged. */
  function deliver(seed: number, chunking: 'whole' | 'byte' | 'random', maxChunk = 13): string[] {
    const p = rawPeer('server', { seed, quic: { chunking, maxChunk } });
    p.control();
    const id = p.raw.openStream(true)!;
    p.raw.writeStream(id, request, true);
    const ev = p.pump();
    const out: string[] = [];
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length > 0) out.push(`data:${bytes.length}:${bytes.reduce((a, b) => a + b, 0)}`);
      bytes = [];
    };
    for (const e of ev as H3Event[]) {
      if (e.type === 'settings') continue; // the control stream interleaves freely
      if (e.type === 'data') {
        bytes.push(...e.data);
        if (e.fin) {
          flush();
          out.push('fin');
        }
      } else {
        flush();
        if (e.type === 'request') out.push(`request:${e.path}:${e.fin}`);
        else if (e.type === 'trailers') out.push(`trailers:${e.headers[0][0]}:${e.fin}`);
        else out.push(e.type);
      }
    }
    flush();
    return out;
  }

  it('whole, one byte at a time and random splits agree', () => {
    const whole = deliver(1, 'whole');
    expect(whole).toEqual(['request:/split:false', 'data:300:500', 'trailers:x-trailer:true']);
    expect(deliver(1, 'byte')).toEqual(whole);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 40 }),
        (seed, max) => {
          expect(deliver(seed, 'random', max)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});
