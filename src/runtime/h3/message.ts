/**
 * What a received HTTP message offers, on either side: its header section, a streaming body and
 * the trailers. `IncomingRequest` (server) and `ClientResponse` (client) extend it.
 */
import type { H3Headers } from '../../http3/session/index.js';
import type { IncomingBody } from './body.js';
import { headerValue } from './headers.js';

export abstract class IncomingMessage implements AsyncIterable<Uint8Array> {
  /** Request stream ID. */
  readonly streamId: number;
  /** The whole header section as received, pseudo-header fields first. */
  readonly headers: H3Headers;
  /** The body. */
  readonly body: IncomingBody;

  constructor(streamId: number, headers: H3Headers, body: IncomingBody) {
    this.streamId = streamId;
    this.headers = headers;
    this.body = body;
  }

  /** First value of a header field (name in lowercase). */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  /** The trailer section, once the body has ended with one. */
  get trailers(): H3Headers | undefined {
    return this.body.trailers;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.body[Symbol.asyncIterator]();
  }

  /** The whole body (H3HttpError BODY_TOO_LARGE above `limit`). */
  bytes(limit?: number): Promise<Uint8Array> {
    return this.body.bytes(limit);
  }

  /** The whole body as UTF-8 text. */
  text(limit?: number): Promise<string> {
    return this.body.text(limit);
  }
}
