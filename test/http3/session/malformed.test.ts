/**
 * Malformed messages (RFC 9114 §4.1.2) are stream errors of type H3_MESSAGE_ERROR: the stream
 * is reset and reading stopped with that code, and the other requests on the connection go on.
 */
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { concatBytes } from '../../../src/wire/hex.js';
import { dataFrame, GET_HEADERS, headersFrame, ofType, onStream, rawPeer } from './harness.js';
import { type F, MALFORMED_REQUESTS } from './malformed-table.js';

const MSG = H3ErrorCode.H3_MESSAGE_ERROR;

const POST = (len: string): F => [
  [':method', 'POST'],
  [':scheme', 'https'],
  [':authority', 'example.com'],
  [':path', '/upload'],
  ['content-length', len],
];

/** Extra stream-level cases: frame sequences that are well formed but malformed as messages. */
const MALFORMED_STREAMS: Array<[string, Uint8Array]> = [
  [
    'DATA beyond content-length',
    concatBytes(headersFrame(POST('3')), dataFrame(new Uint8Array(4))),
  ],
  [
    'DATA short of content-length at FIN',
    concatBytes(headersFrame(POST('5')), dataFrame(new Uint8Array(4))),
  ],
  [
    'pseudo-header in trailers',
    concatBytes(headersFrame(GET_HEADERS), headersFrame([[':path', '/']])),
  ],
  [
    'connection-specific field in trailers',
    concatBytes(headersFrame(GET_HEADERS), headersFrame([['connection', 'x']])),
  ],
];

describe('malformed requests at a server', () => {
  it('each malformed request is a stream error H3_MESSAGE_ERROR; the valid ones are unaffected', () => {
    const p = rawPeer('server', { quic: { chunking: 'random', maxChunk: 7 } });
    p.control();
    const bad = new Map<number, string>();
    const good: number[] = [];
    const all: Array<[string, Uint8Array]> = [
      ...MALFORMED_REQUESTS.map(([n, f]): [string, Uint8Array] => [n, headersFrame(f)]),
      ...MALFORMED_STREAMS,
    ];
    for (const [name, bytes] of all) {
      const ok = p.raw.openStream(true)!;
      p.raw.writeStream(ok, headersFrame(GET_HEADERS), true);
      good.push(ok);
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, bytes, true);
      bad.set(id, name);
    }
    const ev = p.pump();
    const streamCases = new Set(MALFORMED_STREAMS.map(([n]) => n));
    expect(p.closeCode()).toBeUndefined();
    const errors = ofType(ev, 'stream-error');
    expect(errors.map((e) => bad.get(e.streamId)).sort()).toEqual([...bad.values()].sort());
    for (const e of errors) expect(e.code, bad.get(e.streamId)).toBe(MSG);
    expect(
      ofType(ev, 'request')
        .map((e) => e.streamId)
        .sort((a, b) => a - b),
    ).toEqual(
      // Stream-level cases deliver their (valid) request header section first.
      [...good, ...[...bad].filter(([, n]) => streamCases.has(n)).map(([id]) => id)].sort(
        (a, b) => a - b,
      ),
    );
    // The peer saw RESET_STREAM and STOP_SENDING with H3_MESSAGE_ERROR on every bad stream.
    for (const id of bad.keys()) {
      const seen = p.rawEvents.filter((e) => 'streamId' in e && e.streamId === id);
      expect(
        seen.some((e) => e.type === 'stream-reset' && e.errorCode === MSG),
        bad.get(id),
      ).toBe(true);
    }
    // And every good one can still be answered.
    for (const id of good) p.session.respond(id, [[':status', '200']], { endStream: true });
    p.pump();
    expect(p.session.stats.activeStreams).toBe(0);
  });

  it(':protocol is refused unless we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3)', () => {
    const ext: F = [
      [':method', 'CONNECT'],
      [':protocol', 'connect-udp'],
      [':scheme', 'https'],
      [':authority', 'proxy.example'],
      [':path', '/.well-known/masque/udp/192.0.2.6/443/'],
    ];
    for (const enabled of [false, true]) {
      const p = rawPeer('server', { session: { enableConnectProtocol: enabled } });
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, headersFrame(ext));
      const ev = p.pump();
      if (enabled) {
        expect(ofType(ev, 'request')[0]).toMatchObject({
          streamId: id,
          method: 'CONNECT',
          protocol: 'connect-udp',
        });
      } else {
        expect(ofType(ev, 'stream-error')).toEqual([
          expect.objectContaining({ streamId: id, code: MSG }),
        ]);
      }
    }
  });
});

describe('malformed responses at a client', () => {
  const RESPONSES: Array<[string, Uint8Array]> = [
    ['missing :status', headersFrame([['server', 'x']])],
    [
      'request pseudo-header',
      headersFrame([
        [':status', '200'],
        [':path', '/'],
      ]),
    ],
    [
      'uppercase name',
      headersFrame([
        [':status', '200'],
        ['Server', 'x'],
      ]),
    ],
    ['101 Switching Protocols', headersFrame([[':status', '101']])],
    [
      'second final response',
      concatBytes(headersFrame([[':status', '200']]), headersFrame([[':status', '200']])),
    ],
    [
      'content after an interim response',
      concatBytes(headersFrame([[':status', '103']]), dataFrame(new Uint8Array(1))),
    ],
    [
      'DATA beyond content-length',
      concatBytes(
        headersFrame([
          [':status', '200'],
          ['content-length', '1'],
        ]),
        dataFrame(new Uint8Array(2)),
      ),
    ],
    ['FIN before a final response', headersFrame([[':status', '100']])],
  ];

  it.each(RESPONSES)('%s is a stream error H3_MESSAGE_ERROR', (_name, bytes) => {
    const p = rawPeer('client');
    p.control();
    p.pump();
    const id = p.session.request(GET_HEADERS, { endStream: true });
    const other = p.session.request(GET_HEADERS, { endStream: true });
    p.pump();
    p.raw.writeStream(id, bytes, true);
    p.raw.writeStream(other, headersFrame([[':status', '200']]), true);
    const ev = p.pump();
    expect(ofType(ev, 'stream-error')).toEqual([
      expect.objectContaining({ streamId: id, code: MSG }),
    ]);
    expect(onStream(ev, other)).toEqual([
      { type: 'headers', streamId: other, headers: [[':status', '200']], status: 200, fin: true },
    ]);
    expect(p.closeCode()).toBeUndefined();
  });

  it('a HEAD response or a 204/304 may declare a content-length without content (§4.1.2)', () => {
    const p = rawPeer('client');
    p.control();
    p.pump();
    const head = p.session.request(
      [
        [':method', 'HEAD'],
        [':scheme', 'https'],
        [':authority', 'a'],
        [':path', '/'],
      ],
      {
        endStream: true,
      },
    );
    const nc = p.session.request(GET_HEADERS, { endStream: true });
    p.pump();
    p.raw.writeStream(
      head,
      headersFrame([
        [':status', '200'],
        ['content-length', '1000'],
      ]),
      true,
    );
    p.raw.writeStream(
      nc,
      headersFrame([
        [':status', '304'],
        ['content-length', '1000'],
      ]),
      true,
    );
    const ev = p.pump();
    expect(ofType(ev, 'stream-error')).toEqual([]);
    expect(ofType(ev, 'headers')).toHaveLength(2);
  });
});
