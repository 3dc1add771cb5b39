/**
 * The sending part of a stream (RFC 9000 §3.1): application writes, stream flow control towards
 * the peer (§4.1), retransmission of lost ranges, FIN, and RESET_STREAM.
 *
 * Ownership: write() queues the caller's array by reference (a view of its head when only part
 * is accepted); the caller must not modify it afterwards. Chunks returned by nextChunk() are views
 * into those arrays, copied only when one chunk spans two writes.
 *
 * Connection-level credit is not tracked here: nextChunk() takes the credit left and the caller
 * charges `sentEnd` growth to the connection (retransmissions and FIN-only chunks cost nothing).
 */
import { StreamApiError, StreamApiErrorCode } from './errors.js';
import type { StreamOwner } from './owner.js';
import { SendBuffer } from './send-buffer.js';

/** States of the sending part of a stream (RFC 9000 §3.1, Figure 2). */
export const SendStreamState = {
  Ready: 'Ready',
  Send: 'Send',
  DataSent: 'DataSent',
  DataRecvd: 'DataRecvd',
  ResetSent: 'ResetSent',
  ResetRecvd: 'ResetRecvd',
} as const;

export type SendStreamState = (typeof SendStreamState)[keyof typeof SendStreamState];

/**
 * One piece of stream data for a STREAM frame (the same shape as the frame codec's STREAM frame,
 * so the connection can hand it over as is).
 */
export interface StreamChunk {
  readonly kind: 'STREAM';
  readonly streamId: number;
  /** Offset of `data` in the stream. */
  readonly offset: number;
  /** The bytes: a view into a written array unless the chunk spans two writes. */
  readonly data: Uint8Array;
  /** FIN bit: `offset + data.length` is the final size. */
  readonly fin: boolean;
}

/** What a RESET_STREAM frame for this stream carries. */
export interface ResetStreamInfo {
  readonly errorCode: number;
  readonly finalSize: number;
}

const EMPTY = new Uint8Array(0);

export class SendStream {
  readonly id: number;
  readonly #owner: StreamOwner | null;
  readonly #buf = new SendBuffer();
  #state: SendStreamState = SendStreamState.Ready;
  /** Peer's MAX_STREAM_DATA (largest seen). */
  #limit: number;
  /** The application called end() (or reset()). */
  #ended = false;
  #finSent = false;
  #finAcked = false;
  #finLost = false;
  /** The application was refused bytes for lack of stream credit. */
  #appBlocked = false;
  /** Limit at which STREAM_DATA_BLOCKED was last queued (-1: never). */
  #blockedAt = -1;
  #blockedPending = false;
  #resetCode = -1;
  #finalSize = -1;
  #resetPending = false;
  #stopSendingCode = -1;

  /**
   * @param id stream ID
   * @param initialLimit the peer's initial MAX_STREAM_DATA for this stream (RFC 9000 §18.2)
   * @param owner receives "wants send" and state-change notifications (the stream manager)
   */
  constructor(id: number, initialLimit: number, owner: StreamOwner | null = null) {
    this.id = id;
    this.#limit = initialLimit;
    this.#owner = owner;
  }

  get state(): SendStreamState {
    return this.#state;
  }

  /** The peer's current MAX_STREAM_DATA. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes the application has written (the final size once ended). */
  get written(): number {
    return this.#buf.written;
  }

  /** Offset of the first never-sent byte; growth is what connection flow control is charged. */
  get sentEnd(): number {
    return this.#buf.sentEnd;
  }

  /** Written bytes not yet acknowledged: the application memory this stream pins. */
  get unacked(): number {
    return this.#buf.unacked;
  }

  /**
   * Bytes write() accepts now: the stream credit left, and 0 once the stream is ended, reset or
   * closed. Connection-level credit is not included (it is shared and applies at send time).
   */
  get writableBytes(): number {
    if (this.#ended || !this.#isOpen()) return 0;
    const room = this.#limit - this.#buf.written;
    return room > 0 ? room : 0;
  }

  /** Error code of a STOP_SENDING received from the peer, or -1. */
  get stopSendingCode(): number {
    return this.#stopSendingCode;
  }

  /** Error code this stream was reset with, or -1. */
  get resetCode(): number {
    return this.#resetCode;
  }

  /** Final size: known once ended (bytes written) or reset (bytes sent); -1 before. */
  get finalSize(): number {
    if (this.#finalSize >= 0) return this.#finalSize;
    return this.#ended ? this.#buf.written : -1;
  }

  /** True in a terminal state (Data Recvd or Reset Recvd). */
  get isTerminal(): boolean {
    return this.#state === SendStreamState.DataRecvd || this.#state === SendStreamState.ResetRecvd;
  }

  /** True when nextChunk() may return something (retransmission, new data, FIN). */
  get hasData(): boolean {
    if (!this.#isOpen()) return false;
    if (this.#buf.hasLost || this.#finLost) return true;
    return this.#buf.unsent > 0 || (this.#ended && !this.#finSent);
  }

  /** True when unsent new data waits (it needs connection credit). */
  get needsCredit(): boolean {
    return this.#isOpen() && this.#buf.unsent > 0 && this.#buf.sentEnd < this.#limit;
  }

  /** True when a RESET_STREAM or STREAM_DATA_BLOCKED waits to be polled. */
  get hasControl(): boolean {
    return this.#resetPending || this.#blockedPending;
  }

  /**
   * Queues `data` by reference. Accepts up to {@link writableBytes} (queuing a view of the head
   * when that is less than `data.length`) and returns the number of bytes accepted. Returns 0 once
   * the stream was reset because of the peer's STOP_SENDING; throws WRITE_AFTER_END after the
   * application's own end() or reset().
   */
  write(data: Uint8Array): number {
    if (this.#ended) {
      if (this.#stopSendingCode >= 0) return 0;
      throw new StreamApiError(
        StreamApiErrorCode.WRITE_AFTER_END,
        `stream ${this.id}: write after end`,
      );
    }
    if (!this.#isOpen()) return 0;
    const room = this.writableBytes;
    const n = data.length <= room ? data.length : room;
    if (n > 0) {
      this.#buf.push(n === data.length ? data : data.subarray(0, n));
      this.#owner?.streamWantsSend(this.id);
    }
    if (n < data.length) {
      this.#appBlocked = true;
      this.#checkBlocked();
    }
    return n;
  }

  /** Ends the stream cleanly: a FIN follows the written bytes. Idempotent. */
  end(): void {
    if (this.#ended || !this.#isOpen()) return;
    this.#ended = true;
    this.#owner?.streamWantsSend(this.id);
  }

  /**
   * Abandons the stream with an application error code (RFC 9000 §3.1): a RESET_STREAM carrying
   * the final size (bytes sent so far) is queued. Returns false when already reset or all data was
   * acknowledged (nothing to do).
   */
  reset(errorCode: number): boolean {
    if (!this.#isOpen()) return false;
    this.#state = SendStreamState.ResetSent;
    this.#resetCode = errorCode;
    // RFC 9000 §4.5: the final size is the amount of credit consumed, i.e. the bytes ever sent.
    this.#finalSize = this.#buf.sentEnd;
    this.#ended = true;
    this.#resetPending = true;
    this.#blockedPending = false;
    this.#finLost = false;
    this.#buf.discard();
    this.#owner?.streamWantsSend(this.id);
    return true;
  }

  /**
   * The next chunk to send, retransmissions first: at most `maxBytes` of data and at most
   * `connCredit` new bytes, never beyond the stream limit. A FIN-only chunk needs no credit.
   * Returns null when nothing can be sent.
   */
  nextChunk(maxBytes: number, connCredit: number): StreamChunk | null {
    if (!this.#isOpen()) return null;
    const buf = this.#buf;
    if (buf.hasLost) {
      if (!(maxBytes > 0)) return null;
      const offset = buf.lostStart;
      const data = buf.takeLost(maxBytes);
      let fin = false;
      if (this.#finLost && offset + data.length === buf.written && this.#ended) {
        fin = true;
        this.#finLost = false;
      }
      return { kind: 'STREAM', streamId: this.id, offset, data, fin };
    }
    if (this.#finLost) {
      // Only the FIN itself was lost (lost bytes, if any, were resent above with it).
      this.#finLost = false;
      return { kind: 'STREAM', streamId: this.id, offset: buf.written, data: EMPTY, fin: true };
    }
    if (this.#state === SendStreamState.DataSent) return null;
    let n = buf.unsent;
    if (n > maxBytes) n = maxBytes;
    if (n > connCredit) n = connCredit;
    const streamRoom = this.#limit - buf.sentEnd;
    if (n > streamRoom) n = streamRoom;
    if (n < 0) n = 0;
    const offset = buf.sentEnd;
    const fin = this.#ended && offset + n === buf.written;
    if (n === 0 && !fin) {
      this.#checkBlocked();
      return null;
    }
    const data = n > 0 ? buf.takeNew(n) : EMPTY;
    if (fin) {
      this.#finSent = true;
      this.#state = SendStreamState.DataSent;
    } else {
      this.#state = SendStreamState.Send;
      this.#checkBlocked();
    }
    return { kind: 'STREAM', streamId: this.id, offset, data, fin };
  }

  /** A STREAM frame `[offset, offset + length)` (with `fin`) was acknowledged. */
  onAcked(offset: number, length: number, fin: boolean): void {
    if (!this.#isOpen()) return;
    this.#buf.onAcked(offset, length);
    if (fin) {
      this.#finAcked = true;
      this.#finLost = false;
    }
    if (
      this.#state === SendStreamState.DataSent &&
      this.#finAcked &&
      this.#buf.ackedFront === this.#buf.written
    ) {
      this.#state = SendStreamState.DataRecvd;
      this.#buf.discard();
      this.#owner?.streamStateChanged(this.id);
    }
  }

  /** A STREAM frame `[offset, offset + length)` (with `fin`) was declared lost. */
  onLost(offset: number, length: number, fin: boolean): void {
    if (this.#state !== SendStreamState.Send && this.#state !== SendStreamState.DataSent) return;
    this.#buf.onLost(offset, length);
    if (fin && !this.#finAcked) this.#finLost = true;
    if (this.hasData) this.#owner?.streamWantsSend(this.id);
  }

  /**
   * MAX_STREAM_DATA from the peer. RFC 9000 §4.1: "A sender MUST ignore any MAX_STREAM_DATA or
   * MAX_DATA frames that do not increase flow control limits." Returns true when the limit grew.
   */
  onMaxStreamData(limit: number): boolean {
    if (limit <= this.#limit) return false;
    this.#limit = limit;
    this.#blockedPending = false;
    this.#appBlocked = false;
    if (this.hasData) this.#owner?.streamWantsSend(this.id);
    return true;
  }

  /**
   * STOP_SENDING from the peer. RFC 9000 §3.5: "An endpoint that receives a STOP_SENDING frame
   * MUST send a RESET_STREAM frame if the stream is in the 'Ready' or 'Send' state"; in "Data Sent"
   * we reset too rather than defer. The error code is copied. Returns true when a reset follows.
   */
  onStopSending(errorCode: number): boolean {
    if (this.#stopSendingCode < 0) this.#stopSendingCode = errorCode;
    return this.reset(errorCode);
  }

  /** The RESET_STREAM to send, once; null when none is pending. */
  pollResetStream(): ResetStreamInfo | null {
    if (!this.#resetPending) return null;
    this.#resetPending = false;
    return { errorCode: this.#resetCode, finalSize: this.#finalSize };
  }

  /** The limit to put in a STREAM_DATA_BLOCKED frame, once per limit; -1 when none is pending. */
  pollStreamDataBlocked(): number {
    if (!this.#blockedPending) return -1;
    this.#blockedPending = false;
    return this.#blockedAt;
  }

  /** The packet carrying RESET_STREAM was acknowledged: Reset Sent → Reset Recvd. */
  onResetAcked(): void {
    if (this.#state !== SendStreamState.ResetSent) return;
    this.#state = SendStreamState.ResetRecvd;
    this.#owner?.streamStateChanged(this.id);
  }

  /** The packet carrying RESET_STREAM was lost: send it again. */
  onResetLost(): void {
    if (this.#state !== SendStreamState.ResetSent) return;
    this.#resetPending = true;
    this.#owner?.streamWantsSend(this.id);
  }

  /** A STREAM_DATA_BLOCKED(`limit`) was lost: resend only if still blocked at that limit. */
  onStreamDataBlockedLost(limit: number): void {
    if (limit === this.#limit && this.#blockedAt === limit && this.#isOpen()) {
      this.#blockedPending = true;
      this.#owner?.streamWantsSend(this.id);
    }
  }

  /** Ready, Send or Data Sent: the states from which data (or a reset) may still be sent. */
  #isOpen(): boolean {
    const s = this.#state;
    return (
      s === SendStreamState.Ready || s === SendStreamState.Send || s === SendStreamState.DataSent
    );
  }

  /**
   * RFC 9000 §4.1: "A sender SHOULD send a STREAM_DATA_BLOCKED ... frame to indicate to the
   * receiver that it has data to write but is blocked by flow control limits." Queued once per
   * limit, when the application was refused bytes and everything up to the limit is sent.
   */
  #checkBlocked(): void {
    if (!this.#appBlocked || this.#buf.sentEnd < this.#limit || this.#blockedAt === this.#limit) {
      return;
    }
    if (this.#state === SendStreamState.DataSent) return;
    this.#blockedAt = this.#limit;
    this.#blockedPending = true;
    // RFC 9000 §3.1: sending STREAM_DATA_BLOCKED moves Ready to Send.
    if (this.#state === SendStreamState.Ready) this.#state = SendStreamState.Send;
    this.#owner?.streamWantsSend(this.id);
  }
}
