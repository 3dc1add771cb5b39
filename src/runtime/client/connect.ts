/**
 * The client's side of an extended CONNECT session: it exists from the request on (datagrams
 * the server sends right after its 2xx are not lost), and `opened` settles with the response:
 * a 2xx opens the tunnel (capsule mode when we asked for the Capsule Protocol and the response
 * says `capsule-protocol: ?1`, RFC 9297 §3.4); any other status rejects with CONNECT_REFUSED and
 * cancels the stream.
 */

import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { H3ErrorCode } from '../../http3/errors.js';
import type { H3Headers, TunnelHead } from '../../http3/session/index.js';
import {
  type ConnectCloseInfo,
  ConnectSession,
  type ConnectSessionOptions,
} from '../h3/connect-session.js';
import type { SessionDriver, StreamEvent } from '../h3/driver.js';
import { H3HttpError } from '../h3/errors.js';
import { capsuleProtocolOn, headerValue } from '../h3/headers.js';

export class ClientConnectSession extends ConnectSession {
  readonly #wantCapsules: boolean | 'always';
  #status: number | undefined;
  #responseHeaders: H3Headers = [];
  readonly opened: Promise<this>;
  #resolve!: (s: this) => void;
  #reject!: (err: Error) => void;

  constructor(
    driver: SessionDriver,
    streamId: number,
    requestHeaders: H3Headers,
    wantCapsules: boolean | 'always',
    options: ConnectSessionOptions = {},
  ) {
    super(driver, streamId, requestHeaders, options);
    this.#wantCapsules = wantCapsules;
    this.opened = new Promise<this>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.opened.catch(() => {});
  }

  /** Status of the response, once received. */
  get status(): number | undefined {
    return this.#status;
  }

  /** The response header section, once received. */
  get responseHeaders(): H3Headers {
    return this.#responseHeaders;
  }

  /** First value of a response header field (lowercase name). */
  header(name: string): string | undefined {
    return headerValue(this.#responseHeaders, name);
  }

  /** The session asks, as the 2xx arrives, whether the tunnel carries capsules (RFC 9297 §3.4). */
  capsuleParsing(head: TunnelHead): CapsuleParserOptions | undefined {
    const want = this.#wantCapsules;
    if (want === false || (want === true && !capsuleProtocolOn(head.headers))) return undefined;
    return this.parserOptions;
  }

  protected override canSend(): boolean {
    return this.#status !== undefined;
  }

  protected override onOtherEvent(ev: StreamEvent): void {
    if (ev.type === 'headers' && this.#status === undefined) {
      this.#status = ev.status;
      this.#responseHeaders = ev.headers;
      if (ev.status >= 200 && ev.status < 300) {
        if (ev.capsules === true) this.enableCapsules();
        this.#resolve(this);
        return;
      }
      this.#reject(
        new H3HttpError('CONNECT_REFUSED', `extended CONNECT answered ${ev.status}`, {
          status: ev.status,
          headers: ev.headers,
        }),
      );
      this.abort(H3ErrorCode.H3_REQUEST_CANCELLED);
      return;
    }
    if (ev.type === 'rejected') {
      this.#reject(new H3HttpError('REJECTED', 'the server will not process this request'));
      this.finish({ kind: 'reset', code: H3ErrorCode.H3_REQUEST_REJECTED });
    }
  }

  protected override finish(info: ConnectCloseInfo): void {
    if (this.#status === undefined) {
      const code = info.kind === 'connection' ? 'CONNECTION_CLOSED' : 'STREAM_RESET';
      this.#reject(
        new H3HttpError(code, `extended CONNECT ended before a response (${info.kind})`, {
          h3Code: info.code,
        }),
      );
    }
    super.finish(info);
  }
}
