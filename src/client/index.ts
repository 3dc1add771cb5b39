/** The MASQUE client SDK: UDP tunnels through a connect-udp proxy (RFC 9298). */
export {
  type BindTunnelStream,
  type BoundAddressInfo,
  type BoundMessage,
  type MasqueBindOptions,
  MasqueBoundSocket,
  type MasqueBoundSocketEvents,
  type MasqueBoundSocketStats,
} from './bound-socket.js';
export { type MasqueAuth, MasqueClient, type MasqueClientOptions } from './client.js';
export { MasqueError, MasqueErrorCode, type MasqueErrorCodeValue } from './errors.js';
export type { AddressLookup } from './proxy-addresses.js';
export { TunnelDatagramSocket } from './tunnel-datagram-socket.js';
export {
  MasqueUdpSocket,
  type MasqueUdpSocketEvents,
  type MasqueUdpSocketOptions,
  type RemoteInfo,
  type TunnelStream,
} from './udp-socket.js';
