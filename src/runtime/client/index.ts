/** The HTTP/3 client over our QUIC stack on Node. */
export {
  type ClientConnectOptions,
  type ClientRequestInit,
  H3Client,
  type H3ClientOptions,
  type RequestBody,
} from './client.js';
export { ClientConnectSession } from './connect.js';
export { ClientExchange, ClientResponse } from './exchange.js';
export { type ClientTarget, type ResolvedTarget, resolveTarget } from './target.js';
