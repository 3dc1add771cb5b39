/**
 * How a stream tells its owner (the stream manager) that the connection has work to do. Streams
 * used on their own take no owner. The owner is one object shared by every stream of a connection,
 * so no closure is allocated per stream or per packet.
 */
export interface StreamOwner {
  /**
   * Stream `id` has something to send: data, FIN, RESET_STREAM, STREAM_DATA_BLOCKED,
   * MAX_STREAM_DATA or STOP_SENDING.
   */
  streamWantsSend(id: number): void;
  /**
   * The application consumed, or gave up on, `bytes` of received data on stream `id`: that much
   * connection-level receive credit can be returned to the peer.
   */
  streamConsumed(id: number, bytes: number): void;
  /** A part of stream `id` may have reached a terminal state (a chance to retire it). */
  streamStateChanged(id: number): void;
}
