/** The typed error of the WebTransport layer, with stable string codes. */

/** Stable codes of {@link WebTransportError}. */
export type WebTransportErrorCode =
  /** The session ended (closed by either side, or its CONNECT stream or connection is gone). */
  | 'SESSION_GONE'
  /** The peer reset the stream; `applicationCode` holds its code when it was a WebTransport one. */
  | 'STREAM_RESET'
  /** The peer asked us to stop sending (STOP_SENDING). */
  | 'STREAM_STOPPED'
  /** More unread bytes than allowed were buffered on a stream. */
  | 'BUFFER_FULL'
  /** The peer's stream limit is reached. */
  | 'STREAM_LIMIT'
  /** The call does not fit the session's state (e.g. a stream before `accept`). */
  | 'INVALID_STATE';

export class WebTransportError extends Error {
  override readonly name = 'WebTransportError';
  readonly code: WebTransportErrorCode;
  /** The 32-bit application error code, when the peer sent one. */
  readonly applicationCode: number | undefined;
  /** The HTTP/3 error code as received or sent, when there was one. */
  readonly h3Code: number | undefined;

  constructor(
    code: WebTransportErrorCode,
    message: string,
    options: { applicationCode?: number; h3Code?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.applicationCode = options.applicationCode;
    this.h3Code = options.h3Code;
  }
}
