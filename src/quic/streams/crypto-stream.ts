/**
 * The CRYPTO stream of one encryption level (RFC 9000 §19.6, §7.5): an unbounded, flow-control
 * free byte stream in each direction, with no FIN.
 *
 * Receive side: the {@link ReassemblyBuffer} core, capped. RFC 9000 §7.5: "Implementations MUST
 * support buffering at least 4096 bytes of data received in out-of-order CRYPTO frames ... If an
 * endpoint does not expand its buffer, it MUST close the connection with a CRYPTO_BUFFER_EXCEEDED
 * error code." The cap bounds how far beyond the read offset a frame may reach, so the memory held
 * never exceeds it however the peer orders its frames.
 *
 * Send side: the {@link SendBuffer} core (retransmission of lost ranges first, then new bytes).
 * Writes are kept by reference (the TLS layer must not modify them afterwards).
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frames/types.js';
import { ReassemblyBuffer } from './recv-buffer.js';
import { SendBuffer } from './send-buffer.js';

/** RFC 9000 §7.5 minimum. */
export const MIN_CRYPTO_BUFFER = 4096;
/** Default cap: room for a large certificate chain arriving out of order. */
export const DEFAULT_CRYPTO_BUFFER = 65536;

/** One piece of CRYPTO data to send. */
export interface CryptoChunk {
  /** Offset of `data` in this level's crypto stream. */
  readonly offset: number;
  /** A view into a written array unless the chunk spans two writes. */
  readonly data: Uint8Array;
}

export class CryptoStream {
  readonly #recv = new ReassemblyBuffer();
  readonly #send = new SendBuffer();
  readonly #cap: number;

  /** @param maxBuffered how far beyond the read offset received data may reach (>= 4096) */
  constructor(maxBuffered = DEFAULT_CRYPTO_BUFFER) {
    this.#cap = Math.max(maxBuffered, MIN_CRYPTO_BUFFER);
  }

  // ---- receive side ----

  /**
   * A CRYPTO frame. Data already delivered or held is ignored; the rest is copied. Throws
   * CRYPTO_BUFFER_EXCEEDED when the frame reaches more than the cap beyond the read offset.
   */
  onData(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end - this.#recv.readOffset > this.#cap) {
      throw new TransportError(
        TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
        `CRYPTO data up to ${end} is more than ${this.#cap} bytes beyond offset ${this.#recv.readOffset}`,
        FrameType.CRYPTO,
      );
    }
    this.#recv.insert(offset, data);
  }

  /** Up to `max` contiguous received bytes for the TLS layer, or null. */
  read(max?: number): Uint8Array | null {
    return this.#recv.read(max);
  }

  /** Bytes read() can return now. */
  get readable(): number {
    return this.#recv.readable;
  }

  /** Bytes delivered to the TLS layer so far. */
  get readOffset(): number {
    return this.#recv.readOffset;
  }

  /** Bytes held behind a gap. */
  get outOfOrder(): number {
    return this.#recv.outOfOrder;
  }

  // ---- send side ----

  /** Queues handshake bytes from the TLS layer, by reference. */
  write(data: Uint8Array): void {
    this.#send.push(data);
  }

  /** True when nextChunk() has something (a lost range or unsent bytes). */
  get hasData(): boolean {
    return this.#send.hasLost || this.#send.unsent > 0;
  }

  /** True when every written byte is acknowledged. */
  get allAcked(): boolean {
    return this.#send.ackedFront === this.#send.written;
  }

  /** Next chunk of at most `maxBytes` bytes: lost ranges first, then new bytes; null if none. */
  nextChunk(maxBytes: number): CryptoChunk | null {
    if (!(maxBytes > 0)) return null;
    const send = this.#send;
    if (send.hasLost) {
      const offset = send.lostStart;
      return { offset, data: send.takeLost(maxBytes) };
    }
    const n = Math.min(send.unsent, maxBytes);
    if (n === 0) return null;
    const offset = send.sentEnd;
    return { offset, data: send.takeNew(n) };
  }

  /** A CRYPTO frame `[offset, offset + length)` was acknowledged. */
  onAcked(offset: number, length: number): void {
    this.#send.onAcked(offset, length);
  }

  /** A CRYPTO frame `[offset, offset + length)` was declared lost: it is sent again first. */
  onLost(offset: number, length: number): void {
    this.#send.onLost(offset, length);
  }

  /**
   * Everything sent so far is to be sent again (RFC 9002 §6.2.4: a PTO probe during the handshake
   * may retransmit all unacknowledged CRYPTO data).
   */
  retransmitAll(): void {
    this.#send.onLost(0, this.#send.sentEnd);
  }

  /** Drops all state, as when this level's keys are discarded. */
  discard(): void {
    this.#send.discard();
    this.#recv.discard();
  }
}
