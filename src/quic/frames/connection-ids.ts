/**
 * Connection ID management frames: NEW_CONNECTION_ID (RFC 9000 §19.15) and
 * RETIRE_CONNECTION_ID (§19.16).
 */
import { type ByteReader, type ByteWriter, CodecError } from '../../wire/index.js';
import { checkSize, encodingError, vlen } from './codec.js';
import { FrameType, type NewConnectionIdFrame, type RetireConnectionIdFrame } from './types.js';

/** Longest connection ID in QUIC v1 (RFC 9000 §17.2). */
export const MAX_CONNECTION_ID_LENGTH = 20;
/** Size of a stateless reset token (RFC 9000 §10.3). */
export const STATELESS_RESET_TOKEN_LENGTH = 16;

// NEW_CONNECTION_ID Frame { Type (i) = 0x18, Sequence Number (i), Retire Prior To (i),
//   Length (8), Connection ID (8..160), Stateless Reset Token (128) }
export function parseNewConnectionId(r: ByteReader, type: number): NewConnectionIdFrame {
  const sequenceNumber = r.varint();
  const retirePriorTo = r.varint();
  const length = r.u8();
  // RFC 9000 §19.15: "Values less than 1 and greater than 20 are invalid and MUST be treated as
  // a connection error of type FRAME_ENCODING_ERROR."
  if (length < 1 || length > MAX_CONNECTION_ID_LENGTH) {
    throw encodingError(type, `connection ID length ${length} outside 1..20`);
  }
  const connectionId = r.bytes(length);
  const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
  // RFC 9000 §19.15: "Receiving a value in the Retire Prior To field that is greater than that in
  // the Sequence Number field MUST be treated as a connection error of type
  // FRAME_ENCODING_ERROR."
  if (retirePriorTo > sequenceNumber) {
    throw encodingError(type, `retire prior to ${retirePriorTo} above sequence ${sequenceNumber}`);
  }
  return {
    kind: 'NEW_CONNECTION_ID',
    sequenceNumber,
    retirePriorTo,
    connectionId,
    statelessResetToken,
  };
}

function checkNewConnectionId(f: NewConnectionIdFrame): void {
  const n = f.connectionId.length;
  if (n < 1 || n > MAX_CONNECTION_ID_LENGTH) {
    throw new CodecError('MALFORMED', `connection ID length ${n} outside 1..20`);
  }
  checkSize('stateless reset token', f.statelessResetToken, STATELESS_RESET_TOKEN_LENGTH);
  if (f.retirePriorTo > f.sequenceNumber) {
    throw new CodecError('MALFORMED', 'retire prior to above sequence number');
  }
}

export function writeNewConnectionId(w: ByteWriter, f: NewConnectionIdFrame): void {
  checkNewConnectionId(f);
  w.u8(FrameType.NEW_CONNECTION_ID).varint(f.sequenceNumber).varint(f.retirePriorTo);
  w.vec8(f.connectionId).bytes(f.statelessResetToken);
}

export function newConnectionIdLength(f: NewConnectionIdFrame): number {
  checkNewConnectionId(f);
  return (
    1 +
    vlen(f.sequenceNumber) +
    vlen(f.retirePriorTo) +
    1 +
    f.connectionId.length +
    STATELESS_RESET_TOKEN_LENGTH
  );
}

// RETIRE_CONNECTION_ID Frame { Type (i) = 0x19, Sequence Number (i) }
export function parseRetireConnectionId(r: ByteReader): RetireConnectionIdFrame {
  return { kind: 'RETIRE_CONNECTION_ID', sequenceNumber: r.varint() };
}

export function writeRetireConnectionId(w: ByteWriter, f: RetireConnectionIdFrame): void {
  w.u8(FrameType.RETIRE_CONNECTION_ID).varint(f.sequenceNumber);
}

export function retireConnectionIdLength(f: RetireConnectionIdFrame): number {
  return 1 + vlen(f.sequenceNumber);
}
