/**
 * The driver sink of one WebTransport stream (draft §4.1, §4.2): for a peer's stream it reads the
 * Session ID that follows the signal, reports the stream, then feeds its halves
 * (`WebTransportReceiveStream` / `WebTransportSendStream`) with the HTTP/3 events of the stream.
 */

import type { QuicCloseInfo } from '../quic/api.js';
import type { SessionDriver, StreamEvent, StreamSink } from '../runtime/h3/driver.js';
import { WebTransportError } from './errors.js';
import { SessionIdReader } from './stream-header.js';
import {
  type WebTransportBidiStream,
  WebTransportReceiveStream,
  WebTransportSendStream,
  type WtStreamLimits,
} from './streams.js';

/** Who hears that an incoming stream's Session ID has been read. */
export type SessionIdListener = (sessionId: bigint, sink: WtStreamSink) => void;

/**
 * The driver sink of one WebTransport stream. For a peer's stream it first reads the Session ID,
 * then reports the stream (`onSessionId`) and feeds the halves; it detaches once both halves are
 * finished or the connection is gone.
 */
export class WtStreamSink implements StreamSink {
  readonly streamId: number;
  readonly bidirectional: boolean;
  readonly #driver: SessionDriver;
  #header: SessionIdReader | undefined;
  #onSessionId: SessionIdListener | undefined;
  readonly #limits: WtStreamLimits;
  recv: WebTransportReceiveStream | undefined;
  send: WebTransportSendStream | undefined;
  #detached = false;
  /** Called once when both halves are finished (the sink detaches then). */
  onFinished: (() => void) | undefined;

  private constructor(
    driver: SessionDriver,
    streamId: number,
    bidirectional: boolean,
    limits: WtStreamLimits,
  ) {
    this.#driver = driver;
    this.streamId = streamId;
    this.bidirectional = bidirectional;
    this.#limits = limits;
  }

  /** A stream the peer opened (its signal already read by the HTTP/3 session). */
  static incoming(
    driver: SessionDriver,
    streamId: number,
    bidirectional: boolean,
    limits: WtStreamLimits,
    onSessionId: SessionIdListener,
  ): WtStreamSink {
    const sink = new WtStreamSink(driver, streamId, bidirectional, limits);
    sink.#header = new SessionIdReader();
    sink.#onSessionId = onSessionId;
    sink.#makeHalves(true, bidirectional);
    driver.attach(streamId, sink);
    return sink;
  }

  /** A stream we opened (header already queued). */
  static outgoing(
    driver: SessionDriver,
    streamId: number,
    bidirectional: boolean,
    limits: WtStreamLimits,
  ): WtStreamSink {
    const sink = new WtStreamSink(driver, streamId, bidirectional, limits);
    sink.#makeHalves(bidirectional, true);
    driver.attach(streamId, sink);
    return sink;
  }

  /** True once every half is finished. */
  get finished(): boolean {
    return (
      (this.recv === undefined || this.recv.finished) &&
      (this.send === undefined || this.send.ended || this.send.error !== undefined)
    );
  }

  /** The bidirectional view (throws for a unidirectional stream). */
  get bidi(): WebTransportBidiStream {
    return { streamId: this.streamId, readable: this.recv!, writable: this.send! };
  }

  /** Ends both halves because the session is over. */
  abandon(err: WebTransportError, signal: boolean): void {
    this.recv?.abandon(err, signal);
    this.send?.abandon(err, signal);
    this.#driver.kick();
    this.#maybeDetach();
  }

  onStreamEvent(ev: StreamEvent): void {
    switch (ev.type) {
      case 'data':
        this.#onData(ev.data, ev.fin);
        return;
      case 'reset':
        if (this.#header !== undefined) {
          // Reset before its Session ID: no session will hear of it; end our side too.
          this.#header = undefined;
          this.send?.abandon(
            new WebTransportError('STREAM_RESET', 'reset before its header'),
            true,
          );
        }
        this.recv?.onReset(ev.code);
        break;
      case 'stop-sending':
        this.send?.onStopSending(ev.code);
        break;
      case 'writable':
        this.send?.onWritable();
        break;
      default:
        return;
    }
    this.#maybeDetach();
  }

  onConnectionEnd(info: QuicCloseInfo): void {
    const err = new WebTransportError('SESSION_GONE', `connection closed: ${info.reason}`, {
      h3Code: info.errorCode,
    });
    this.recv?.abandon(err, false);
    this.send?.abandon(err, false);
    this.#detached = true;
  }

  #onData(data: Uint8Array, fin: boolean): void {
    let rest = data;
    const header = this.#header;
    if (header !== undefined) {
      const pos = header.push(data);
      if (!header.done) {
        if (fin)
          this.abandon(new WebTransportError('STREAM_RESET', 'stream ended in its header'), true);
        return;
      }
      this.#header = undefined;
      rest = data.subarray(pos);
      this.#onSessionId?.(header.value, this);
      this.#onSessionId = undefined;
    }
    this.recv?.push(rest, fin);
    this.#maybeDetach();
  }

  #makeHalves(recv: boolean, send: boolean): void {
    const done = (): void => this.#maybeDetach();
    if (recv) {
      this.recv = new WebTransportReceiveStream(
        this.#driver,
        this.streamId,
        this.#limits.maxBuffered,
      );
      this.recv.onDone = done;
    }
    if (send) {
      this.send = new WebTransportSendStream(
        this.#driver,
        this.streamId,
        this.#limits.highWaterMark,
      );
      this.send.onDone = done;
    }
  }

  #maybeDetach(): void {
    if (this.#detached || !this.finished) return;
    // A FIN still draining needs `writable` no more: the session reports nothing after it.
    this.#detached = true;
    this.#driver.detach(this.streamId, this);
    this.onFinished?.();
  }
}
