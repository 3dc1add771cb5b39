/**
 * QPACK errors (RFC 9204 §6). Codecs below the encoder and decoder throw `CodecError` for byte
 * level failures; the layer that knows which stream the bytes came from wraps them into a
 * `QpackError` carrying the HTTP/3 error code to close the connection (or reset the stream) with.
 */
import { CodecError } from '../wire/errors.js';

/** HTTP/3 error codes registered by RFC 9204 §8.3. */
export const QpackErrorCode = {
  /** The decoder failed to interpret an encoded field section. */
  QPACK_DECOMPRESSION_FAILED: 0x200,
  /** The decoder failed to interpret an encoder instruction on the encoder stream. */
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  /** The encoder failed to interpret a decoder instruction on the decoder stream. */
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

export type QpackErrorName = keyof typeof QpackErrorCode;
export type QpackErrorCodeValue = (typeof QpackErrorCode)[QpackErrorName];

export class QpackError extends Error {
  override readonly name = 'QpackError';
  /** The HTTP/3 application error code (0x200-0x202). */
  readonly code: QpackErrorCodeValue;

  constructor(code: QpackErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** Stable name of {@link code}, e.g. `QPACK_DECOMPRESSION_FAILED`. */
  get codeName(): QpackErrorName {
    for (const [name, value] of Object.entries(QpackErrorCode)) {
      if (value === this.code) return name as QpackErrorName;
    }
    return 'QPACK_DECOMPRESSION_FAILED';
  }

  /**
   * Wraps a byte-level failure (`CodecError`) as a `QpackError` with `code`; a `QpackError` or
   * anything else passes through unchanged.
   */
  static wrap(err: unknown, code: QpackErrorCodeValue, what: string): unknown {
    if (err instanceof CodecError) {
      return new QpackError(code, `${what}: ${err.message}`, { cause: err });
    }
    return err;
  }
}

/** Narrowing helper for catch blocks. */
export function isQpackError(err: unknown): err is QpackError {
  return err instanceof QpackError;
}
