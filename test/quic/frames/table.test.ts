import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import {
  countsInFlight,
  encodeFrames,
  type Frame,
  FrameType,
  frameTypeInfo,
  frameTypeOf,
  infoOf,
  isAckEliciting,
  KNOWN_FRAME_TYPES,
  type PacketType,
  parseFrames,
} from '../../../src/quic/frames/index.js';
import { transportError } from './helpers.js';

const token16 = new Uint8Array(16);

/** One valid frame per frame type value 0x00..0x1f, 0x30, 0x31, 0xaf. */
const SAMPLES: Frame[] = [
  { kind: 'PADDING', length: 1 },
  { kind: 'PING' },
  { kind: 'ACK', ranges: [[0, 3]], ackDelay: 0, ecn: null },
  { kind: 'ACK', ranges: [[0, 3]], ackDelay: 0, ecn: { ect0: 1, ect1: 0, ce: 0 } },
  { kind: 'RESET_STREAM', streamId: 0, errorCode: 0, finalSize: 0 },
  { kind: 'STOP_SENDING', streamId: 0, errorCode: 0 },
  { kind: 'CRYPTO', offset: 0, data: Uint8Array.of(1) },
  { kind: 'NEW_TOKEN', token: Uint8Array.of(1) },
  ...[0, 1, 2, 3, 4, 5, 6, 7].map(
    (bits): Frame => ({
      kind: 'STREAM',
      streamId: 0,
      offset: bits & 4 ? 1 : 0,
      data: Uint8Array.of(9),
      fin: (bits & 1) !== 0,
      implicitLength: (bits & 2) === 0,
    }),
  ),
  { kind: 'MAX_DATA', maximum: 1 },
  { kind: 'MAX_STREAM_DATA', streamId: 0, maximum: 1 },
  { kind: 'MAX_STREAMS', bidi: true, maximum: 1 },
  { kind: 'MAX_STREAMS', bidi: false, maximum: 1 },
  { kind: 'DATA_BLOCKED', maximum: 1 },
  { kind: 'STREAM_DATA_BLOCKED', streamId: 0, maximum: 1 },
  { kind: 'STREAMS_BLOCKED', bidi: true, maximum: 1 },
  { kind: 'STREAMS_BLOCKED', bidi: false, maximum: 1 },
  {
    kind: 'NEW_CONNECTION_ID',
    sequenceNumber: 1,
    retirePriorTo: 0,
    connectionId: Uint8Array.of(1),
    statelessResetToken: token16,
  },
  { kind: 'RETIRE_CONNECTION_ID', sequenceNumber: 0 },
  { kind: 'PATH_CHALLENGE', data: new Uint8Array(8) },
  { kind: 'PATH_RESPONSE', data: new Uint8Array(8) },
  {
    kind: 'CONNECTION_CLOSE',
    application: false,
    errorCode: 0,
    frameType: 0,
    reason: new Uint8Array(0),
  },
  {
    kind: 'CONNECTION_CLOSE',
    application: true,
    errorCode: 0,
    frameType: 0,
    reason: new Uint8Array(0),
  },
  { kind: 'HANDSHAKE_DONE' },
  { kind: 'IMMEDIATE_ACK' },
  { kind: 'DATAGRAM', data: Uint8Array.of(1), implicitLength: true },
  { kind: 'DATAGRAM', data: Uint8Array.of(1), implicitLength: false },
  {
    kind: 'ACK_FREQUENCY',
    sequenceNumber: 0,
    ackElicitingThreshold: 9,
    requestedMaxAckDelay: 1000,
    reorderingThreshold: 3,
  },
];

// Written out from RFC 9000 §12.4 Table 3 and §12.5, RFC 9221 §4 and draft-ietf-quic-ack-frequency-14
// §3 (neither of its frames in 0-RTT; our reading for the rest is in drafts/ack-frequency.md),
// independently of the source table: the frame types allowed in each packet type.
const ALLOWED: Record<PacketType, number[]> = {
  // §12.5: PADDING, PING, CRYPTO, ACK and CONNECTION_CLOSE 0x1c in Initial and Handshake;
  // IMMEDIATE_ACK (0x1f) in both, ACK_FREQUENCY (0xaf) in authenticated Handshake packets only.
  I: [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1f],
  H: [0x00, 0x01, 0x02, 0x03, 0x06, 0x1c, 0x1f, 0xaf],
  // Table 3 "0" column: everything except ACK, CRYPTO, NEW_TOKEN, PATH_RESPONSE, HANDSHAKE_DONE.
  '0': [
    0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1c, 0x1d, 0x30, 0x31,
  ],
  // "Note that all frames can appear in 1-RTT packets."
  '1': [...Array.from({ length: 0x20 }, (_, i) => i), 0x30, 0x31, 0xaf],
};

describe('RFC 9000 §12.4 Table 3: frames per packet type', () => {
  it('the samples cover every known frame type value once', () => {
    expect(SAMPLES.map(frameTypeOf)).toEqual(KNOWN_FRAME_TYPES);
    expect(KNOWN_FRAME_TYPES).toEqual(ALLOWED['1']);
  });

  for (const packet of ['I', '0', 'H', '1'] as const) {
    it(`packet type ${packet}: allowed frames parse, others are PROTOCOL_VIOLATION`, () => {
      for (const frame of SAMPLES) {
        const type = frameTypeOf(frame);
        const bytes = encodeFrames([frame]);
        if (ALLOWED[packet].includes(type)) {
          expect(parseFrames(bytes, packet)).toEqual([frame]);
        } else {
          const err = transportError(() => parseFrames(bytes, packet));
          expect([err.code, err.frameType]).toEqual([TransportErrorCode.PROTOCOL_VIOLATION, type]);
        }
      }
    });
  }

  it('a forbidden frame after allowed ones still fails the packet', () => {
    const bytes = encodeFrames([{ kind: 'PING' }, { kind: 'HANDSHAKE_DONE' }]);
    const err = transportError(() => parseFrames(bytes, 'H'));
    expect([err.code, err.frameType]).toEqual([TransportErrorCode.PROTOCOL_VIOLATION, 0x1e]);
  });
});

describe('RFC 9002 §2: ack-eliciting and in-flight', () => {
  it('only ACK, PADDING and CONNECTION_CLOSE are not ack-eliciting', () => {
    const notEliciting = KNOWN_FRAME_TYPES.filter((t) => !frameTypeInfo(t)!.ackEliciting);
    expect(notEliciting).toEqual([0x00, 0x02, 0x03, 0x1c, 0x1d]);
  });

  it('in flight: ack-eliciting or PADDING', () => {
    const notInFlight = KNOWN_FRAME_TYPES.filter((t) => !frameTypeInfo(t)!.inFlight);
    expect(notInFlight).toEqual([0x02, 0x03, 0x1c, 0x1d]);
  });

  it('packet-level helpers', () => {
    const ack = SAMPLES[2];
    const close = SAMPLES.find((f) => f.kind === 'CONNECTION_CLOSE')!;
    const pad: Frame = { kind: 'PADDING', length: 10 };
    expect([isAckEliciting([ack]), countsInFlight([ack])]).toEqual([false, false]);
    expect([isAckEliciting([ack, pad]), countsInFlight([ack, pad])]).toEqual([false, true]);
    expect([isAckEliciting([close]), countsInFlight([close])]).toEqual([false, false]);
    expect([isAckEliciting([ack, { kind: 'PING' }]), countsInFlight([ack])]).toEqual([true, false]);
    const dgram: Frame = { kind: 'DATAGRAM', data: new Uint8Array(1) };
    expect([isAckEliciting([dgram]), countsInFlight([dgram])]).toEqual([true, true]);
  });

  it('probing frames (P) and flow-controlled frames (F)', () => {
    const probing = KNOWN_FRAME_TYPES.filter((t) => frameTypeInfo(t)!.probing);
    expect(probing).toEqual([0x00, 0x18, 0x1a, 0x1b]);
    expect(
      infoOf({ kind: 'STREAM', streamId: 0, offset: 0, data: new Uint8Array(0), fin: true }),
    ).toMatchObject({ kind: 'STREAM', flowControlled: true });
    expect(frameTypeInfo(FrameType.DATAGRAM_LEN + 1)).toBeUndefined();
    expect(frameTypeInfo(0x20)).toBeUndefined();
    expect(frameTypeInfo(0xae)).toBeUndefined();
    expect(frameTypeInfo(0xb0)).toBeUndefined();
  });
});
