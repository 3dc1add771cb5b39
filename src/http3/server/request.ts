/**
 * A request as a server handler sees it: the pseudo-header fields, the header section, and the
 * body as an async iterable of chunks (with `text()` / `bytes()` helpers that enforce a cap).
 */
import type { H3Headers } from '../session/index.js';
import type { IncomingBody } from './body.js';
import { headerValue } from './headers.js';

/** The pseudo-header fields and section of a received request. */
export interface RequestHead {
  readonly streamId: number;
  readonly method: string;
  readonly scheme?: string;
  readonly authority?: string;
  readonly path?: string;
  readonly protocol?: string;
  readonly headers: H3Headers;
}

export class IncomingRequest implements AsyncIterable<Uint8Array> {
  /** Request stream ID. */
  readonly streamId: number;
  /** `:method`. */
  readonly method: string;
  /** `:scheme` (absent for plain CONNECT). */
  readonly scheme: string | undefined;
  /** `:authority`. */
  readonly authority: string | undefined;
  /** `:path` (absent for plain CONNECT). */
  readonly path: string | undefined;
  /** `:protocol` of an extended CONNECT. */
  readonly protocol: string | undefined;
  /** The whole header section as received, pseudo-header fields first. */
  readonly headers: H3Headers;
  /** The client's address, "host:port". */
  readonly remoteAddress: string;
  /** The body. */
  readonly body: IncomingBody;

  constructor(head: RequestHead, body: IncomingBody, remoteAddress: string) {
    this.streamId = head.streamId;
    this.method = head.method;
    this.scheme = head.scheme;
    this.authority = head.authority;
    this.path = head.path;
    this.protocol = head.protocol;
    this.headers = head.headers;
    this.body = body;
    this.remoteAddress = remoteAddress;
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
