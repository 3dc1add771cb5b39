/**
 * The connect-udp proxy (RFC 9298): one session handler, a pure admission step, a relay strategy
 * per mode (plain today; bind and QUIC-aware plug in as strategies), tunnels and their sockets.
 */
export {
  type Admission,
  type AdmissionContext,
  type Admitted,
  admit,
  type Refusal,
  refusal,
} from './admission.js';
export { type BindRelayOptions, BindStrategy, interfaceAddress } from './bind-strategy.js';
export { type BindSockets, BindTunnel, type BindTunnelOptions } from './bind-tunnel.js';
export {
  type BoundPeerInfo,
  type BoundSocket,
  type BoundSocketFactory,
  nodeBoundSocketFactory,
} from './bound-socket.js';
export {
  type BindOptions,
  ConnectUdpHandler,
  type ConnectUdpHandlerOptions,
  type ConnectUdpRequest,
  type ConnectUdpStats,
  type HandlerReconfiguration,
  type TunnelLimits,
} from './connect-udp-handler.js';
export {
  chooseMode,
  type ModeDecision,
  type RelayMode,
  type RequestedMode,
  requestedMode,
} from './mode.js';
export { PeerPolicyCache } from './peer-policy.js';
export { type PlainRelayOptions, PlainStrategy } from './plain-strategy.js';
export { type RelayOptions, SessionRelay } from './relay-base.js';
export type { PreparedRelay, Relay, RelayContext, RelayStrategy } from './strategy.js';
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
