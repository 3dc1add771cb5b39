/** The sans-IO QUIC connection (RFC 9000, RFC 9001, RFC 9002, RFC 9221). */
export type { AckFrequencyPolicy } from './ack-frequency.js';
export {
  type ClientConfig,
  type CommonConfig,
  DEFAULT_TRANSPORT_SETTINGS,
  type ParsedInitialInfo,
  type QlogEvent,
  type ServerConfig,
  type TransportSettings,
} from './config.js';
export { QuicConnection } from './connection.js';
export type { CidEvent, ConnectionState } from './core.js';
export type { Transmit } from './send.js';
export {
  defaultTlsFactory,
  type TlsClientOptions,
  type TlsEvent,
  type TlsFactory,
  type TlsLevel,
  type TlsServerOptions,
  type TlsSessionLike,
  type TlsSessionParams,
} from './tls-adapter.js';
