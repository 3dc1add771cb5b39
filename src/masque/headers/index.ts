/** MASQUE HTTP header fields, parsed and formatted through Structured Field Values (RFC 9651). */
export {
  CAPSULE_PROTOCOL_FIELD,
  formatCapsuleProtocol,
  parseCapsuleProtocol,
} from '../../capsule/header.js';
export {
  type FieldValue,
  fail,
  HeaderFormatError,
  type HeaderFormatErrorCode,
  type HeaderResult,
  ok,
} from '../../fields/result.js';
export { combineFieldLines } from '../../fields/sf.js';
export {
  CONNECT_UDP_BIND_FIELD,
  formatConnectUdpBind,
  parseConnectUdpBind,
} from './connect-udp-bind.js';
export {
  isProxyErrorType,
  onlyGeneratedByIntermediaries,
  PROXY_ERROR_TYPES,
  type ProxyErrorType,
  recommendedStatus,
} from './proxy-error-types.js';
export {
  formatIpPortTuple,
  formatProxyPublicAddress,
  PROXY_PUBLIC_ADDRESS_FIELD,
  type ProxyPublicAddress,
  parseIpPortTuple,
  parseProxyPublicAddress,
  parseProxyPublicAddressLenient,
} from './proxy-public-address.js';
export {
  formatProxyQuicForwarding,
  PROXY_QUIC_FORWARDING_FIELD,
  type ProxyQuicForwarding,
  type ProxyQuicForwardingRole,
  parseProxyQuicForwarding,
  SCRAMBLE_KEY_BYTES,
} from './proxy-quic-forwarding.js';
export {
  formatProxyQuicPortSharing,
  PROXY_QUIC_PORT_SHARING_FIELD,
  parseProxyQuicPortSharing,
} from './proxy-quic-port-sharing.js';
export {
  appendProxyStatus,
  formatProxyStatus,
  PROXY_STATUS_FIELD,
  type ProxyStatusEntry,
  parseProxyStatus,
} from './proxy-status.js';
