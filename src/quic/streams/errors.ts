/**
 * Errors the stream API raises for application mistakes (never for peer behaviour, which raises
 * `TransportError`). Each carries a stable string code.
 */
export const StreamApiErrorCode = {
  /** write() after the application called end() or reset() on the stream. */
  WRITE_AFTER_END: 'ERR_QUIC_STREAM_WRITE_AFTER_END',
  /** The operation needs a stream this endpoint may send on (or receive on), and it may not. */
  WRONG_DIRECTION: 'ERR_QUIC_STREAM_WRONG_DIRECTION',
  /** No such stream, or it is closed and forgotten. */
  UNKNOWN_STREAM: 'ERR_QUIC_STREAM_UNKNOWN',
} as const;

export type StreamApiErrorCode = (typeof StreamApiErrorCode)[keyof typeof StreamApiErrorCode];

export class StreamApiError extends Error {
  override readonly name = 'StreamApiError';
  readonly code: StreamApiErrorCode;

  constructor(code: StreamApiErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
