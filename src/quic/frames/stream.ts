/**
 * Stream data and stream termination: STREAM (RFC 9000 §19.8), CRYPTO (§19.6),
 * RESET_STREAM (§19.4) and STOP_SENDING (§19.5).
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { checkDataEnd, checkDataEndForWrite, vlen } from './codec.js';
import {
  type CryptoFrame,
  FrameType,
  type ResetStreamFrame,
  type StopSendingFrame,
  StreamFlag,
  type StreamFrame,
} from './types.js';

// STREAM Frame { Type (i) = 0b00001 OFF LEN FIN, Stream ID (i), [Offset (i)], [Length (i)],
//                Stream Data (..) }
export function parseStream(r: ByteReader, type: number): StreamFrame {
  const streamId = r.varint();
  const offset = type & StreamFlag.OFF ? r.varint() : 0;
  // RFC 9000 §19.8: with the LEN bit clear "the Stream Data field consumes all the remaining
  // bytes in the packet".
  const implicitLength = (type & StreamFlag.LEN) === 0;
  const data = implicitLength ? r.rest() : r.bytes(r.varint());
  checkDataEnd(type, offset, data.length);
  return {
    kind: 'STREAM',
    streamId,
    offset,
    data,
    fin: (type & StreamFlag.FIN) !== 0,
    implicitLength,
  };
}

/** The type byte a STREAM frame is written with (OFF only when the offset is non-zero). */
export function streamFrameType(f: StreamFrame): number {
  return (
    FrameType.STREAM |
    (f.offset > 0 ? StreamFlag.OFF : 0) |
    (f.implicitLength ? 0 : StreamFlag.LEN) |
    (f.fin ? StreamFlag.FIN : 0)
  );
}

export function writeStream(w: ByteWriter, f: StreamFrame): void {
  checkDataEndForWrite(f.offset, f.data.length);
  w.u8(streamFrameType(f)).varint(f.streamId);
  if (f.offset > 0) w.varint(f.offset);
  if (!f.implicitLength) w.varint(f.data.length);
  w.bytes(f.data);
}

export function streamLength(f: StreamFrame): number {
  checkDataEndForWrite(f.offset, f.data.length);
  return (
    1 +
    vlen(f.streamId) +
    (f.offset > 0 ? vlen(f.offset) : 0) +
    (f.implicitLength ? 0 : vlen(f.data.length)) +
    f.data.length
  );
}

/**
 * Bytes of stream data that fit in `space` bytes as one STREAM frame with a Length field, or 0.
 * For packet builders that fill the remainder of a packet.
 */
export function streamDataCapacity(streamId: number, offset: number, space: number): number {
  const header = 1 + vlen(streamId) + (offset > 0 ? vlen(offset) : 0);
  let avail = space - header - 1;
  if (avail <= 0) return 0;
  // The Length field grows with the length; shrink until it fits.
  while (avail > 0 && header + vlen(avail) + avail > space) avail--;
  return Math.max(0, avail);
}

// CRYPTO Frame { Type (i) = 0x06, Offset (i), Length (i), Crypto Data (..) }
export function parseCrypto(r: ByteReader, type: number): CryptoFrame {
  const offset = r.varint();
  const data = r.bytes(r.varint());
  checkDataEnd(type, offset, data.length);
  return { kind: 'CRYPTO', offset, data };
}

export function writeCrypto(w: ByteWriter, f: CryptoFrame): void {
  checkDataEndForWrite(f.offset, f.data.length);
  w.u8(FrameType.CRYPTO).varint(f.offset).varint(f.data.length).bytes(f.data);
}

export function cryptoLength(f: CryptoFrame): number {
  checkDataEndForWrite(f.offset, f.data.length);
  return 1 + vlen(f.offset) + vlen(f.data.length) + f.data.length;
}

// RESET_STREAM Frame { Type (i) = 0x04, Stream ID (i), Application Protocol Error Code (i),
//                      Final Size (i) }
export function parseResetStream(r: ByteReader): ResetStreamFrame {
  const streamId = r.varint();
  const errorCode = r.varintClamped();
  const finalSize = r.varint();
  return { kind: 'RESET_STREAM', streamId, errorCode, finalSize };
}

export function writeResetStream(w: ByteWriter, f: ResetStreamFrame): void {
  w.u8(FrameType.RESET_STREAM).varint(f.streamId).varint(f.errorCode).varint(f.finalSize);
}

export function resetStreamLength(f: ResetStreamFrame): number {
  return 1 + vlen(f.streamId) + vlen(f.errorCode) + vlen(f.finalSize);
}

// STOP_SENDING Frame { Type (i) = 0x05, Stream ID (i), Application Protocol Error Code (i) }
export function parseStopSending(r: ByteReader): StopSendingFrame {
  const streamId = r.varint();
  const errorCode = r.varintClamped();
  return { kind: 'STOP_SENDING', streamId, errorCode };
}

export function writeStopSending(w: ByteWriter, f: StopSendingFrame): void {
  w.u8(FrameType.STOP_SENDING).varint(f.streamId).varint(f.errorCode);
}

export function stopSendingLength(f: StopSendingFrame): number {
  return 1 + vlen(f.streamId) + vlen(f.errorCode);
}
