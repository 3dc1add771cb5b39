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
export {
  ConnectUdpHandler,
  type ConnectUdpHandlerOptions,
  type ConnectUdpRequest,
  type ConnectUdpStats,
  type TunnelLimits,
} from './connect-udp-handler.js';
export {
  chooseMode,
  type ModeDecision,
  type RelayMode,
  type RequestedMode,
  requestedMode,
} from './mode.js';
export { type PlainRelayOptions, PlainStrategy } from './plain-strategy.js';
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
