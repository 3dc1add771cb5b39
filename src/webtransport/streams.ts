/**
 * WebTransport streams on Node (draft §4): the receive side as an async iterable of chunks, the
 * send side with backpressure that is true to the transport (fed by `WtStreamSink`).
 *
 * Error codes: a WebTransport application code `n` travels as the HTTP/3 code
 * `webTransportCodeToHttp(n)` in RESET_STREAM and STOP_SENDING (draft §4.4), and is mapped back on
 * receipt; `WT_SESSION_GONE` ends the streams of a session that is over.
 */

import { H3UsageError } from '../http3/session/index.js';
import { AsyncQueue } from '../runtime/h3/async-queue.js';
import type { SessionDriver } from '../runtime/h3/driver.js';
import { WtErrorCode } from './constants.js';
import { httpCodeToWebTransport, webTransportCodeToHttp } from './error-codes.js';
import { WebTransportError } from './errors.js';

/** Default cap of unread bytes on a receive stream (the stream is stopped beyond it). */
export const DEFAULT_MAX_STREAM_BUFFER = 4 * 1024 * 1024;
/** Default high-water mark of a send stream's unsent backlog. */
export const DEFAULT_STREAM_HIGH_WATER_MARK = 256 * 1024;

/** Tuning shared by a session's streams. */
export interface WtStreamLimits {
  /** Unread bytes held per receive stream. Default {@link DEFAULT_MAX_STREAM_BUFFER}. */
  readonly maxBuffered?: number;
  /** Send backlog above which `write` returns false. Default {@link DEFAULT_STREAM_HIGH_WATER_MARK}. */
  readonly highWaterMark?: number;
}

function resetError(h3Code: number, what: 'STREAM_RESET' | 'STREAM_STOPPED'): WebTransportError {
  const app = httpCodeToWebTransport(h3Code);
  const shown = app === undefined ? `HTTP/3 code 0x${h3Code.toString(16)}` : `code ${app}`;
  const verb = what === 'STREAM_RESET' ? 'reset the stream' : 'stopped the stream';
  return new WebTransportError(what, `peer ${verb} (${shown})`, { applicationCode: app, h3Code });
}

/** Our receiving side of a WebTransport stream. */
export class WebTransportReceiveStream implements AsyncIterable<Uint8Array> {
  readonly streamId: number;
  readonly #driver: SessionDriver;
  readonly #queue = new AsyncQueue<Uint8Array>((b) => b.length);
  readonly #max: number;
  #done = false;
  /** Called once the side is finished (end, reset, stop). */
  onDone: (() => void) | undefined;

  constructor(driver: SessionDriver, streamId: number, maxBuffered = DEFAULT_MAX_STREAM_BUFFER) {
    this.#driver = driver;
    this.streamId = streamId;
    this.#max = maxBuffered;
    // The reader stopped early (break): what follows is unwanted.
    this.#queue.onAbandon = () => this.stop(0);
  }

  /** True once the stream ended, was reset, or reading stopped. */
  get finished(): boolean {
    return this.#done;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** Reads the whole stream (throws `WebTransportError` BUFFER_FULL above `limit`). */
  async bytes(limit = this.#max): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const chunk of this) {
      n += chunk.length;
      if (n > limit) throw new WebTransportError('BUFFER_FULL', `stream above ${limit} bytes`);
      parts.push(chunk);
    }
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Asks the peer to stop sending (STOP_SENDING with application code `code`). */
  stop(code = 0): void {
    if (this.#done) return;
    this.#driver.session.stopExtensionStream(this.streamId, webTransportCodeToHttp(code));
    this.#driver.kick();
    this.#finish();
    this.#queue.end();
  }

  // ---- from the sink ----

  /** Stream bytes (a view: copied here). */
  push(data: Uint8Array, fin: boolean): void {
    if (this.#done) return;
    if (data.length > 0) {
      if (this.#queue.units + data.length > this.#max) {
        this.#queue.fail(
          new WebTransportError('BUFFER_FULL', `more than ${this.#max} unread bytes`),
        );
        this.#driver.session.stopExtensionStream(
          this.streamId,
          WtErrorCode.WT_BUFFERED_STREAM_REJECTED,
        );
        this.#driver.kick();
        this.#finish();
        return;
      }
      this.#queue.push(data.slice());
    }
    if (fin) {
      this.#queue.end();
      this.#finish();
    }
  }

  /** The peer reset its side. */
  onReset(h3Code: number): void {
    if (this.#done) return;
    this.#queue.fail(resetError(h3Code, 'STREAM_RESET'));
    this.#finish();
  }

  /** The session or connection is over: stop reading (WT_SESSION_GONE) and fail the reader. */
  abandon(err: WebTransportError, stop: boolean): void {
    if (this.#done) return;
    if (stop) this.#driver.session.stopExtensionStream(this.streamId, WtErrorCode.WT_SESSION_GONE);
    this.#queue.fail(err);
    this.#finish();
  }

  #finish(): void {
    this.#done = true;
    this.onDone?.();
  }
}

/** Our sending side of a WebTransport stream. */
export class WebTransportSendStream {
  readonly streamId: number;
  readonly #driver: SessionDriver;
  readonly #hwm: number;
  #ended = false;
  #error: WebTransportError | undefined;
  #waiters: Array<() => void> = [];
  /** Called once the side is finished (end queued, reset, stopped). */
  onDone: (() => void) | undefined;

  constructor(
    driver: SessionDriver,
    streamId: number,
    highWaterMark = DEFAULT_STREAM_HIGH_WATER_MARK,
  ) {
    this.#driver = driver;
    this.streamId = streamId;
    this.#hwm = highWaterMark;
  }

  /** Bytes written that the transport has not accepted yet (0 once aborted). */
  get bufferedAmount(): number {
    if (this.#error !== undefined) return 0;
    return this.#driver.session.bufferedAmount(this.streamId);
  }

  /** Why writing stopped early (peer STOP_SENDING, our reset, session gone). */
  get error(): WebTransportError | undefined {
    return this.#error;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Queues bytes. Returns false when the caller should wait for `drained()` (backlog above the
   * high-water mark) or when writing has stopped (see `error`): bytes are then dropped.
   */
  write(data: Uint8Array): boolean {
    if (this.#ended) throw new WebTransportError('INVALID_STATE', 'write after end');
    if (this.#error !== undefined) return false;
    if (data.length > 0) this.#call(data, false);
    return this.#error === undefined && this.bufferedAmount <= this.#hwm;
  }

  /** Resolves when the backlog is at or below the high-water mark, or writing is over. */
  drained(): Promise<void> {
    if (this.#ended || this.#error !== undefined || this.bufferedAmount <= this.#hwm) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the stream cleanly (FIN after what is queued). Idempotent. */
  end(): void {
    if (this.#ended || this.#error !== undefined) return;
    this.#call(new Uint8Array(0), true);
    this.#ended = true;
    this.#wake();
    this.onDone?.();
  }

  /** Abruptly ends the stream (RESET_STREAM with application code `code`). */
  reset(code = 0): void {
    if (this.#error !== undefined) return;
    this.#driver.session.resetExtensionStream(this.streamId, webTransportCodeToHttp(code));
    this.#driver.kick();
    this.#abort(new WebTransportError('STREAM_RESET', `stream reset locally (code ${code})`));
  }

  // ---- from the sink ----

  onWritable(): void {
    if (this.bufferedAmount <= this.#hwm) this.#wake();
  }

  /** The peer sent STOP_SENDING (the transport already answered with RESET_STREAM). */
  onStopSending(h3Code: number): void {
    this.#abort(resetError(h3Code, 'STREAM_STOPPED'));
  }

  /** The session or connection is over: reset (WT_SESSION_GONE) unless finished. */
  abandon(err: WebTransportError, reset: boolean): void {
    if (this.#error !== undefined) return;
    if (reset)
      this.#driver.session.resetExtensionStream(this.streamId, WtErrorCode.WT_SESSION_GONE);
    this.#abort(err);
  }

  #abort(err: WebTransportError): void {
    if (this.#error !== undefined) return;
    this.#error = err;
    this.#wake();
    if (!this.#ended) this.onDone?.();
  }

  #call(data: Uint8Array, fin: boolean): void {
    try {
      this.#driver.session.writeExtensionStream(this.streamId, data, fin);
    } catch (err) {
      if (!(err instanceof H3UsageError)) throw err;
      this.#abort(new WebTransportError('SESSION_GONE', err.message, { cause: err }));
      return;
    }
    this.#driver.kick();
  }

  #wake(): void {
    const w = this.#waiters;
    if (w.length === 0) return;
    this.#waiters = [];
    for (const resolve of w) resolve();
  }
}

/** A bidirectional stream: both halves. */
export interface WebTransportBidiStream {
  readonly streamId: number;
  readonly readable: WebTransportReceiveStream;
  readonly writable: WebTransportSendStream;
}
