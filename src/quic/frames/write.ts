/**
 * Frame encoding: `writeFrame` appends a frame to a {@link ByteWriter}; `frameLength` returns
 * exactly the number of bytes `writeFrame` writes. Both throw `CodecError` for frames that
 * cannot be encoded (out-of-range numbers, wrong fixed sizes, unordered ACK ranges).
 */
import { ByteWriter, CodecError } from '../../wire/index.js';
import { ackLength, writeAck } from './ack.js';
import { ackFrequencyLength, writeAckFrequency } from './ack-frequency.js';
import { connectionCloseLength, writeConnectionClose } from './close.js';
import {
  newConnectionIdLength,
  retireConnectionIdLength,
  writeNewConnectionId,
  writeRetireConnectionId,
} from './connection-ids.js';
import {
  connectionLimitLength,
  newTokenLength,
  PATH_DATA_LENGTH,
  streamCountFrameType,
  streamCountLength,
  streamLimitLength,
  writeConnectionLimit,
  writeNewToken,
  writePathData,
  writeStreamCount,
  writeStreamLimit,
} from './control.js';
import { datagramLength, writeDatagram } from './datagram.js';
import {
  cryptoLength,
  resetStreamLength,
  stopSendingLength,
  streamFrameType,
  streamLength,
  writeCrypto,
  writeResetStream,
  writeStopSending,
  writeStream,
} from './stream.js';
import { type Frame, FrameType, type FrameTypeInfo, frameTypeInfo } from './types.js';

export function writeFrame(w: ByteWriter, f: Frame): void {
  switch (f.kind) {
    case 'PADDING':
      if (!(Number.isSafeInteger(f.length) && f.length >= 1)) {
        throw new CodecError('MALFORMED', `PADDING run of ${f.length} bytes`);
      }
      w.zeros(f.length);
      return;
    case 'PING':
      w.u8(FrameType.PING);
      return;
    case 'IMMEDIATE_ACK':
      w.u8(FrameType.IMMEDIATE_ACK);
      return;
    case 'ACK_FREQUENCY':
      writeAckFrequency(w, f);
      return;
    case 'ACK':
      writeAck(w, f);
      return;
    case 'RESET_STREAM':
      writeResetStream(w, f);
      return;
    case 'STOP_SENDING':
      writeStopSending(w, f);
      return;
    case 'CRYPTO':
      writeCrypto(w, f);
      return;
    case 'NEW_TOKEN':
      writeNewToken(w, f);
      return;
    case 'STREAM':
      writeStream(w, f);
      return;
    case 'MAX_DATA':
    case 'DATA_BLOCKED':
      writeConnectionLimit(w, f);
      return;
    case 'MAX_STREAM_DATA':
    case 'STREAM_DATA_BLOCKED':
      writeStreamLimit(w, f);
      return;
    case 'MAX_STREAMS':
    case 'STREAMS_BLOCKED':
      writeStreamCount(w, f);
      return;
    case 'NEW_CONNECTION_ID':
      writeNewConnectionId(w, f);
      return;
    case 'RETIRE_CONNECTION_ID':
      writeRetireConnectionId(w, f);
      return;
    case 'PATH_CHALLENGE':
    case 'PATH_RESPONSE':
      writePathData(w, f);
      return;
    case 'CONNECTION_CLOSE':
      writeConnectionClose(w, f);
      return;
    case 'HANDSHAKE_DONE':
      w.u8(FrameType.HANDSHAKE_DONE);
      return;
    case 'DATAGRAM':
      writeDatagram(w, f);
      return;
  }
}

/** Exactly the number of bytes {@link writeFrame} writes for `f`. */
export function frameLength(f: Frame): number {
  switch (f.kind) {
    case 'PADDING':
      return f.length;
    case 'PING':
    case 'HANDSHAKE_DONE':
    case 'IMMEDIATE_ACK':
      return 1;
    case 'ACK_FREQUENCY':
      return ackFrequencyLength(f);
    case 'ACK':
      return ackLength(f);
    case 'RESET_STREAM':
      return resetStreamLength(f);
    case 'STOP_SENDING':
      return stopSendingLength(f);
    case 'CRYPTO':
      return cryptoLength(f);
    case 'NEW_TOKEN':
      return newTokenLength(f);
    case 'STREAM':
      return streamLength(f);
    case 'MAX_DATA':
    case 'DATA_BLOCKED':
      return connectionLimitLength(f);
    case 'MAX_STREAM_DATA':
    case 'STREAM_DATA_BLOCKED':
      return streamLimitLength(f);
    case 'MAX_STREAMS':
    case 'STREAMS_BLOCKED':
      return streamCountLength(f);
    case 'NEW_CONNECTION_ID':
      return newConnectionIdLength(f);
    case 'RETIRE_CONNECTION_ID':
      return retireConnectionIdLength(f);
    case 'PATH_CHALLENGE':
    case 'PATH_RESPONSE':
      return 1 + PATH_DATA_LENGTH;
    case 'CONNECTION_CLOSE':
      return connectionCloseLength(f);
    case 'DATAGRAM':
      return datagramLength(f);
  }
}

/** The frame type value `f` is written with (the first one for a PADDING run). */
export function frameTypeOf(f: Frame): number {
  switch (f.kind) {
    case 'ACK':
      return f.ecn ? FrameType.ACK_ECN : FrameType.ACK;
    case 'STREAM':
      return streamFrameType(f);
    case 'MAX_STREAMS':
    case 'STREAMS_BLOCKED':
      return streamCountFrameType(f);
    case 'CONNECTION_CLOSE':
      return f.application ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE;
    case 'DATAGRAM':
      return f.implicitLength ? FrameType.DATAGRAM : FrameType.DATAGRAM_LEN;
    case 'PATH_CHALLENGE':
      return FrameType.PATH_CHALLENGE;
    case 'PATH_RESPONSE':
      return FrameType.PATH_RESPONSE;
    case 'MAX_DATA':
      return FrameType.MAX_DATA;
    case 'DATA_BLOCKED':
      return FrameType.DATA_BLOCKED;
    case 'MAX_STREAM_DATA':
      return FrameType.MAX_STREAM_DATA;
    case 'STREAM_DATA_BLOCKED':
      return FrameType.STREAM_DATA_BLOCKED;
    default:
      return FrameType[f.kind];
  }
}

/** Table 3 facts for a frame value (ack-eliciting, in flight, allowed packet types). */
export function infoOf(f: Frame): FrameTypeInfo {
  return frameTypeInfo(frameTypeOf(f))!;
}

/** RFC 9002 §2: a packet is ack-eliciting when it carries at least one ack-eliciting frame. */
export function isAckEliciting(frames: readonly Frame[]): boolean {
  for (const f of frames) if (infoOf(f).ackEliciting) return true;
  return false;
}

/** RFC 9002 §2: a packet counts toward bytes in flight when ack-eliciting or padded. */
export function countsInFlight(frames: readonly Frame[]): boolean {
  for (const f of frames) if (infoOf(f).inFlight) return true;
  return false;
}

/** Encodes frames into a new buffer (tests and control-plane code; packet builders use a writer). */
export function encodeFrames(frames: readonly Frame[]): Uint8Array {
  let size = 0;
  frames.forEach((f, i) => {
    // A frame without a Length field runs to the end of the packet, so it can only be last.
    if ('implicitLength' in f && f.implicitLength && i !== frames.length - 1) {
      throw new CodecError('MALFORMED', `${f.kind} without a Length field must be the last frame`);
    }
    size += frameLength(f);
  });
  const w = ByteWriter.into(new Uint8Array(size));
  for (const f of frames) writeFrame(w, f);
  return w.view();
}
