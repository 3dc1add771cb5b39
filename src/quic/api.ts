/**
 * The contract between a QUIC connection and the application layer above it (HTTP/3, tests,
 * MASQUE forwarding). Sans-IO on both sides: the connection hands the application
 * {@link QuicAppEvent}s; the application calls the {@link QuicTransport} methods, which only
 * queue work — bytes leave when the connection's driver next polls for datagrams.
 *
 * Byte views in events (`stream-data`, `datagram`) stay valid only until the next call into the
 * connection; an application that keeps them copies them.
 *
 * A peer's STOP_SENDING is answered with RESET_STREAM (same code) by the connection itself; the
 * `stop-sending` event only informs. `resetStream` and `stopSending` are no-ops when repeated.
 *
 * Stream data is pushed to the application as it becomes contiguous. Receive flow-control credit
 * is returned to the peer as data is delivered, so an application that must apply backpressure
 * buffers with a cap of its own and stops the peer with STOP_SENDING or a stream error when the
 * cap is exceeded.
 */

/** Why a connection ended, as the application sees it. */
export interface QuicCloseInfo {
  /** Transport error code (`app` false) or application error code (`app` true). */
  errorCode: number;
  reason: string;
  /** True when the code is an application (e.g. HTTP/3) error code. */
  app: boolean;
  /** True when the peer closed; false when we did (or an idle timeout / stateless reset did). */
  byPeer: boolean;
  /** How the connection ended. */
  cause: 'close' | 'idle-timeout' | 'stateless-reset' | 'handshake-timeout';
}

export type QuicAppEvent =
  /** The handshake completed (client: keys confirmed; server: Finished verified). */
  | { type: 'handshake-complete'; alpn: string; resumed: boolean }
  /** Contiguous stream data; `data` may be empty when only `fin` is signalled. */
  | { type: 'stream-data'; streamId: number; data: Uint8Array; fin: boolean }
  /** The peer reset its sending side of a stream (RESET_STREAM). */
  | { type: 'stream-reset'; streamId: number; errorCode: number; finalSize: number }
  /** The peer asked us to stop sending on a stream (STOP_SENDING). */
  | { type: 'stop-sending'; streamId: number; errorCode: number }
  /** A stream whose writes were refused for lack of buffer or credit can take data again. */
  | { type: 'stream-writable'; streamId: number }
  /** The peer raised its stream limit: `openStream` may succeed again. */
  | { type: 'streams-available'; bidirectional: boolean }
  /** A DATAGRAM frame's payload (RFC 9221). */
  | { type: 'datagram'; data: Uint8Array }
  /** `datagramsWritable` is true again (the queue drained after a refusal or high-water mark). */
  | { type: 'datagrams-writable' }
  /**
   * `maxDatagramPayload` changed: path MTU discovery raised it, or a black hole or a new path
   * lowered it. `size` is the new value.
   */
  | { type: 'max-datagram-payload'; size: number }
  /** The connection is closed (or draining); no further events follow. */
  | { type: 'connection-closed'; info: QuicCloseInfo };

/** Thrown by `sendDatagram` when a payload cannot fit in one QUIC packet (never fragmented). */
export class DatagramTooLargeError extends Error {
  override readonly name = 'DatagramTooLargeError';
  readonly size: number;
  readonly max: number;
  constructor(size: number, max: number) {
    super(`datagram of ${size} bytes exceeds the ${max}-byte limit of this path`);
    this.size = size;
    this.max = max;
  }
}

/** What the application may ask of a QUIC connection. */
export interface QuicTransport {
  readonly role: 'client' | 'server';
  /**
   * Opens a locally initiated stream and returns its ID, or `undefined` when the peer's stream
   * limit is reached (wait for `streams-available`).
   */
  openStream(bidirectional: boolean): number | undefined;
  /**
   * Queues `data` on a stream and returns how many bytes were accepted (fewer than `data.length`
   * when the send buffer is full; wait for `stream-writable`). `fin` applies only when every byte
   * was accepted. Writing to a stream that cannot be written (reset, finished, receive-only)
   * throws.
   */
  writeStream(streamId: number, data: Uint8Array, fin?: boolean): number;
  /** True bytes `writeStream` would accept now (0 for a stream that cannot be written). */
  writableBytes(streamId: number): number;
  /** Abruptly ends our sending side (RESET_STREAM). */
  resetStream(streamId: number, errorCode: number): void;
  /** Asks the peer to stop sending (STOP_SENDING); further data on the stream is discarded. */
  stopSending(streamId: number, errorCode: number): void;
  /**
   * Queues one DATAGRAM frame. Throws {@link DatagramTooLargeError} when it cannot fit; returns
   * false when the datagram queue is full (the datagram is dropped, as unreliable data may be).
   */
  sendDatagram(data: Uint8Array): boolean;
  /** Bytes of DATAGRAM payloads queued and not yet sent (optional for stand-ins). */
  readonly queuedDatagramBytes?: number;
  /** False while senders should pause until `datagrams-writable` (optional for stand-ins). */
  readonly datagramsWritable?: boolean;
  /** Largest payload `sendDatagram` accepts now; 0 when the peer does not accept datagrams. */
  readonly maxDatagramPayload: number;
  /** Closes the connection with an application error code (CONNECTION_CLOSE 0x1d). */
  close(errorCode: number, reason?: string): void;
}
