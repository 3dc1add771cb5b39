/** The Capsule Protocol and HTTP Datagrams (RFC 9297), with the connect-udp framing (RFC 9298 §5). */
export {
  capsuleHeaderLength,
  encodeCapsule,
  encodeDatagramCapsule,
  writeCapsule,
  writeCapsuleHeader,
} from './capsules.js';
export {
  checkUdpPayloadLength,
  type DatagramHeader,
  datagramHeaderLength,
  decodeH3Datagram,
  decodeUdpProxyingPayload,
  encodeH3Datagram,
  encodeUdpProxyingPayload,
  type H3Datagram,
  MAX_QUARTER_STREAM_ID,
  MAX_UDP_PAYLOAD_LENGTH,
  quarterStreamIdOf,
  readDatagramHeader,
  readQuarterStreamId,
  SATURATED_ID,
  streamIdOf,
  UDP_PAYLOAD_CONTEXT_ID,
  type UdpProxyingPayload,
  writeDatagramHeader,
} from './datagram.js';
export {
  CapsuleError,
  type CapsuleErrorReason,
  type CapsuleErrorScope,
  H3_DATAGRAM_ERROR,
  isCapsuleError,
  toCapsuleError,
  withCapsuleErrors,
} from './errors.js';
export {
  CapsuleParser,
  type CapsuleParserOptions,
  DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH,
  type OversizeDatagramPolicy,
  parseCapsules,
} from './parser.js';
export {
  type Capsule,
  CapsuleType,
  GREASE_CAPSULE_MAX_N,
  greaseCapsuleType,
  isGreaseCapsuleType,
} from './types.js';
