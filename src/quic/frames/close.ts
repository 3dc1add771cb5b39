/**
 * CONNECTION_CLOSE (RFC 9000 §19.19): 0x1c for transport errors (with the triggering frame type),
 * 0x1d for application errors (without it).
 *
 *   CONNECTION_CLOSE Frame { Type (i) = 0x1c..0x1d, Error Code (i), [Frame Type (i)],
 *                            Reason Phrase Length (i), Reason Phrase (..) }
 *
 * Error codes and frame types are clamped reads: anything above 2^53 - 1 is unknown anyway.
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { vlen } from './codec.js';
import { type ConnectionCloseFrame, FrameType } from './types.js';

export function parseConnectionClose(r: ByteReader, type: number): ConnectionCloseFrame {
  const application = type === FrameType.CONNECTION_CLOSE_APP;
  const errorCode = r.varintClamped();
  const frameType = application ? 0 : r.varintClamped();
  const reason = r.bytes(r.varint());
  return { kind: 'CONNECTION_CLOSE', application, errorCode, frameType, reason };
}

export function writeConnectionClose(w: ByteWriter, f: ConnectionCloseFrame): void {
  w.u8(f.application ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE);
  w.varint(f.errorCode);
  if (!f.application) w.varint(f.frameType);
  w.vecVarint(f.reason);
}

export function connectionCloseLength(f: ConnectionCloseFrame): number {
  return (
    1 +
    vlen(f.errorCode) +
    (f.application ? 0 : vlen(f.frameType)) +
    vlen(f.reason.length) +
    f.reason.length
  );
}
