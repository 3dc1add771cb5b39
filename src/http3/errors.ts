/**
 * HTTP/3 application error codes and the typed error of the HTTP/3 layer. Codes travel in QUIC
 * CONNECTION_CLOSE (type 0x1d), RESET_STREAM and STOP_SENDING; an `H3Error` is thrown deep in the
 * codecs and caught at one boundary that closes the connection or resets the stream.
 */
import { CodecError } from '../wire/errors.js';
import { isReservedCodePoint, reservedCodePoint } from './grease.js';

/**
 * The HTTP/3 error code space: RFC 9114 §8.1 (0x100-0x110), RFC 9204 §6 (QPACK, 0x200-0x202) and
 * RFC 9297 §5 (H3_DATAGRAM_ERROR, 0x33).
 */
export const H3ErrorCode = {
  /** RFC 9297 §5: HTTP Datagram or Capsule Protocol parse error. */
  H3_DATAGRAM_ERROR: 0x33,
  H3_NO_ERROR: 0x100,
  H3_GENERAL_PROTOCOL_ERROR: 0x101,
  H3_INTERNAL_ERROR: 0x102,
  H3_STREAM_CREATION_ERROR: 0x103,
  H3_CLOSED_CRITICAL_STREAM: 0x104,
  H3_FRAME_UNEXPECTED: 0x105,
  H3_FRAME_ERROR: 0x106,
  H3_EXCESSIVE_LOAD: 0x107,
  H3_ID_ERROR: 0x108,
  H3_SETTINGS_ERROR: 0x109,
  H3_MISSING_SETTINGS: 0x10a,
  H3_REQUEST_REJECTED: 0x10b,
  H3_REQUEST_CANCELLED: 0x10c,
  H3_REQUEST_INCOMPLETE: 0x10d,
  H3_MESSAGE_ERROR: 0x10e,
  H3_CONNECT_ERROR: 0x10f,
  H3_VERSION_FALLBACK: 0x110,
  /** RFC 9204 §6: the decoder could not interpret an encoded field section. */
  QPACK_DECOMPRESSION_FAILED: 0x200,
  /** RFC 9204 §6: the decoder could not interpret an encoder-stream instruction. */
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  /** RFC 9204 §6: the encoder could not interpret a decoder-stream instruction. */
  QPACK_DECODER_STREAM_ERROR: 0x202,
} as const;

export type H3ErrorName = keyof typeof H3ErrorCode;
export type H3ErrorCodeValue = (typeof H3ErrorCode)[H3ErrorName];

/** Whether an error closes the whole connection or only resets one stream (RFC 9114 §8). */
export type H3ErrorScope = 'connection' | 'stream';

const NAMES = new Map<number, H3ErrorName>(
  (Object.entries(H3ErrorCode) as Array<[H3ErrorName, number]>).map(([k, v]) => [v, k]),
);

/**
 * A readable name for a received or sent code: the registered name, `RESERVED(0x..)` for grease
 * codes, or the hex value. RFC 9114 §8: an unknown code MUST be treated as H3_NO_ERROR; that is
 * the caller's decision, this only names it.
 */
export function h3ErrorName(code: number | bigint): string {
  const known = typeof code === 'number' ? NAMES.get(code) : NAMES.get(Number(code));
  if (known !== undefined && BigInt(code) === BigInt(H3ErrorCode[known])) return known;
  const hex = `0x${code.toString(16)}`;
  return isReservedCodePoint(code) ? `RESERVED(${hex})` : hex;
}

/**
 * A reserved error code `0x1f * N + 0x21` (RFC 9114 §8.1: "Implementations SHOULD select an error
 * code from this space with some probability when they would have sent H3_NO_ERROR"). `N` comes
 * from the caller's randomness.
 */
export function reservedErrorCode(n: number | bigint): bigint {
  return reservedCodePoint(n);
}

/** True for reserved (grease) error codes, which mean the same as H3_NO_ERROR on receipt. */
export function isReservedErrorCode(code: number | bigint): boolean {
  return isReservedCodePoint(code);
}

/** The typed error of the HTTP/3 layer, carrying its wire code and scope. */
export class H3Error extends Error {
  override readonly name = 'H3Error';
  /** The wire error code (one of {@link H3ErrorCode}). */
  readonly code: number;
  /** Connection error (CONNECTION_CLOSE) or stream error (RESET_STREAM / STOP_SENDING). */
  readonly scope: H3ErrorScope;

  constructor(
    code: number,
    message: string,
    scope: H3ErrorScope = 'connection',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.scope = scope;
  }

  /** The code's registered name, for logs. */
  get codeName(): string {
    return h3ErrorName(this.code);
  }

  /**
   * Wraps a byte-level failure met while decoding a frame payload as H3_FRAME_ERROR (RFC 9114
   * §7.1: a payload with extra bytes or one that ends early "MUST be treated as a connection error
   * of type H3_FRAME_ERROR"); other errors pass through unchanged.
   */
  static fromCodec(
    err: unknown,
    what: string,
    code: number = H3ErrorCode.H3_FRAME_ERROR,
    scope: H3ErrorScope = 'connection',
  ): unknown {
    if (err instanceof CodecError) {
      return new H3Error(code, `${what}: ${err.message}`, scope, { cause: err });
    }
    return err;
  }
}

/** Narrowing helper for catch blocks. */
export function isH3Error(err: unknown): err is H3Error {
  return err instanceof H3Error;
}
