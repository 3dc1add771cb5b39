/** The sans-IO QUIC endpoint: routing, Version Negotiation, Retry, stateless reset (RFC 9000 §5.2, §6, §8.1, §10.3). */
export { addressHost, judgeInitialToken, type TokenVerdict } from './address-validation.js';
export {
  MIN_INITIAL_DATAGRAM_SIZE,
  MIN_INITIAL_DCID_LENGTH,
  QuicEndpoint,
  type QuicEndpointOptions,
  SUPPORTED_VERSIONS,
} from './endpoint.js';
export {
  type QuicServerFactoryOptions,
  quicClientFactory,
  quicServerFactory,
} from './quic-factories.js';
export { TokenBucket } from './rate-limiter.js';
export { cidKey, RoutingTable } from './routing.js';
export {
  buildInitialClose,
  buildRetry,
  buildVersionNegotiation,
  greaseVersion,
} from './stateless-packets.js';
export * from './types.js';
