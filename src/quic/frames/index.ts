/** QUIC v1 frames (RFC 9000 §12.4, §19) and DATAGRAM (RFC 9221). */
export { ackLength, parseAck, writeAck } from './ack.js';
export { MAX_STREAM_COUNT } from './codec.js';
export {
  MAX_CONNECTION_ID_LENGTH,
  STATELESS_RESET_TOKEN_LENGTH,
} from './connection-ids.js';
export { PATH_DATA_LENGTH } from './control.js';
export { forEachFrame, parseFrames, readFrame } from './parse.js';
export { streamDataCapacity } from './stream.js';
export * from './types.js';
export {
  countsInFlight,
  encodeFrames,
  frameLength,
  frameTypeOf,
  infoOf,
  isAckEliciting,
  writeFrame,
} from './write.js';
