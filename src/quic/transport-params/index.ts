/** QUIC transport parameters (RFC 9000 §18, RFC 9221 §3, RFC 9287 §3). */
export { decodeTransportParameters } from './decode.js';
export {
  type EncodeTransportParametersOptions,
  encodeTransportParameters,
  type GreaseOptions,
} from './encode.js';
export { isGreaseId } from './registry.js';
export * from './types.js';
