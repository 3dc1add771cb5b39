/** ACK generation (RFC 9000 §13.2). */
export {
  type AckedRange,
  type AckFrequencyRequest,
  type AckToSend,
  EcnCodepoint,
  type EcnCountsSnapshot,
  type PacketNumberSpace,
  ReceivedPackets,
  type ReceivedPacketsOptions,
  type ReceiveResult,
} from './received-packets.js';
