/**
 * HTTP/3 over our QUIC stack on Node: the server, and the glue it shares with the client
 * (`SessionDriver`, bodies, extended CONNECT sessions, the stream writer).
 */

export {
  checkAuthority,
  checkPath,
  checkRequestTarget,
  type RequestTarget,
  type TargetProblem,
} from '../../http3/validate-target.js';
export { AsyncQueue } from '../h3/async-queue.js';
export { IncomingBody, type IncomingBodyOptions } from '../h3/body.js';
export {
  type ConnectCloseInfo,
  ConnectSession,
  type ConnectSessionOptions,
} from '../h3/connect-session.js';
export {
  type DrivenConnection,
  type DriverHost,
  type DriverListener,
  type RequestEvent,
  SessionDriver,
  type StreamEvent,
  type StreamSink,
} from '../h3/driver.js';
export { H3HttpError, type H3HttpErrorCode } from '../h3/errors.js';
export {
  capsuleProtocolOn,
  type HeadersInit,
  headerValue,
  headerValues,
  toFields,
} from '../h3/headers.js';
export { DEFAULT_HIGH_WATER_MARK, StreamWriter } from '../h3/stream-writer.js';
export { ServerExchange } from './exchange.js';
export { IncomingRequest, type RequestHead } from './request.js';
export { ServerResponse } from './response.js';
export {
  DEFAULT_MAX_DATAGRAM_FRAME_SIZE,
  DEFAULT_STATUS_PATH,
  H3Server,
  type H3ServerCloseOptions,
  type H3ServerOptions,
} from './server.js';
export { type ConnectHandlerOptions, ServerConnectSession } from './server-connect.js';
export type { ConnectHandler, RequestHandler } from './server-connection.js';
export { type H3ServerStats, statusDocument } from './status.js';
