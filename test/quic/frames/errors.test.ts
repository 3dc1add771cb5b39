import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { parseFrames } from '../../../src/quic/frames/index.js';
import { fromHex } from '../../../src/wire/index.js';
import { causeCode, transportError } from './helpers.js';

const { FRAME_ENCODING_ERROR, PROTOCOL_VIOLATION } = TransportErrorCode;
const MAX62 = 'ffffffffffffffff'; // varint 2^62 - 1

function fails(hex: string, code: number, frameType: number, packet: '1' | 'I' = '1') {
  const err = transportError(() => parseFrames(fromHex(hex), packet));
  expect({ code: err.code, frameType: err.frameType }).toEqual({ code, frameType });
  return err;
}

describe('RFC 9000 §12.4 payload rules', () => {
  it('a packet with no frames is PROTOCOL_VIOLATION', () => {
    fails('', PROTOCOL_VIOLATION, 0);
  });

  it('an unknown frame type is FRAME_ENCODING_ERROR naming the type', () => {
    fails('20', FRAME_ENCODING_ERROR, 0x20);
    fails('40ae', FRAME_ENCODING_ERROR, 0xae);
    fails('01 21', FRAME_ENCODING_ERROR, 0x21);
    fails('402f', FRAME_ENCODING_ERROR, 0x2f);
    fails('7fff', FRAME_ENCODING_ERROR, 0x3fff);
    // An 8-byte type above 2^53 is unknown too (clamped read, never a RangeError).
    fails(MAX62, FRAME_ENCODING_ERROR, Number.MAX_SAFE_INTEGER);
  });

  it('a frame type not minimally encoded is PROTOCOL_VIOLATION (PING as 0x4001)', () => {
    fails('4001', PROTOCOL_VIOLATION, 0x01);
    fails('80000006 00 01 aa', PROTOCOL_VIOLATION, 0x06);
    fails('c000000000000030', PROTOCOL_VIOLATION, 0x30);
    // ACK_FREQUENCY's 0xaf needs two bytes (draft-ietf-quic-ack-frequency-14 §4); four is too many.
    fails('800000af 00 01 02 03', PROTOCOL_VIOLATION, 0xaf);
    expect(parseFrames(fromHex('40af 00 01 02 03'), '1')).toEqual([
      {
        kind: 'ACK_FREQUENCY',
        sequenceNumber: 0,
        ackElicitingThreshold: 1,
        requestedMaxAckDelay: 2,
        reorderingThreshold: 3,
      },
    ]);
  });

  it('a truncated frame type is FRAME_ENCODING_ERROR', () => {
    const err = fails('01 40', FRAME_ENCODING_ERROR, 0);
    expect(causeCode(err)).toBe('TRUNCATED');
  });
});

describe('RFC 9000 §19.3.1: "If any computed packet number is negative ... FRAME_ENCODING_ERROR"', () => {
  it('accepts ranges that reach exactly packet 0', () => {
    // largest 5, first range 5 -> [0, 5]
    expect(parseFrames(fromHex('02 05 00 00 05'), '1')).toEqual([
      { kind: 'ACK', ranges: [[0, 5]], ackDelay: 0, ecn: null },
    ]);
    // largest 10, first 2 -> [8, 10]; gap 0 -> largest 6; length 6 -> [0, 6]
    expect(parseFrames(fromHex('02 0a 00 01 02 00 06'), '1')).toEqual([
      {
        kind: 'ACK',
        ranges: [
          [8, 10],
          [0, 6],
        ],
        ackDelay: 0,
        ecn: null,
      },
    ]);
  });

  it('rejects a first ACK range larger than Largest Acknowledged', () => {
    fails('02 05 00 00 06', FRAME_ENCODING_ERROR, 0x02);
  });

  it('rejects a gap that goes below zero', () => {
    // [8, 10], gap 7 -> largest 8 - 7 - 2 = -1
    fails('02 0a 00 01 02 07 00', FRAME_ENCODING_ERROR, 0x02);
  });

  it('rejects an ACK Range Length that goes below zero (ECN variant too)', () => {
    // [8, 10], gap 0 -> largest 6, length 7 -> smallest -1
    fails('02 0a 00 01 02 00 07', FRAME_ENCODING_ERROR, 0x02);
    fails('03 0a 00 01 02 00 07 00 00 00', FRAME_ENCODING_ERROR, 0x03);
  });

  it('a Largest Acknowledged above 2^53 - 1 is FRAME_ENCODING_ERROR (VARINT_RANGE)', () => {
    const err = fails(`02 ${MAX62} 00 00 00`, FRAME_ENCODING_ERROR, 0x02);
    expect(causeCode(err)).toBe('VARINT_RANGE');
  });

  it('a huge range count ends in TRUNCATED, not a long loop', () => {
    const err = fails(`02 05 00 ${'bfffffff'} 00 00 00`, FRAME_ENCODING_ERROR, 0x02);
    expect(causeCode(err)).toBe('TRUNCATED');
  });

  it('decodes ECN counts for type 0x03', () => {
    expect(parseFrames(fromHex('03 00 4001 00 00 01 02 03'), 'H')).toEqual([
      { kind: 'ACK', ranges: [[0, 0]], ackDelay: 1, ecn: { ect0: 1, ect1: 2, ce: 3 } },
    ]);
  });
});

describe('RFC 9000 §19.7 NEW_TOKEN', () => {
  it('an empty token is FRAME_ENCODING_ERROR', () => {
    fails('07 00', FRAME_ENCODING_ERROR, 0x07);
  });
});

describe('RFC 9000 §19.6 / §19.8: offset + length must stay representable', () => {
  it('STREAM with an offset of 2^62 - 1 and data is FRAME_ENCODING_ERROR', () => {
    fails(`0e 00 ${MAX62} 01 aa`, FRAME_ENCODING_ERROR, 0x0e);
  });

  it('STREAM ending beyond 2^53 - 1 is FRAME_ENCODING_ERROR', () => {
    // offset 2^53 - 1 (8 bytes: c01fffffffffffff), length 1
    fails('0e 00 c01fffffffffffff 01 aa', FRAME_ENCODING_ERROR, 0x0e);
    // same without LEN: the single byte after the offset is the data
    fails('0c 00 c01fffffffffffff aa', FRAME_ENCODING_ERROR, 0x0c);
  });

  it('STREAM ending exactly at 2^53 - 1 is accepted (empty data, FIN)', () => {
    expect(parseFrames(fromHex('0f 04 c01fffffffffffff 00'), '1')).toEqual([
      {
        kind: 'STREAM',
        streamId: 4,
        offset: Number.MAX_SAFE_INTEGER,
        data: new Uint8Array(0),
        fin: true,
        implicitLength: false,
      },
    ]);
  });

  it('CRYPTO beyond the limit is FRAME_ENCODING_ERROR', () => {
    fails(`06 ${MAX62} 01 aa`, FRAME_ENCODING_ERROR, 0x06, 'I');
    fails('06 c01fffffffffffff 01 aa', FRAME_ENCODING_ERROR, 0x06, 'I');
  });

  it('a stream ID above 2^53 - 1 is FRAME_ENCODING_ERROR', () => {
    const err = fails(`0a ${MAX62} 00`, FRAME_ENCODING_ERROR, 0x0a);
    expect(causeCode(err)).toBe('VARINT_RANGE');
  });
});

describe('RFC 9000 §19.8 STREAM without LEN / RFC 9221 §4 DATAGRAM 0x30 take the rest', () => {
  it('STREAM 0x08 swallows what would otherwise parse as frames', () => {
    expect(parseFrames(fromHex('08 04 01 01 1e'), '1')).toEqual([
      {
        kind: 'STREAM',
        streamId: 4,
        offset: 0,
        data: fromHex('01011e'),
        fin: false,
        implicitLength: true,
      },
    ]);
  });

  it('STREAM with OFF, LEN and FIN set is followed by more frames', () => {
    expect(parseFrames(fromHex('0f 01 4400 02 abcd 01'), '0')).toEqual([
      {
        kind: 'STREAM',
        streamId: 1,
        offset: 0x400,
        data: fromHex('abcd'),
        fin: true,
        implicitLength: false,
      },
      { kind: 'PING' },
    ]);
  });

  it('DATAGRAM 0x30 takes the rest (possibly empty); 0x31 has a length', () => {
    expect(parseFrames(fromHex('31 02 aabb 30 01 02'), '1')).toEqual([
      { kind: 'DATAGRAM', data: fromHex('aabb'), implicitLength: false },
      { kind: 'DATAGRAM', data: fromHex('0102'), implicitLength: true },
    ]);
    expect(parseFrames(fromHex('01 30'), '0')).toEqual([
      { kind: 'PING' },
      { kind: 'DATAGRAM', data: new Uint8Array(0), implicitLength: true },
    ]);
  });
});

describe('RFC 9000 §19.11 / §19.14: stream counts above 2^60', () => {
  it('MAX_STREAMS of 2^60 + 1 is FRAME_ENCODING_ERROR (both directions)', () => {
    fails('12 d000000000000001', FRAME_ENCODING_ERROR, 0x12);
    fails('13 d000000000000001', FRAME_ENCODING_ERROR, 0x13);
  });

  it('STREAMS_BLOCKED of 2^62 - 1 is FRAME_ENCODING_ERROR (both directions)', () => {
    fails(`16 ${MAX62}`, FRAME_ENCODING_ERROR, 0x16);
    fails(`17 ${MAX62}`, FRAME_ENCODING_ERROR, 0x17);
  });

  it('exactly 2^60 is accepted', () => {
    expect(parseFrames(fromHex('16 d000000000000000'), '1')).toEqual([
      { kind: 'STREAMS_BLOCKED', bidi: true, maximum: Number.MAX_SAFE_INTEGER },
    ]);
  });
});

describe('RFC 9000 §19.15 NEW_CONNECTION_ID', () => {
  const token = '00112233445566778899aabbccddeeff';

  it('a connection ID length of 0 or 21 is FRAME_ENCODING_ERROR', () => {
    fails(`18 01 00 00 ${token}`, FRAME_ENCODING_ERROR, 0x18);
    fails(`18 01 00 15 ${'ab'.repeat(21)} ${token}`, FRAME_ENCODING_ERROR, 0x18);
  });

  it('Retire Prior To above Sequence Number is FRAME_ENCODING_ERROR', () => {
    fails(`18 01 02 04 01020304 ${token}`, FRAME_ENCODING_ERROR, 0x18);
  });

  it('lengths 1 and 20 and retire == sequence are accepted', () => {
    const frames = parseFrames(
      fromHex(`18 02 02 01 aa ${token} 18 03 00 14 ${'cd'.repeat(20)} ${token}`),
      '1',
    );
    expect(frames.map((f) => f.kind === 'NEW_CONNECTION_ID' && f.connectionId.length)).toEqual([
      1, 20,
    ]);
  });

  it('a 15-byte stateless reset token at the end of the packet is truncated', () => {
    const err = fails(`18 01 00 01 aa ${token.slice(2)}`, FRAME_ENCODING_ERROR, 0x18);
    expect(causeCode(err)).toBe('TRUNCATED');
  });
});

describe('PATH_CHALLENGE / PATH_RESPONSE carry exactly 8 bytes', () => {
  it('decode 8 bytes and continue', () => {
    expect(parseFrames(fromHex('1a 0102030405060708 1b 1112131415161718'), '1')).toEqual([
      { kind: 'PATH_CHALLENGE', data: fromHex('0102030405060708') },
      { kind: 'PATH_RESPONSE', data: fromHex('1112131415161718') },
    ]);
  });

  it('7 bytes are truncated', () => {
    fails('1a 01020304050607', FRAME_ENCODING_ERROR, 0x1a);
  });
});

describe('CONNECTION_CLOSE', () => {
  it('0x1c carries a frame type, 0x1d does not', () => {
    expect(parseFrames(fromHex('1c 07 18 03 626164'), 'I')).toEqual([
      {
        kind: 'CONNECTION_CLOSE',
        application: false,
        errorCode: 7,
        frameType: 0x18,
        reason: fromHex('626164'),
      },
    ]);
    expect(parseFrames(fromHex('1d 4100 02 6f6b'), '1')).toEqual([
      {
        kind: 'CONNECTION_CLOSE',
        application: true,
        errorCode: 0x100,
        frameType: 0,
        reason: fromHex('6f6b'),
      },
    ]);
  });

  it('a reason phrase longer than the packet is FRAME_ENCODING_ERROR', () => {
    fails('1c 00 00 05 6162', FRAME_ENCODING_ERROR, 0x1c);
  });
});
