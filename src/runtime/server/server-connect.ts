/**
 * The server's side of an extended CONNECT session (RFC 9220): the handler registered for the
 * request's `:protocol` receives it before any response is sent and answers with `accept` (a
 * 2xx, with `capsule-protocol: ?1` when the Capsule Protocol is in use, RFC 9297 §3.4) or
 * `reject` (any other final status).
 */

import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { H3ErrorCode } from '../../http3/errors.js';
import type { H3Headers, TunnelHead } from '../../http3/session/index.js';
import { ConnectSession, type ConnectSessionOptions } from '../h3/connect-session.js';
import type { RequestEvent, SessionDriver } from '../h3/driver.js';
import { capsuleProtocolOn, type HeadersInit, headerValue, toFields } from '../h3/headers.js';

/** Options of a protocol registered with `H3Server.handleConnect`. */
export interface ConnectHandlerOptions extends ConnectSessionOptions {
  /**
   * When the CONNECT stream's DATA is capsules (RFC 9297 §3.2): `true` (default) when the request
   * says `capsule-protocol: ?1`; `'always'` for protocols whose upgrade token implies the Capsule
   * Protocol, whatever the header says (§3.4 makes the header a hint for intermediaries);
   * `false`: never, DATA is delivered as tunnel bytes.
   */
  readonly capsuleProtocol?: boolean | 'always';
}

export class ServerConnectSession extends ConnectSession {
  /** `:protocol`. */
  readonly protocol: string;
  /** `:path`. */
  readonly path: string;
  /** `:authority`. */
  readonly authority: string;
  /** The client's address, "host:port". */
  readonly remoteAddress: string;
  #answered = false;

  /**
   * Whether a request for a protocol registered with `options` carries capsules: when the handler
   * uses the Capsule Protocol and the request says `capsule-protocol: ?1` (RFC 9297 §3.4).
   */
  static capsuleMode(
    head: TunnelHead,
    options: ConnectHandlerOptions,
  ): CapsuleParserOptions | undefined {
    const mode = options.capsuleProtocol ?? true;
    if (mode === false || (mode === true && !capsuleProtocolOn(head.headers))) return undefined;
    return { known: options.knownCapsules };
  }

  constructor(
    driver: SessionDriver,
    ev: RequestEvent,
    remoteAddress: string,
    options: ConnectHandlerOptions = {},
  ) {
    super(driver, ev.streamId, ev.headers, options);
    this.protocol = ev.protocol ?? '';
    this.path = ev.path ?? '';
    this.authority = ev.authority ?? '';
    this.remoteAddress = remoteAddress;
    // Capsules may follow the request at once, before our response (RFC 9297 §3.2 lets the
    // client send them optimistically): the session fixed the mode with the header section.
    if (ev.capsules === true) this.enableCapsules();
    if (ev.fin) this.remoteEnd();
  }

  /** First value of a request header field (lowercase name). */
  header(name: string): string | undefined {
    return headerValue(this.headers, name);
  }

  /** True once `accept` or `reject` ran. */
  get answered(): boolean {
    return this.#answered;
  }

  /** Answers 2xx (default 200) and opens the tunnel. */
  accept(headers?: HeadersInit, status = 200): void {
    if (status < 200 || status > 299) throw new RangeError(`accept with status ${status}`);
    const fields: H3Headers = [[':status', String(status)]];
    if (this.capsuleMode) fields.push(['capsule-protocol', '?1']);
    for (const f of toFields(headers)) fields.push(f);
    this.#answer(fields, false);
    // The client already ended its side: the tunnel is over once ours ends too.
    if (this.remoteEnded) this.close();
  }

  /** Answers with a final non-2xx status and ends the session. */
  reject(status: number, headers?: HeadersInit): void {
    if (status >= 200 && status <= 299) throw new RangeError(`reject with status ${status}`);
    const fields: H3Headers = [[':status', String(status)]];
    for (const f of toFields(headers)) fields.push(f);
    this.#answer(fields, true);
    this.finish({ kind: 'end' });
  }

  /** Before an answer, closing means refusing unprocessed: H3_REQUEST_REJECTED (RFC 9114 §4.1.1). */
  override close(): void {
    if (!this.#answered) {
      this.abort(H3ErrorCode.H3_REQUEST_REJECTED);
      return;
    }
    super.close();
  }

  protected override canSend(): boolean {
    return this.#answered;
  }

  #answer(fields: H3Headers, fin: boolean): void {
    if (this.#answered) throw new Error('the CONNECT request was already answered');
    if (this.closeInfo !== undefined) return;
    this.#answered = true;
    this.driver.session.respond(this.streamId, fields, { endStream: fin });
    if (fin) this.writer.markEnded();
    this.driver.kick();
  }
}
