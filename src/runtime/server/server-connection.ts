/**
 * One HTTP/3 connection at the server: routes each request to the status endpoint, an extended
 * CONNECT handler, the request handler, or an error status.
 *
 * Status codes chosen here:
 * - 400 when `:scheme` / `:authority` / `:path` fail the checks of `validate-target.ts`.
 * - 501 for an extended CONNECT whose `:protocol` has no handler (RFC 9220 §3: "the server
 *   SHOULD respond to the request with a 501 (Not Implemented) status code").
 * - 501 for plain CONNECT (RFC 9114 §4.4): this server is no TCP proxy, and RFC 9110 §15.6.2
 *   names 501 for "the functionality required to fulfill the request" not being supported
 *   (405 would claim the method is known for this resource but disallowed).
 * - 404 when no request handler is installed; 405 for the status endpoint with another method.
 * - 500 when a handler throws before answering.
 */
import type { Logger } from 'pino';
import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { H3ErrorCode } from '../../http3/errors.js';
import type { TunnelHead } from '../../http3/session/index.js';
import { checkRequestTarget } from '../../http3/validate-target.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import type { DriverListener, RequestEvent, SessionDriver } from '../h3/driver.js';
import { type ExchangeLimits, ServerExchange } from './exchange.js';
import type { IncomingRequest } from './request.js';
import type { ServerResponse } from './response.js';
import { type ConnectHandlerOptions, ServerConnectSession } from './server-connect.js';

/** A request handler: may be async; an exception before answering becomes a 500. */
export type RequestHandler = (req: IncomingRequest, res: ServerResponse) => void | Promise<void>;

/** An extended CONNECT handler: answers with `session.accept()` or `session.reject()`. */
export type ConnectHandler = (session: ServerConnectSession) => void | Promise<void>;

/** What a connection needs from its server. */
export interface ServerContext {
  readonly logger: Logger;
  readonly limits: ExchangeLimits;
  /** Path of the status endpoint, or undefined when disabled. */
  readonly statusPath: string | undefined;
  readonly handler: RequestHandler | undefined;
  connectHandler(protocol: string): [ConnectHandler, ConnectHandlerOptions] | undefined;
  statusBody(): string;
  /** Who may read the status endpoint: a refusal to answer instead, or undefined to serve it. */
  statusAccess(
    headers: ReadonlyArray<readonly [string, string]>,
  ): { status: number; headers: Array<[string, string]> } | undefined;
  /** Counters. */
  requestStarted(connect: boolean): void;
  requestFinished(connect: boolean): void;
  connectionClosed(conn: ServerConnection, info: QuicCloseInfo): void;
}

export class ServerConnection implements DriverListener {
  readonly driver: SessionDriver;
  readonly remote: string;
  readonly #ctx: ServerContext;

  constructor(driver: SessionDriver, remote: string, ctx: ServerContext) {
    this.driver = driver;
    this.remote = remote;
    this.#ctx = ctx;
    driver.listen(this);
  }

  onRequest(ev: RequestEvent): void {
    const ctx = this.#ctx;
    const problem = checkRequestTarget(ev);
    if (problem !== undefined) {
      this.#answer(ev, problem.status, `${problem.reason}\n`);
      return;
    }
    if (ev.method === 'CONNECT') {
      if (ev.protocol === undefined) {
        this.#answer(ev, 501, 'CONNECT is not supported here\n');
        return;
      }
      const entry = ctx.connectHandler(ev.protocol);
      if (entry === undefined) {
        this.#answer(ev, 501, `no handler for :protocol ${ev.protocol}\n`);
        return;
      }
      this.#connect(ev, entry[0], entry[1]);
      return;
    }
    const path = ev.path ?? '';
    if (ctx.statusPath !== undefined && pathOnly(path) === ctx.statusPath) {
      this.#status(ev);
      return;
    }
    if (ctx.handler === undefined) {
      this.#answer(ev, 404, 'not found\n');
      return;
    }
    const ex = this.#exchange(ev);
    const handler = ctx.handler;
    try {
      const r = handler(ex.request, ex.response);
      if (r !== undefined) r.catch((err: unknown) => this.#handlerFailed(ex, err));
    } catch (err) {
      this.#handlerFailed(ex, err);
    }
  }

  onClosed(info: QuicCloseInfo): void {
    this.#ctx.connectionClosed(this, info);
  }

  capsuleParsing(head: TunnelHead): CapsuleParserOptions | undefined {
    if (head.protocol === undefined) return undefined;
    const entry = this.#ctx.connectHandler(head.protocol);
    return entry === undefined ? undefined : ServerConnectSession.capsuleMode(head, entry[1]);
  }

  #exchange(ev: RequestEvent): ServerExchange {
    const ctx = this.#ctx;
    ctx.requestStarted(false);
    const ex = new ServerExchange(this.driver, ev, this.remote, ctx.limits, () =>
      ctx.requestFinished(false),
    );
    this.driver.attach(ev.streamId, ex);
    return ex;
  }

  #answer(ev: RequestEvent, status: number, text: string): void {
    const res = this.#exchange(ev).response;
    res.writeHead(status, [['content-type', 'text/plain; charset=utf-8']]);
    res.end(ev.method === 'HEAD' ? undefined : text);
  }

  #status(ev: RequestEvent): void {
    const res = this.#exchange(ev).response;
    if (ev.method !== 'GET' && ev.method !== 'HEAD') {
      res.writeHead(405, [['allow', 'GET, HEAD']]);
      res.end();
      return;
    }
    const refused = this.#ctx.statusAccess(ev.headers);
    if (refused !== undefined) {
      res.writeHead(refused.status, refused.headers);
      res.end();
      return;
    }
    const body = this.#ctx.statusBody();
    res.writeHead(200, [
      ['content-type', 'application/json'],
      ['cache-control', 'no-store'],
    ]);
    res.end(ev.method === 'HEAD' ? undefined : body);
  }

  #connect(ev: RequestEvent, handler: ConnectHandler, options: ConnectHandlerOptions): void {
    const ctx = this.#ctx;
    const session = new ServerConnectSession(this.driver, ev, this.remote, options);
    this.driver.attach(ev.streamId, session);
    ctx.requestStarted(true);
    void session.closed.then(() => ctx.requestFinished(true));
    const failed = (err: unknown): void => {
      ctx.logger.error({ err, protocol: ev.protocol }, 'CONNECT handler failed');
      if (session.closeInfo !== undefined) return;
      if (!session.answered) session.reject(500);
      else session.abort(H3ErrorCode.H3_INTERNAL_ERROR);
    };
    try {
      const r = handler(session);
      if (r !== undefined) r.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  #handlerFailed(ex: ServerExchange, err: unknown): void {
    this.#ctx.logger.error({ err, path: ex.request.path }, 'request handler failed');
    ex.fail();
  }
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}
