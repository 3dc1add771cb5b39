/**
 * One request/response exchange at the server: the stream sink that feeds the request body and
 * watches the response side, and detaches from the driver once both directions are over.
 */

import { H3ErrorCode } from '../../http3/errors.js';
import { type H3Headers, H3UsageError } from '../../http3/session/index.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import { IncomingBody, type IncomingBodyOptions } from '../h3/body.js';
import type { RequestEvent, SessionDriver, StreamEvent, StreamSink } from '../h3/driver.js';
import { H3HttpError } from '../h3/errors.js';
import { StreamWriter } from '../h3/stream-writer.js';
import { IncomingRequest } from './request.js';
import { ServerResponse } from './response.js';

/** Limits of one exchange. */
export interface ExchangeLimits extends IncomingBodyOptions {
  /** High-water mark of the response backlog. */
  highWaterMark: number;
}

export class ServerExchange implements StreamSink {
  readonly request: IncomingRequest;
  readonly response: ServerResponse;
  readonly #driver: SessionDriver;
  readonly #writer: StreamWriter;
  readonly #body: IncomingBody;
  #trailers: H3Headers | undefined;
  #done = false;
  readonly #onDone: () => void;

  constructor(
    driver: SessionDriver,
    ev: RequestEvent,
    remote: string,
    limits: ExchangeLimits,
    onDone: () => void,
  ) {
    this.#driver = driver;
    this.#onDone = onDone;
    this.#body = new IncomingBody(limits);
    this.#body.onAbandon = () => this.#stopReading();
    this.request = new IncomingRequest(ev, this.#body, remote);
    this.#writer = new StreamWriter(driver, ev.streamId, limits.highWaterMark);
    this.response = new ServerResponse(driver, this.#writer, () => this.#maybeDone());
    if (ev.fin) this.#body.end();
  }

  get streamId(): number {
    return this.request.streamId;
  }

  onStreamEvent(ev: StreamEvent): void {
    switch (ev.type) {
      case 'data':
        if (ev.data.length > 0 && !this.#body.push(ev.data)) {
          this.#overflow();
          return;
        }
        if (ev.fin) this.#body.end(this.#trailers);
        break;
      case 'trailers':
        this.#trailers = ev.headers;
        if (ev.fin) this.#body.end(ev.headers);
        break;
      case 'writable':
        this.#writer.onWritable();
        break;
      case 'reset':
        this.#body.fail(
          new H3HttpError('STREAM_RESET', `client reset the request (0x${ev.code.toString(16)})`, {
            h3Code: ev.code,
          }),
        );
        break;
      case 'stop-sending':
        this.#writer.abort();
        break;
      case 'stream-error':
        this.#body.fail(
          new H3HttpError('STREAM_ERROR', ev.reason, {
            h3Code: ev.code,
          }),
        );
        this.#writer.abort();
        break;
      default:
        return;
    }
    this.#maybeDone();
  }

  onConnectionEnd(info: QuicCloseInfo): void {
    this.#body.fail(
      new H3HttpError('CONNECTION_CLOSED', `connection closed: ${info.reason}`, {
        h3Code: info.errorCode,
      }),
    );
    this.#writer.abort();
    this.#maybeDone();
  }

  /** The handler failed: 500 if nothing was sent yet, else a stream reset. */
  fail(): void {
    if (this.#done || this.#writer.ended || this.#writer.aborted) return;
    if (!this.response.headersSent) {
      this.response.writeHead(500, [['content-type', 'text/plain']]);
      this.response.end('internal server error\n');
      return;
    }
    this.#reset(H3ErrorCode.H3_INTERNAL_ERROR);
  }

  /** More unread body than allowed: abort the request (H3_EXCESSIVE_LOAD). */
  #overflow(): void {
    this.#body.fail(
      new H3HttpError('BODY_TOO_LARGE', 'request body buffered beyond the limit', {
        h3Code: H3ErrorCode.H3_EXCESSIVE_LOAD,
      }),
    );
    // With the response complete, the rest of the request is merely unwanted (RFC 9114 §4.1).
    const complete = this.#writer.ended && this.#writer.bufferedAmount === 0;
    this.#reset(complete ? H3ErrorCode.H3_NO_ERROR : H3ErrorCode.H3_EXCESSIVE_LOAD);
  }

  /**
   * The reader stopped early. Once the response is complete, RFC 9114 §4.1 lets a server ask
   * for the rest of the request to be abandoned "without error" (STOP_SENDING H3_NO_ERROR);
   * before that we simply discard what arrives.
   */
  #stopReading(): void {
    if (this.#writer.ended && this.#writer.bufferedAmount === 0) {
      this.#reset(H3ErrorCode.H3_NO_ERROR);
    }
  }

  #reset(code: number): void {
    try {
      this.#driver.session.resetRequest(this.streamId, code);
    } catch (err) {
      if (!(err instanceof H3UsageError)) throw err;
    }
    this.#driver.kick();
    this.#writer.abort();
    if (!this.#body.ended) {
      this.#body.fail(new H3HttpError('STREAM_RESET', 'request aborted', { h3Code: code }));
    }
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#done) return;
    if (!this.#body.ended) return;
    if (!this.#writer.ended && !this.#writer.aborted) return;
    this.#done = true;
    this.#driver.detach(this.streamId, this);
    this.#onDone();
  }
}
