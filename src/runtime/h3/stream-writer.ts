/**
 * Our sending side of one request stream, with backpressure that is true to the transport: the
 * session hands each DATA frame to QUIC, which accepts what the peer's flow-control credit
 * allows; the rest waits in the session's send queue (`bufferedAmount`). `write` returns false
 * once that backlog is above the high-water mark, and `drained()` resolves on the session's
 * `writable` event (backlog fully handed over), when the stream ends, or when it is aborted.
 *
 * After an abort (peer reset / STOP_SENDING / connection loss) writes are dropped and return
 * false: the caller learns of the abort from its own `closed`/`aborted` signal, not from throws.
 */
import { H3UsageError } from '../../http3/session/index.js';
import type { SessionDriver } from './driver.js';
import { H3HttpError } from './errors.js';

/** Default high-water mark of a stream's unsent backlog, in bytes. */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

export class StreamWriter {
  readonly streamId: number;
  readonly #driver: SessionDriver;
  readonly #hwm: number;
  #ended = false;
  #aborted = false;
  #waiters: Array<() => void> = [];

  constructor(driver: SessionDriver, streamId: number, highWaterMark = DEFAULT_HIGH_WATER_MARK) {
    this.#driver = driver;
    this.streamId = streamId;
    this.#hwm = highWaterMark;
  }

  /** Bytes queued for this stream that the transport has not accepted yet. */
  get bufferedAmount(): number {
    if (this.#aborted) return 0;
    return this.#driver.session.bufferedAmount(this.streamId);
  }

  /** True once the FIN (or trailers) was queued. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True once the stream can no longer be written for a reason other than our own end. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** True when more may be written now without going over the high-water mark. */
  get writable(): boolean {
    return !this.#ended && !this.#aborted && this.bufferedAmount <= this.#hwm;
  }

  /** Sends one DATA frame; returns whether the caller may keep writing (see module header). */
  data(bytes: Uint8Array, fin = false): boolean {
    if (this.#ended) throw new H3HttpError('WRITE_AFTER_END', 'write after end');
    if (this.#aborted) return false;
    if (bytes.length === 0 && !fin) return this.writable;
    this.#call(() => this.#driver.session.sendData(this.streamId, bytes, fin));
    if (fin) this.#setEnded();
    return this.writable;
  }

  /** Sends one capsule (RFC 9297 §3.2) as a DATA frame. */
  capsule(type: number | bigint, value: Uint8Array): boolean {
    if (this.#ended) throw new H3HttpError('WRITE_AFTER_END', 'capsule after end');
    if (this.#aborted) return false;
    this.#call(() => this.#driver.session.sendCapsule(this.streamId, type, value));
    return this.writable;
  }

  /** Ends the stream (FIN), with a trailer section when given. Idempotent. */
  end(trailers?: Array<[string, string]>): void {
    if (this.#ended || this.#aborted) return;
    if (trailers !== undefined && trailers.length > 0) {
      this.#call(() => this.#driver.session.sendTrailers(this.streamId, trailers));
    } else {
      this.#call(() => this.#driver.session.endStream(this.streamId));
    }
    this.#setEnded();
  }

  /** Records a FIN the session already sent (a header section with `endStream`). */
  markEnded(): void {
    this.#setEnded();
  }

  /** Resolves when the backlog is at or below the high-water mark (or writing is over). */
  drained(): Promise<void> {
    if (this.#ended || this.#aborted || this.bufferedAmount <= this.#hwm) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** The session reported the backlog handed over (`writable` event). */
  onWritable(): void {
    if (this.bufferedAmount <= this.#hwm) this.#wake();
  }

  /** Writing is over for a reason other than our end (reset, STOP_SENDING, connection lost). */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#wake();
  }

  #setEnded(): void {
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const resolve of w) resolve();
  }

  /**
   * Runs a session call and schedules the flush. A stream the session already forgot (reset or
   * closed under us) turns into an abort; other misuse propagates.
   */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (
        err instanceof H3UsageError &&
        (err.code === 'UNKNOWN_STREAM' || err.code === 'STREAM_CLOSED' || err.code === 'CLOSED')
      ) {
        this.abort();
        return;
      }
      throw err;
    }
    this.#driver.kick();
  }
}
