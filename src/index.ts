/** Public entry point of the `masque` package. */

export { type RunningProxy, type StartProxyOptions, startProxy } from './app/index.js';
// The client SDK (RFC 9298 UDP tunnels through a MASQUE proxy).
export {
  type MasqueAuth,
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
// Running the proxy from code.
export { ConfigError, loadConfig, type ProxyConfig, parseConfig } from './config/index.js';
// Proxy-Status entries carried by MasqueError and MasqueUdpSocket.
export type { ProxyStatusEntry } from './masque/headers/index.js';
export { ConnectUdpHandler, type ConnectUdpHandlerOptions } from './masque/proxy/index.js';
export * from './wire/index.js';
