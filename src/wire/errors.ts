/**
 * The one error type of the byte layer. Every codec built on {@link ByteReader} either returns a
 * value or throws a `CodecError` (or a layer error that wraps one and carries a wire code); a
 * `RangeError` escaping a decoder is a bug.
 */

/** Why a byte-level decode or encode failed. Stable strings, safe to match on. */
export type CodecErrorCode =
  /** Fewer bytes than the structure declares or needs. */
  | 'TRUNCATED'
  /** A variable-length integer outside what the API can represent, or 2^62 and above on write. */
  | 'VARINT_RANGE'
  /** A length-prefixed block was not consumed exactly, or trailing bytes remain. */
  | 'LENGTH_MISMATCH'
  /** A value that is well-formed as bytes but not allowed by the format. */
  | 'MALFORMED'
  /** A declared length above the cap set for it, or a fixed output buffer that is too small. */
  | 'TOO_LARGE';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode;

  constructor(code: CodecErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Narrowing helper for catch blocks. */
export function isCodecError(err: unknown): err is CodecError {
  return err instanceof CodecError;
}
