/** The connect-udp proxy on Node (RFC 9298): request handler, tunnels, sockets. */
export {
  ConnectUdpHandler,
  type ConnectUdpHandlerOptions,
  type ConnectUdpRequest,
  type ConnectUdpStats,
  type TunnelLimits,
} from './connect-udp-handler.js';
export {
  type DropReason,
  type TunnelCloseReason,
  TunnelCounters,
  type TunnelOptions,
  type TunnelSession,
  UdpTunnel,
} from './tunnel.js';
export {
  type NodeUdpSocketOptions,
  nodeUdpSocketFactory,
  type TunnelSocket,
  type UdpSocketFactory,
  type UdpTarget,
} from './udp-socket.js';
