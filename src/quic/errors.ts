/**
 * QUIC transport errors (RFC 9000 §20.1). Thrown anywhere below the connection and caught at one
 * boundary, which turns them into CONNECTION_CLOSE (type 0x1c).
 */
import { CodecError } from '../wire/errors.js';

export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
} as const;

export type TransportErrorName = keyof typeof TransportErrorCode;

/** CRYPTO_ERROR range: 0x0100 + TLS alert description (RFC 9000 §20.1, RFC 9001 §4.8). */
export function cryptoErrorCode(alert: number): number {
  return 0x100 + (alert & 0xff);
}

export function transportErrorName(code: number): string {
  for (const [name, value] of Object.entries(TransportErrorCode)) if (value === code) return name;
  if (code >= 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${(code - 0x100).toString(16)})`;
  return `0x${code.toString(16)}`;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** The wire error code for CONNECTION_CLOSE. */
  readonly code: number;
  /** The frame type that triggered the error, when known (0 otherwise, RFC 9000 §19.19). */
  readonly frameType: number;

  constructor(code: number, reason: string, frameType = 0, options?: { cause?: unknown }) {
    super(reason, options);
    this.code = code;
    this.frameType = frameType;
  }

  /**
   * Wraps a byte-level failure met while decoding a frame as FRAME_ENCODING_ERROR (RFC 9000 §12.4:
   * "badly formatted frame"); other errors pass through unchanged.
   */
  static fromCodec(
    err: unknown,
    frameType = 0,
    code: number = TransportErrorCode.FRAME_ENCODING_ERROR,
  ): unknown {
    if (err instanceof CodecError) {
      return new TransportError(code, err.message, frameType, { cause: err });
    }
    return err;
  }
}
