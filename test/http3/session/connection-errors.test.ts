/**
 * Connection errors (RFC 9114 §8, RFC 9204 §6, RFC 9297 §2.1): a scripted peer misbehaves, the
 * session closes the connection with the code the RFC names, and reports it.
 */
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { encodeFrame, encodeFrames } from '../../../src/http3/frames.js';
import { encodeUniStreamHeader } from '../../../src/http3/stream-types.js';
import { concatBytes, fromHex } from '../../../src/wire/hex.js';
import { dataFrame, GET_HEADERS, headersFrame, ofType, type RawPeer, rawPeer } from './harness.js';

const SETTINGS = encodeFrame({ kind: 'SETTINGS', settings: {} });
const uniType = (t: number | bigint) => encodeUniStreamHeader(t);

interface Case {
  name: string;
  /** Role of the session under test. */
  role: 'client' | 'server';
  code: number;
  script: (p: RawPeer) => void;
  session?: { h3Datagram?: boolean };
}

const E = H3ErrorCode;

const CASES: Case[] = [
  {
    name: 'a second control stream is H3_STREAM_CREATION_ERROR (§6.2.1)',
    role: 'server',
    code: E.H3_STREAM_CREATION_ERROR,
    script: (p) => {
      p.control();
      p.uni(concatBytes(uniType(0), SETTINGS));
    },
  },
  {
    name: 'a control stream not starting with SETTINGS is H3_MISSING_SETTINGS (§6.2.1)',
    role: 'server',
    code: E.H3_MISSING_SETTINGS,
    script: (p) => p.uni(concatBytes(uniType(0), encodeFrame({ kind: 'GOAWAY', id: 0n }))),
  },
  {
    name: 'a control stream starting with an unknown frame is H3_MISSING_SETTINGS (§9)',
    role: 'client',
    code: E.H3_MISSING_SETTINGS,
    script: (p) =>
      p.uni(
        concatBytes(
          uniType(0),
          encodeFrame({ kind: 'UNKNOWN', type: 0x21n, payload: new Uint8Array(2) }),
        ),
      ),
  },
  {
    name: 'closing the control stream is H3_CLOSED_CRITICAL_STREAM (§6.2.1)',
    role: 'server',
    code: E.H3_CLOSED_CRITICAL_STREAM,
    script: (p) => p.uni(concatBytes(uniType(0), SETTINGS), true),
  },
  {
    name: 'resetting the control stream is H3_CLOSED_CRITICAL_STREAM (§6.2.1)',
    role: 'client',
    code: E.H3_CLOSED_CRITICAL_STREAM,
    script: (p) => {
      const id = p.control();
      p.pair.pump();
      p.raw.resetStream(id, 0x100);
    },
  },
  {
    name: 'DATA on the control stream is H3_FRAME_UNEXPECTED (§7.2.1)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => p.uni(concatBytes(uniType(0), SETTINGS, dataFrame(new Uint8Array(3)))),
  },
  {
    name: 'a second SETTINGS frame is H3_FRAME_UNEXPECTED (§7.2.4)',
    role: 'client',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => p.uni(concatBytes(uniType(0), SETTINGS, SETTINGS)),
  },
  {
    name: 'an HTTP/2 frame type on the control stream is H3_FRAME_UNEXPECTED (§7.2.8)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => p.uni(concatBytes(uniType(0), SETTINGS, fromHex('0600'))),
  },
  {
    name: 'SETTINGS_H3_DATAGRAM = 2 is H3_SETTINGS_ERROR (RFC 9297 §2.1.1)',
    role: 'server',
    code: E.H3_SETTINGS_ERROR,
    script: (p) => p.uni(concatBytes(uniType(0), fromHex('0402 3302'))),
  },
  {
    name: 'a second QPACK encoder stream is H3_STREAM_CREATION_ERROR (RFC 9204 §4.2)',
    role: 'server',
    code: E.H3_STREAM_CREATION_ERROR,
    script: (p) => {
      p.control();
      p.uni(uniType(2));
      p.uni(uniType(2));
    },
  },
  {
    name: 'a second QPACK decoder stream is H3_STREAM_CREATION_ERROR (RFC 9204 §4.2)',
    role: 'client',
    code: E.H3_STREAM_CREATION_ERROR,
    script: (p) => {
      p.control();
      p.uni(uniType(3));
      p.uni(uniType(3));
    },
  },
  {
    name: 'closing the QPACK encoder stream is H3_CLOSED_CRITICAL_STREAM (RFC 9204 §4.2)',
    role: 'server',
    code: E.H3_CLOSED_CRITICAL_STREAM,
    script: (p) => {
      p.control();
      p.uni(uniType(2), true);
    },
  },
  {
    name: 'closing the QPACK decoder stream is H3_CLOSED_CRITICAL_STREAM (RFC 9204 §4.2)',
    role: 'client',
    code: E.H3_CLOSED_CRITICAL_STREAM,
    script: (p) => {
      p.control();
      p.uni(uniType(3), true);
    },
  },
  {
    name: 'a push stream at a client that sent no MAX_PUSH_ID is H3_ID_ERROR (§4.6)',
    role: 'client',
    code: E.H3_ID_ERROR,
    script: (p) => {
      p.control();
      p.uni(fromHex('0100'));
    },
  },
  {
    name: 'a push stream from a client is H3_STREAM_CREATION_ERROR (§6.2.2)',
    role: 'server',
    code: E.H3_STREAM_CREATION_ERROR,
    script: (p) => {
      p.control();
      p.uni(fromHex('0100'));
    },
  },
  {
    name: 'a server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR (§6.1)',
    role: 'client',
    code: E.H3_STREAM_CREATION_ERROR,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, headersFrame(GET_HEADERS));
    },
  },
  {
    name: 'CANCEL_PUSH at a client that allows no pushes is H3_ID_ERROR (§7.2.3)',
    role: 'client',
    code: E.H3_ID_ERROR,
    script: (p) =>
      p.uni(concatBytes(uniType(0), SETTINGS, encodeFrame({ kind: 'CANCEL_PUSH', pushId: 0n }))),
  },
  {
    name: 'CANCEL_PUSH for a push never promised is H3_ID_ERROR at a server (§7.2.3)',
    role: 'server',
    code: E.H3_ID_ERROR,
    script: (p) =>
      p.uni(concatBytes(uniType(0), SETTINGS, encodeFrame({ kind: 'CANCEL_PUSH', pushId: 3n }))),
  },
  {
    name: 'MAX_PUSH_ID from a server is H3_FRAME_UNEXPECTED (§7.2.7)',
    role: 'client',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) =>
      p.uni(concatBytes(uniType(0), SETTINGS, encodeFrame({ kind: 'MAX_PUSH_ID', pushId: 5n }))),
  },
  {
    name: 'a decreasing MAX_PUSH_ID is H3_ID_ERROR (§7.2.7)',
    role: 'server',
    code: E.H3_ID_ERROR,
    script: (p) =>
      p.uni(
        concatBytes(
          uniType(0),
          encodeFrames([
            { kind: 'SETTINGS', settings: {} },
            { kind: 'MAX_PUSH_ID', pushId: 5n },
            { kind: 'MAX_PUSH_ID', pushId: 4n },
          ]),
        ),
      ),
  },
  {
    name: 'a GOAWAY larger than the previous one is H3_ID_ERROR (§5.2)',
    role: 'client',
    code: E.H3_ID_ERROR,
    script: (p) => {
      // A request outstanding keeps the client from closing after the first GOAWAY.
      p.session.request(GET_HEADERS);
      p.uni(
        concatBytes(
          uniType(0),
          encodeFrames([
            { kind: 'SETTINGS', settings: {} },
            { kind: 'GOAWAY', id: 8n },
            { kind: 'GOAWAY', id: 12n },
          ]),
        ),
      );
    },
  },
  {
    name: 'a GOAWAY naming a non-request stream ID is H3_ID_ERROR at a client (§7.2.6)',
    role: 'client',
    code: E.H3_ID_ERROR,
    script: (p) =>
      p.uni(concatBytes(uniType(0), SETTINGS, encodeFrame({ kind: 'GOAWAY', id: 2n }))),
  },
  {
    name: 'STOP_SENDING on our control stream is H3_CLOSED_CRITICAL_STREAM (§6.2.1)',
    role: 'server',
    code: E.H3_CLOSED_CRITICAL_STREAM,
    script: (p) => {
      p.control();
      p.raw.stopSending(p.session.localStreamIds.control!, 0x100);
    },
  },
  {
    name: 'DATA before HEADERS on a request stream is H3_FRAME_UNEXPECTED (§4.1)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(id, dataFrame(new Uint8Array(4)));
    },
  },
  {
    name: 'HEADERS after the trailing HEADERS is H3_FRAME_UNEXPECTED (§4.1)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(
        id,
        concatBytes(
          headersFrame(GET_HEADERS),
          headersFrame([['x', '1']]),
          headersFrame([['y', '2']]),
        ),
      );
    },
  },
  {
    name: 'DATA after the trailing HEADERS is H3_FRAME_UNEXPECTED (§4.1)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(
        id,
        concatBytes(
          headersFrame(GET_HEADERS),
          headersFrame([['x', '1']]),
          dataFrame(new Uint8Array(1)),
        ),
      );
    },
  },
  {
    name: 'PUSH_PROMISE from a client is H3_FRAME_UNEXPECTED (§7.2.5)',
    role: 'server',
    code: E.H3_FRAME_UNEXPECTED,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      p.raw.writeStream(
        id,
        encodeFrame({ kind: 'PUSH_PROMISE', pushId: 0n, fieldSection: new Uint8Array([0, 0]) }),
      );
    },
  },
  {
    name: 'a request stream ending inside a frame is H3_FRAME_ERROR (§7.1)',
    role: 'server',
    code: E.H3_FRAME_ERROR,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      const h = headersFrame(GET_HEADERS);
      p.raw.writeStream(id, h.subarray(0, h.length - 1), true);
    },
  },
  {
    name: 'an invalid QPACK encoder instruction is QPACK_ENCODER_STREAM_ERROR (RFC 9204 §6)',
    role: 'server',
    code: E.QPACK_ENCODER_STREAM_ERROR,
    // Set Dynamic Table Capacity 8000, above our maximum of 4096.
    script: (p) => {
      p.control();
      p.uni(concatBytes(uniType(2), fromHex('3fa13e')));
    },
  },
  {
    name: 'a field section with an invalid static index is QPACK_DECOMPRESSION_FAILED (RFC 9204 §3.1)',
    role: 'server',
    code: E.QPACK_DECOMPRESSION_FAILED,
    script: (p) => {
      p.control();
      const id = p.raw.openStream(true)!;
      // Prefix 0 0, then Indexed Field Line static index 99 + 63 (1 1 111111 + 0x24): beyond 98.
      p.raw.writeStream(id, encodeFrame({ kind: 'HEADERS', fieldSection: fromHex('0000ff24') }));
    },
  },
  {
    name: 'an HTTP/3 datagram with a Quarter Stream ID above 2^60 - 1 is H3_DATAGRAM_ERROR (RFC 9297 §2.1)',
    role: 'server',
    code: E.H3_DATAGRAM_ERROR,
    session: { h3Datagram: true },
    script: (p) => {
      p.control({ h3Datagram: true });
      p.pair.pump();
      p.raw.sendDatagram(fromHex('d000000000000000ff'));
    },
  },
  {
    name: 'an HTTP/3 datagram too short for its Quarter Stream ID is H3_DATAGRAM_ERROR (RFC 9297 §2.1)',
    role: 'client',
    code: E.H3_DATAGRAM_ERROR,
    session: { h3Datagram: true },
    script: (p) => {
      p.control({ h3Datagram: true });
      p.pair.pump();
      p.raw.sendDatagram(fromHex('40'));
    },
  },
];

describe('connection errors close the connection with the RFC code', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const p = rawPeer(c.role, { session: c.session });
    c.script(p);
    p.pump();
    expect(p.closeCode()).toBe(c.code);
    const errors = ofType(p.events, 'connection-error');
    expect(errors).toHaveLength(1);
    expect(errors[0].code).toBe(c.code);
    // The peer saw the close, and the session reported the end.
    expect(p.raw.closeInfo?.byPeer).toBe(true);
    expect(ofType(p.events, 'closed')).toHaveLength(1);
  });

  it('every case is also detected when the peer sends one byte at a time', () => {
    for (const c of CASES) {
      const p = rawPeer(c.role, { session: c.session, quic: { chunking: 'byte' } });
      c.script(p);
      p.pump();
      expect(p.closeCode(), c.name).toBe(c.code);
    }
  });
});

describe('streams that are not errors', () => {
  it('an unknown or reserved unidirectional stream type gets STOP_SENDING H3_STREAM_CREATION_ERROR, not a close (§6.2)', () => {
    const p = rawPeer('server');
    p.control();
    const reserved = p.uni(concatBytes(uniType(0x21n + 0x1fn * 7n), new Uint8Array(100)));
    const unknown = p.uni(concatBytes(uniType(0x54), new Uint8Array(10)));
    p.pump();
    expect(p.closeCode()).toBeUndefined();
    const stops = p.rawEvents.filter((e) => e.type === 'stop-sending');
    const got = stops.map((e) => (e.type === 'stop-sending' ? [e.streamId, e.errorCode] : []));
    expect(got.sort((a, b) => a[0] - b[0])).toEqual([
      [reserved, E.H3_STREAM_CREATION_ERROR],
      [unknown, E.H3_STREAM_CREATION_ERROR],
    ]);
  });

  it('a unidirectional stream closed or reset before its type is tolerated (§6.2)', () => {
    const p = rawPeer('client');
    p.control();
    p.uni(new Uint8Array(0), true);
    const id = p.uni(fromHex('40'));
    p.pair.pump();
    p.raw.resetStream(id, 0x100);
    p.pump();
    expect(p.closeCode()).toBeUndefined();
  });

  it('unknown and reserved frames on the control stream are ignored (§9)', () => {
    const p = rawPeer('server');
    p.uni(
      concatBytes(
        uniType(0),
        SETTINGS,
        encodeFrame({ kind: 'UNKNOWN', type: 0x21n, payload: new Uint8Array(50) }),
        encodeFrame({ kind: 'UNKNOWN', type: 0x1234n, payload: new Uint8Array(0) }),
      ),
    );
    p.pump();
    expect(p.closeCode()).toBeUndefined();
    expect(ofType(p.events, 'settings')).toHaveLength(1);
  });
});
