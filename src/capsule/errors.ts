/**
 * The error type of the Capsule Protocol and of HTTP Datagram payloads. Every decoder under
 * `src/capsule/` and `src/masque/` either returns a value or throws a `CapsuleError`; a
 * `CodecError`, `RangeError` or `TypeError` escaping one of them is a bug.
 */
import { CodecError } from '../wire/errors.js';

/**
 * H3_DATAGRAM_ERROR (RFC 9297 §5.2): "Datagram or capsule protocol parse error". The wire code
 * every `CapsuleError` carries, for a stream reset or a CONNECTION_CLOSE.
 */
export const H3_DATAGRAM_ERROR = 0x33;

/** Why a capsule or datagram was rejected. Stable strings, safe to match on. */
export type CapsuleErrorReason =
  /** A field ends past the end of its capsule value or datagram. */
  | 'TRUNCATED'
  /** Bytes remain after the last field of a capsule value (RFC 9297 §3.3). */
  | 'LENGTH_MISMATCH'
  /** A declared length above the cap set for it, or a value above what the field allows. */
  | 'TOO_LARGE'
  /** A varint this implementation cannot represent exactly (above 2^53 - 1), or >= 2^62 on write. */
  | 'VARINT_RANGE'
  /** A field value the format forbids (an IP version other than 0, 4 or 6, a zero Context ID...). */
  | 'MALFORMED'
  /** The stream ended in the middle of a capsule (RFC 9297 §3.3). */
  | 'INCOMPLETE';

/**
 * Whether the RFC asks for the request stream to be aborted (`stream`, the default: RFC 9297 §3.3
 * treats a capsule error as a malformed message) or for the whole HTTP/3 connection to be closed
 * (`connection`: RFC 9297 §2.1, a bad Quarter Stream ID).
 */
export type CapsuleErrorScope = 'stream' | 'connection';

export class CapsuleError extends Error {
  override readonly name = 'CapsuleError';
  /** The HTTP/3 error code: always H3_DATAGRAM_ERROR (0x33). */
  readonly code = H3_DATAGRAM_ERROR;
  readonly reason: CapsuleErrorReason;
  readonly scope: CapsuleErrorScope;

  constructor(
    message: string,
    reason: CapsuleErrorReason = 'MALFORMED',
    options?: { scope?: CapsuleErrorScope; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.scope = options?.scope ?? 'stream';
  }
}

/** Narrowing helper for catch blocks. */
export function isCapsuleError(err: unknown): err is CapsuleError {
  return err instanceof CapsuleError;
}

/**
 * Turns a `CodecError` into a `CapsuleError` with the same reason, prefixed with `what`; returns
 * any other error unchanged (for `catch (err) { throw toCapsuleError('...', err); }`).
 */
export function toCapsuleError(
  what: string,
  err: unknown,
  scope: CapsuleErrorScope = 'stream',
): unknown {
  if (err instanceof CodecError) {
    return new CapsuleError(`${what}: ${err.message}`, err.code, { scope, cause: err });
  }
  return err;
}

/** Runs a byte-level decode or encode, converting its `CodecError`s with {@link toCapsuleError}. */
export function withCapsuleErrors<T>(
  what: string,
  fn: () => T,
  scope: CapsuleErrorScope = 'stream',
): T {
  try {
    return fn();
  } catch (err) {
    throw toCapsuleError(what, err, scope);
  }
}
