/**
 * The shared result and error types of the MASQUE header-field codecs. Parsers never throw: a
 * malformed or ill-typed field value comes back as `{ ok: false, error }`, and the caller applies
 * the field's own rule (usually "handle as if the field were not present"). Formatters take typed
 * values and throw {@link HeaderFormatError} for values that have no valid serialization.
 */

/** The outcome of parsing one header field. */
export type HeaderResult<T> =
  | {
      /** The field value was well-formed and of the type the specification requires. */
      ok: true;
      /** The typed value. */
      value: T;
    }
  | {
      /** The field value was malformed or of the wrong type. */
      ok: false;
      /** Why, for logs; not a stable string. */
      error: string;
    };

export function ok<T>(value: T): HeaderResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): HeaderResult<T> {
  return { ok: false, error };
}

/**
 * A raw field value as an HTTP layer hands it over: absent, one field line, or several lines of
 * the same name in order.
 */
export type FieldValue = string | readonly string[] | undefined;

/** Why a formatter refused a value. Stable strings, safe to match on. */
export type HeaderFormatErrorCode =
  /** The value cannot be expressed in the field's structured type. */
  'INVALID_VALUE';

/** Thrown by `format*` functions for a value that has no valid serialization. */
export class HeaderFormatError extends Error {
  override readonly name = 'HeaderFormatError';
  readonly code: HeaderFormatErrorCode = 'INVALID_VALUE';
}
