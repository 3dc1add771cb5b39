export {
  type CryptoChunk,
  CryptoStream,
  DEFAULT_CRYPTO_BUFFER,
  MIN_CRYPTO_BUFFER,
} from './crypto-stream.js';
export { StreamApiError, StreamApiErrorCode } from './errors.js';
export { ConnectionRecvFlow, ConnectionSendFlow, ReceiveWindow } from './flow-control.js';
export type { StreamOwner } from './owner.js';
export { ReassemblyBuffer } from './recv-buffer.js';
export { RecvStream, RecvStreamState } from './recv-stream.js';
export { SendBuffer } from './send-buffer.js';
export {
  type ResetStreamInfo,
  SendStream,
  SendStreamState,
  type StreamChunk,
} from './send-stream.js';
export { checkMaxStreams, StreamCounts } from './stream-counts.js';
export {
  canReceive,
  canSend,
  isBidi,
  isLocal,
  isUni,
  MAX_STREAMS_LIMIT,
  type Role,
  StreamType,
  streamIdOf,
  streamIndex,
  streamInitiator,
  streamType,
  streamTypeFor,
} from './stream-id.js';
export { StreamManager, type StreamParts } from './stream-manager.js';
export type {
  StreamControlFrame,
  StreamEvent,
  StreamLimitParameters,
  StreamManagerOptions,
} from './types.js';
