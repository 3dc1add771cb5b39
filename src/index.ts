/**
 * `masque`: the client SDK and the proxy, what applications import. The HTTP/3 server and client
 * are `masque/http3`. Nothing else is part of the public API (package.json `exports`).
 */

// Running the proxy from code.
export {
  type RunningProxy,
  type StartProxyOptions,
  spkiSha256Of,
  startProxy,
} from './app/index.js';
// A local UDP port forwarded through the proxy (what `masque udp-forward` runs).
export { UdpForwarder, type UdpForwardOptions } from './cli/udp-forward.js';
// The client SDK: UDP tunnels through a MASQUE proxy (RFC 9298) and bound sockets on it
// (connect-udp-bind).
export {
  type AddressLookup,
  type BoundAddressInfo,
  type BoundMessage,
  type MasqueAuth,
  type MasqueBindOptions,
  MasqueBoundSocket,
  type MasqueBoundSocketStats,
  MasqueClient,
  type MasqueClientOptions,
  MasqueError,
  MasqueErrorCode,
  type MasqueErrorCodeValue,
  MasqueUdpSocket,
  type MasqueUdpSocketOptions,
  type RemoteInfo,
  TunnelDatagramSocket,
} from './client/index.js';
export { ConfigError, loadConfig, type ProxyConfig, parseConfig } from './config/index.js';
// What MasqueError and MasqueUdpSocket carry.
export type { ProxyStatusEntry } from './masque/headers/index.js';
// The connect-udp handler, to serve it from an H3Server of one's own (`masque/http3`).
export {
  type BindOptions,
  ConnectUdpHandler,
  type ConnectUdpHandlerOptions,
  type ConnectUdpStats,
  type TunnelLimits,
} from './masque/proxy/index.js';
export type { QuicCloseInfo } from './quic/api.js';
// A development certificate (self-signed, for localhost) for tests and experiments.
export { type DevCert, type DevCertOptions, generateDevCert } from './tls/certs/dev-cert.js';
