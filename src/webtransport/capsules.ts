/**
 * The WebTransport capsules of the CONNECT stream (draft §5):
 *
 *   CLOSE_WEBTRANSPORT_SESSION Capsule {
 *     Type (i) = 0x2843,
 *     Length (i),
 *     Application Error Code (32),
 *     Application Error Message (..8192),   // UTF-8, at most 1024 bytes
 *   }
 *
 *   DRAIN_WEBTRANSPORT_SESSION Capsule { Type (i) = 0x78ae, Length (i) = 0 }
 */
import { encodeCapsule } from '../capsule/capsules.js';
import { CapsuleError } from '../capsule/errors.js';
import { MAX_CLOSE_REASON_BYTES, WtCapsuleType } from './constants.js';

/** The session capsules we parse on a CONNECT stream, with their largest accepted length. */
export const WT_KNOWN_CAPSULES: ReadonlyArray<readonly [type: number, maxLength: number]> = [
  [WtCapsuleType.CLOSE_WEBTRANSPORT_SESSION, 4 + MAX_CLOSE_REASON_BYTES],
  [WtCapsuleType.DRAIN_WEBTRANSPORT_SESSION, 0],
];

/** The value of a CLOSE_WEBTRANSPORT_SESSION capsule. */
export interface WtCloseSession {
  /** Application Error Code (32 bits). */
  readonly code: number;
  /** Application Error Message (UTF-8 text). */
  readonly reason: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The capsule value (code + message). RangeError on a code above 32 bits or a long message. */
export function encodeCloseSessionValue(close: WtCloseSession): Uint8Array {
  const { code } = close;
  if (!Number.isInteger(code) || code < 0 || code > 0xffffffff) {
    throw new RangeError(`close code ${code} is not a 32-bit value`);
  }
  const message = encoder.encode(close.reason);
  if (message.length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(
      `close reason of ${message.length} bytes exceeds ${MAX_CLOSE_REASON_BYTES}`,
    );
  }
  const out = new Uint8Array(4 + message.length);
  new DataView(out.buffer).setUint32(0, code);
  out.set(message, 4);
  return out;
}

/** The whole CLOSE_WEBTRANSPORT_SESSION capsule. */
export function encodeCloseSession(close: WtCloseSession): Uint8Array {
  return encodeCapsule(WtCapsuleType.CLOSE_WEBTRANSPORT_SESSION, encodeCloseSessionValue(close));
}

/** The whole DRAIN_WEBTRANSPORT_SESSION capsule. */
export function encodeDrainSession(): Uint8Array {
  return encodeCapsule(WtCapsuleType.DRAIN_WEBTRANSPORT_SESSION, new Uint8Array(0));
}

/**
 * Decodes a CLOSE_WEBTRANSPORT_SESSION value. Throws `CapsuleError`: TRUNCATED under 4 bytes,
 * TOO_LARGE for a message above 1024 bytes, MALFORMED for a message that is not UTF-8.
 */
export function decodeCloseSessionValue(value: Uint8Array): WtCloseSession {
  if (value.length < 4) {
    throw new CapsuleError('CLOSE_WEBTRANSPORT_SESSION shorter than its error code', 'TRUNCATED');
  }
  if (value.length - 4 > MAX_CLOSE_REASON_BYTES) {
    throw new CapsuleError(
      `CLOSE_WEBTRANSPORT_SESSION message of ${value.length - 4} bytes`,
      'TOO_LARGE',
    );
  }
  const code = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0);
  let reason: string;
  try {
    reason = decoder.decode(value.subarray(4));
  } catch (err) {
    throw new CapsuleError('CLOSE_WEBTRANSPORT_SESSION message is not UTF-8', 'MALFORMED', {
      cause: err,
    });
  }
  return { code, reason };
}
