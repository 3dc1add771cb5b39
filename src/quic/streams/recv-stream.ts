/**
 * The receiving part of a stream (RFC 9000 §3.2): reassembly, final size (§4.5), stream flow
 * control (§4.1) with window updates, RESET_STREAM, and STOP_SENDING on the application's request.
 *
 * onData() and onReset() return the growth of the highest received offset, which the caller
 * charges to connection-level flow control. Consumed bytes (read, or discarded after a reset or
 * stopSending()) are reported to the owner as returned connection credit.
 *
 * Memory: only bytes inside the advertised window are accepted (anything beyond is a connection
 * error), each byte is stored at most once, and bytes are copied once on arrival; read() hands out
 * the stored arrays.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frames/types.js';
import { ReceiveWindow } from './flow-control.js';
import type { StreamOwner } from './owner.js';
import { ReassemblyBuffer } from './recv-buffer.js';

/** States of the receiving part of a stream (RFC 9000 §3.2, Figure 3). */
export const RecvStreamState = {
  Recv: 'Recv',
  SizeKnown: 'SizeKnown',
  DataRecvd: 'DataRecvd',
  DataRead: 'DataRead',
  ResetRecvd: 'ResetRecvd',
  ResetRead: 'ResetRead',
} as const;

export type RecvStreamState = (typeof RecvStreamState)[keyof typeof RecvStreamState];

export class RecvStream {
  readonly id: number;
  readonly #owner: StreamOwner | null;
  readonly #buf = new ReassemblyBuffer();
  readonly #win: ReceiveWindow;
  #state: RecvStreamState = RecvStreamState.Recv;
  #highest = 0;
  #finalSize = -1;
  /** Bytes returned as credit (read or discarded). */
  #released = 0;
  #resetCode = -1;
  #stopCode = -1;
  #stopPending = false;
  #limitPending = false;

  /**
   * @param id stream ID
   * @param initialLimit our initial MAX_STREAM_DATA for this stream (from our transport
   *   parameters); also the window kept open as the application reads
   * @param owner receives consumption, "wants send" and state-change notifications
   */
  constructor(id: number, initialLimit: number, owner: StreamOwner | null = null) {
    this.id = id;
    this.#win = new ReceiveWindow(initialLimit);
    this.#owner = owner;
  }

  get state(): RecvStreamState {
    return this.#state;
  }

  /** Bytes read() can return now (0 once stopped or reset). */
  get readable(): number {
    return this.#stopCode >= 0 ? 0 : this.#buf.readable;
  }

  /** Bytes handed to the application so far. */
  get readOffset(): number {
    return this.#buf.readOffset;
  }

  /** True once every byte up to the final size has been read (Data Read). */
  get finished(): boolean {
    return this.#state === RecvStreamState.DataRead;
  }

  /** The final size, or -1 while unknown. */
  get finalSize(): number {
    return this.#finalSize;
  }

  /** Highest offset received (what this stream charges to connection flow control). */
  get highestReceived(): number {
    return this.#highest;
  }

  /** The MAX_STREAM_DATA advertised to the peer. */
  get limit(): number {
    return this.#win.limit;
  }

  /** The peer's RESET_STREAM error code, or -1. */
  get resetCode(): number {
    return this.#resetCode;
  }

  /** The error code the application stopped reading with, or -1. */
  get stopSendingCode(): number {
    return this.#stopCode;
  }

  /** Bytes held in the reassembly buffer. */
  get buffered(): number {
    return this.#buf.buffered;
  }

  /** True when a MAX_STREAM_DATA or STOP_SENDING waits to be polled. */
  get hasControl(): boolean {
    return this.#limitPending || this.#stopPending;
  }

  /**
   * Nothing more for the application: Data Read, Reset Read, or reading was stopped and the final
   * size is known (later retransmissions need no state).
   */
  get isTerminal(): boolean {
    const s = this.#state;
    return (
      s === RecvStreamState.DataRead ||
      s === RecvStreamState.ResetRead ||
      (this.#stopCode >= 0 && this.#finalSize >= 0)
    );
  }

  /**
   * A STREAM frame: `data` at `offset`, `fin` when it ends the stream. `data` may be a view into
   * the packet; the new bytes are copied. Returns the growth of the highest received offset.
   */
  onData(offset: number, data: Uint8Array, fin: boolean): number {
    const end = offset + data.length;
    this.#checkFinalSize(end, fin, FrameType.STREAM);
    this.#checkLimit(end, FrameType.STREAM);
    const delta = this.#advance(end, fin);
    const s = this.#state;
    if (s !== RecvStreamState.Recv && s !== RecvStreamState.SizeKnown) return delta;
    if (this.#stopCode >= 0) {
      // RFC 9000 §3.5: data after STOP_SENDING still counts toward flow control; drop it.
      this.#releaseTo(this.#highest);
      if (this.#finalSize >= 0) this.#owner?.streamStateChanged(this.id);
      return delta;
    }
    if (data.length > 0) this.#buf.insert(offset, data);
    if (this.#finalSize >= 0 && this.#buf.contiguousEnd === this.#finalSize) {
      this.#state = RecvStreamState.DataRecvd;
      this.#limitPending = false;
    }
    return delta;
  }

  /**
   * RESET_STREAM from the peer (RFC 9000 §3.2). Unread data is discarded and its credit returned.
   * Returns the growth of the highest received offset (up to the final size).
   */
  onReset(errorCode: number, finalSize: number): number {
    this.#checkFinalSize(finalSize, true, FrameType.RESET_STREAM);
    this.#checkLimit(finalSize, FrameType.RESET_STREAM);
    const delta = this.#advance(finalSize, true);
    const s = this.#state;
    // In Data Recvd the reset is suppressed: all data is here and stays readable (§3.2 allows it).
    if (s !== RecvStreamState.Recv && s !== RecvStreamState.SizeKnown) return delta;
    this.#resetCode = errorCode;
    this.#buf.discard();
    this.#releaseTo(finalSize);
    // An application that stopped reading does not need to see the reset.
    this.#state = this.#stopCode >= 0 ? RecvStreamState.ResetRead : RecvStreamState.ResetRecvd;
    this.#stopPending = false;
    this.#limitPending = false;
    this.#owner?.streamStateChanged(this.id);
    return delta;
  }

  /**
   * Up to `max` contiguous bytes, or null when none are ready. After a reset, the first call
   * returns null and moves the stream to Reset Read (check {@link resetCode}). The caller owns the
   * returned bytes.
   */
  read(max = Number.POSITIVE_INFINITY): Uint8Array | null {
    const s = this.#state;
    if (s === RecvStreamState.ResetRecvd) {
      this.#state = RecvStreamState.ResetRead;
      this.#owner?.streamStateChanged(this.id);
      return null;
    }
    if (this.#stopCode >= 0) return null;
    if (s === RecvStreamState.DataRead || s === RecvStreamState.ResetRead) return null;
    const chunk = this.#buf.read(max);
    if (chunk !== null) {
      this.#releaseTo(this.#buf.readOffset);
      // RFC 9000 §3.2: MAX_STREAM_DATA only in the Recv state (the final size is unknown).
      if (s === RecvStreamState.Recv && this.#win.update()) {
        this.#limitPending = true;
        this.#owner?.streamWantsSend(this.id);
      }
    }
    if (s === RecvStreamState.DataRecvd && this.#buf.readOffset === this.#finalSize) {
      this.#state = RecvStreamState.DataRead;
      this.#owner?.streamStateChanged(this.id);
    }
    return chunk;
  }

  /**
   * The application no longer wants the data (RFC 9000 §3.5): buffered data is dropped and its
   * credit returned, and in Recv or Size Known a STOP_SENDING is queued (returns true).
   */
  stopSending(errorCode: number): boolean {
    const s = this.#state;
    if (s === RecvStreamState.Recv || s === RecvStreamState.SizeKnown) {
      if (this.#stopCode >= 0) return false;
      this.#stopCode = errorCode;
      this.#stopPending = true;
      this.#limitPending = false;
      this.#buf.discard();
      this.#releaseTo(this.#highest);
      this.#owner?.streamWantsSend(this.id);
      if (this.#finalSize >= 0) this.#owner?.streamStateChanged(this.id);
      return true;
    }
    if (s === RecvStreamState.DataRecvd || s === RecvStreamState.ResetRecvd) {
      this.#buf.discard();
      this.#releaseTo(this.#finalSize);
      this.#state =
        s === RecvStreamState.DataRecvd ? RecvStreamState.DataRead : RecvStreamState.ResetRead;
      this.#owner?.streamStateChanged(this.id);
    }
    return false;
  }

  /** The limit for a MAX_STREAM_DATA frame, once; -1 when none is pending. */
  pollMaxStreamData(): number {
    if (!this.#limitPending) return -1;
    this.#limitPending = false;
    return this.#win.limit;
  }

  /** The error code for a STOP_SENDING frame, once; -1 when none is pending. */
  pollStopSending(): number {
    if (!this.#stopPending) return -1;
    this.#stopPending = false;
    return this.#stopCode;
  }

  /** A MAX_STREAM_DATA(`limit`) was lost: resend if still the latest and still useful. */
  onMaxStreamDataLost(limit: number): void {
    if (limit === this.#win.limit) this.#requeueLimit();
  }

  /**
   * STREAM_DATA_BLOCKED(`limit`) from the peer: if our limit is already higher, the update was
   * lost or is in flight, so send the current one again.
   */
  onStreamDataBlocked(limit: number): void {
    if (this.#win.limit > limit) this.#requeueLimit();
  }

  /** A STOP_SENDING was lost: resend while the stream is still in Recv or Size Known. */
  onStopSendingLost(): void {
    const s = this.#state;
    if (this.#stopCode >= 0 && (s === RecvStreamState.Recv || s === RecvStreamState.SizeKnown)) {
      this.#stopPending = true;
      this.#owner?.streamWantsSend(this.id);
    }
  }

  #requeueLimit(): void {
    if (this.#state !== RecvStreamState.Recv || this.#stopCode >= 0) return;
    this.#limitPending = true;
    this.#owner?.streamWantsSend(this.id);
  }

  /**
   * RFC 9000 §4.5: "If a RESET_STREAM or STREAM frame is received indicating a change in the
   * final size for the stream, an endpoint SHOULD respond with an error of type FINAL_SIZE_ERROR
   * ... A receiver SHOULD treat receipt of data at or beyond the final size as an error of type
   * FINAL_SIZE_ERROR".
   */
  #checkFinalSize(end: number, fin: boolean, frameType: number): void {
    if (this.#finalSize >= 0) {
      if (end > this.#finalSize) {
        throw new TransportError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `stream ${this.id}: data up to ${end} beyond final size ${this.#finalSize}`,
          frameType,
        );
      }
      if (fin && end !== this.#finalSize) {
        throw new TransportError(
          TransportErrorCode.FINAL_SIZE_ERROR,
          `stream ${this.id}: final size changed from ${this.#finalSize} to ${end}`,
          frameType,
        );
      }
    } else if (fin && end < this.#highest) {
      throw new TransportError(
        TransportErrorCode.FINAL_SIZE_ERROR,
        `stream ${this.id}: final size ${end} below data received up to ${this.#highest}`,
        frameType,
      );
    }
  }

  /**
   * RFC 9000 §4.1: "A receiver MUST close the connection with an error of type FLOW_CONTROL_ERROR
   * if the sender violates the advertised connection or stream data limits".
   */
  #checkLimit(end: number, frameType: number): void {
    if (end > this.#win.limit) {
      throw new TransportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `stream ${this.id}: data up to ${end} exceeds MAX_STREAM_DATA ${this.#win.limit}`,
        frameType,
      );
    }
  }

  /** Moves the highest offset (and the final size); returns the growth. */
  #advance(end: number, fin: boolean): number {
    let delta = 0;
    if (end > this.#highest) {
      delta = end - this.#highest;
      this.#highest = end;
    }
    if (fin && this.#finalSize < 0) {
      this.#finalSize = end;
      if (this.#state === RecvStreamState.Recv) this.#state = RecvStreamState.SizeKnown;
      this.#limitPending = false;
    }
    return delta;
  }

  /** Returns credit for every byte below `offset` not yet released. */
  #releaseTo(offset: number): void {
    const n = offset - this.#released;
    if (n <= 0) return;
    this.#released = offset;
    this.#win.consume(n);
    this.#owner?.streamConsumed(this.id, n);
  }
}
