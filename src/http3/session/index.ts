/** The HTTP/3 session layer (RFC 9114 §3-§8 with QPACK, extended CONNECT and HTTP datagrams). */
export { CapsuleStream } from './capsule-stream.js';
export { DatagramBuffer } from './datagram-buffer.js';
export { GOAWAY_MAX_CLIENT, GOAWAY_MAX_SERVER, GoawayState } from './goaway.js';
export { HeaderBudget } from './header-budget.js';
export { SendQueue } from './send-queue.js';
export { H3Session, type H3SessionStats } from './session.js';
export { DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_INCOMPLETE_HEADER_BYTES } from './settings-policy.js';
export {
  type H3Event,
  type H3Headers,
  type H3Role,
  type H3SessionOptions,
  H3UsageError,
  type H3UsageErrorCode,
  type PeerSettings,
  type TunnelHead,
} from './types.js';
export {
  fieldSectionSize,
  type RequestInfo,
  type ResponseInfo,
  validateRequestHeaders,
  validateResponseHeaders,
  validateTrailers,
} from './validate.js';
