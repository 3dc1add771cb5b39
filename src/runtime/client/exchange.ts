/**
 * One request at the client: the stream sink that turns the response's events into a
 * {@link ClientResponse} (status, header section, streaming body, trailers), and the writer of the
 * request body. Detaches once the response body has ended and our side is finished.
 */

import type { H3Headers } from '../../http3/session/index.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import { IncomingBody, type IncomingBodyOptions } from '../h3/body.js';
import type { SessionDriver, StreamEvent, StreamSink } from '../h3/driver.js';
import { H3HttpError } from '../h3/errors.js';
import { IncomingMessage } from '../h3/message.js';
import { StreamWriter } from '../h3/stream-writer.js';

/** A response as the client sees it. */
export class ClientResponse extends IncomingMessage {
  /** `:status`. */
  readonly status: number;

  constructor(streamId: number, status: number, headers: H3Headers, body: IncomingBody) {
    super(streamId, headers, body);
    this.status = status;
  }
}

/** Limits of a client exchange. */
export interface ClientExchangeLimits extends IncomingBodyOptions {
  highWaterMark: number;
}

export class ClientExchange implements StreamSink {
  readonly streamId: number;
  readonly writer: StreamWriter;
  readonly #driver: SessionDriver;
  readonly #body: IncomingBody;
  readonly response: Promise<ClientResponse>;
  #resolve!: (r: ClientResponse) => void;
  #reject!: (err: Error) => void;
  #head = false;
  #trailers: H3Headers | undefined;
  #done = false;

  constructor(driver: SessionDriver, streamId: number, limits: ClientExchangeLimits) {
    this.#driver = driver;
    this.streamId = streamId;
    this.writer = new StreamWriter(driver, streamId, limits.highWaterMark);
    this.#body = new IncomingBody(limits);
    // A reader that stops early cancels the request (RFC 9114 §4.1.1: H3_REQUEST_CANCELLED).
    this.#body.onAbandon = () => {
      this.#cancel();
      this.#maybeDone();
    };
    this.response = new Promise<ClientResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // An unobserved rejection (the caller stopped waiting) must not crash the process.
    this.response.catch(() => {});
  }

  onStreamEvent(ev: StreamEvent): void {
    switch (ev.type) {
      case 'headers':
        this.#head = true;
        this.#resolve(new ClientResponse(this.streamId, ev.status, ev.headers, this.#body));
        if (ev.fin) this.#body.end();
        break;
      case 'data':
        if (ev.data.length > 0 && !this.#body.push(ev.data)) {
          this.#fail(new H3HttpError('BODY_TOO_LARGE', 'response body buffered beyond the limit'));
          this.#cancel();
          return;
        }
        if (ev.fin) this.#body.end(this.#trailers);
        break;
      case 'trailers':
        this.#trailers = ev.headers;
        if (ev.fin) this.#body.end(ev.headers);
        break;
      case 'writable':
        this.writer.onWritable();
        break;
      case 'stop-sending':
        // The server does not want (the rest of) our body; its response may still come.
        this.writer.abort();
        break;
      case 'reset':
        this.#fail(
          new H3HttpError('STREAM_RESET', `server reset the stream (0x${ev.code.toString(16)})`, {
            h3Code: ev.code,
          }),
        );
        break;
      case 'stream-error':
        this.#fail(new H3HttpError('STREAM_ERROR', ev.reason, { h3Code: ev.code }));
        break;
      case 'rejected':
        this.#fail(new H3HttpError('REJECTED', 'the server will not process this request'));
        break;
      default:
        return;
    }
    this.#maybeDone();
  }

  onConnectionEnd(info: QuicCloseInfo): void {
    this.#fail(
      new H3HttpError('CONNECTION_CLOSED', `connection closed: ${info.reason || info.cause}`, {
        h3Code: info.errorCode,
      }),
    );
    this.#maybeDone();
  }

  /** The request body could not be produced: cancel the request. */
  abort(err: Error): void {
    this.#fail(err);
    this.#cancel();
    this.#maybeDone();
  }

  #cancel(): void {
    try {
      this.#driver.session.resetRequest(this.streamId);
    } catch {
      // Already gone.
    }
    this.#driver.kick();
    this.writer.abort();
  }

  #fail(err: Error): void {
    if (!this.#head) {
      this.#head = true;
      this.#reject(err);
    }
    this.#body.fail(err);
    this.writer.abort();
  }

  #maybeDone(): void {
    if (this.#done || !this.#body.ended) return;
    if (!this.writer.ended && !this.writer.aborted) return;
    this.#done = true;
    this.#driver.detach(this.streamId, this);
  }
}
