/**
 * The error an HTTP/3 server or client API user sees. `code` is a stable string to match on;
 * `h3Code` carries the HTTP/3 wire code (RFC 9114 §8.1) when the cause was a stream reset, a
 * stream error or a connection close; `status` the HTTP status of a refused CONNECT.
 */
import type { H3Headers } from '../../http3/session/index.js';

/** Stable codes of {@link H3HttpError}. */
export type H3HttpErrorCode =
  /** The peer reset the stream (RESET_STREAM), or asked us to stop sending (STOP_SENDING). */
  | 'STREAM_RESET'
  /** The session aborted the stream because the peer broke the protocol on it (RFC 9114 §8). */
  | 'STREAM_ERROR'
  /** The server will not process the request (GOAWAY, RFC 9114 §5.2): safe to retry elsewhere. */
  | 'REJECTED'
  /** The connection closed before the exchange completed. */
  | 'CONNECTION_CLOSED'
  /** A body exceeded the configured size cap. */
  | 'BODY_TOO_LARGE'
  /** An extended CONNECT was answered with a non-2xx status (see `status`). */
  | 'CONNECT_REFUSED'
  /** The operation did not complete in time (handshake, SETTINGS, graceful close). */
  | 'TIMEOUT'
  /** `write`/`end` after `end`. */
  | 'WRITE_AFTER_END'
  /** The client is closed or going away (GOAWAY received). */
  | 'CLIENT_CLOSED';

export class H3HttpError extends Error {
  override readonly name = 'H3HttpError';
  readonly code: H3HttpErrorCode;
  /** HTTP/3 error code of the reset / stream error / close, when there is one. */
  readonly h3Code: number | undefined;
  /** Status of a refused extended CONNECT. */
  readonly status: number | undefined;
  /** Response header section of a refused extended CONNECT. */
  readonly headers: H3Headers | undefined;

  constructor(
    code: H3HttpErrorCode,
    message: string,
    extra: { h3Code?: number; status?: number; headers?: H3Headers; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.h3Code = extra.h3Code;
    this.status = extra.status;
    this.headers = extra.headers;
  }
}
