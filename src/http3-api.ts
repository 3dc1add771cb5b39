/**
 * `masque/http3`: our HTTP/3 server and client (RFC 9114, extended CONNECT per RFC 9220, HTTP
 * datagrams and capsules per RFC 9297) over our QUIC, on Node, and WebTransport on the server.
 */

export {
  type ClientConnectOptions,
  ClientConnectSession,
  type ClientRequestInit,
  ClientResponse,
  H3Client,
  type H3ClientOptions,
  type RequestBody,
} from './runtime/client/index.js';
export {
  type ConnectCloseInfo,
  ConnectSession,
  type ConnectSessionOptions,
} from './runtime/h3/connect-session.js';
export { H3HttpError, type H3HttpErrorCode } from './runtime/h3/errors.js';
export type { HeadersInit } from './runtime/h3/headers.js';
export {
  type ConnectHandler,
  type ConnectHandlerOptions,
  H3Server,
  type H3ServerCloseOptions,
  type H3ServerOptions,
  type H3ServerStats,
  IncomingRequest,
  type RequestHandler,
  ServerConnectSession,
  ServerResponse,
} from './runtime/server/index.js';
export {
  serveWebTransport,
  serveWebTransportEcho,
  type WebTransportCloseInfo,
  WebTransportError,
  type WebTransportHandler,
  WebTransportSession,
  type WebTransportSessionOptions,
} from './webtransport/index.js';
