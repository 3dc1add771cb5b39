/**
 * A request as a server handler sees it: the pseudo-header fields, the header section, and the
 * body as an async iterable of chunks (with `text()` / `bytes()` helpers that enforce a cap).
 */
import type { H3Headers } from '../../http3/session/index.js';
import type { IncomingBody } from '../h3/body.js';
import { IncomingMessage } from '../h3/message.js';

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

export class IncomingRequest extends IncomingMessage {
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
  /** The client's address, "host:port". */
  readonly remoteAddress: string;

  constructor(head: RequestHead, body: IncomingBody, remoteAddress: string) {
    super(head.streamId, head.headers, body);
    this.method = head.method;
    this.scheme = head.scheme;
    this.authority = head.authority;
    this.path = head.path;
    this.protocol = head.protocol;
    this.remoteAddress = remoteAddress;
  }
}
