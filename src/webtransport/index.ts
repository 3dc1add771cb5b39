/** WebTransport over HTTP/3 (draft-ietf-webtrans-http3), server side, on our H3Server. */
export {
  decodeCloseSessionValue,
  encodeCloseSession,
  encodeCloseSessionValue,
  encodeDrainSession,
  type WtCloseSession,
} from './capsules.js';
export { MAX_PENDING_STREAMS, WtConnection, type WtSessionHandle } from './connection.js';
export {
  DRAFT_RESPONSE_HEADER,
  DRAFT02_REQUEST_HEADER,
  MAX_CLOSE_REASON_BYTES,
  WT_BIDI_SIGNAL,
  WT_PROTOCOL,
  WT_UNI_STREAM_TYPE,
  WtCapsuleType,
  WtErrorCode,
  WtSetting,
} from './constants.js';
export { httpCodeToWebTransport, webTransportCodeToHttp } from './error-codes.js';
export { WebTransportError, type WebTransportErrorCode } from './errors.js';
export {
  echoSession,
  pipe,
  serveWebTransport,
  serveWebTransportEcho,
  type WebTransportHandler,
  webTransportSessionOptions,
} from './server.js';
export {
  type WebTransportCloseInfo,
  WebTransportSession,
  type WebTransportSessionOptions,
} from './session.js';
export { encodeWtStreamHeader, isSessionId, SessionIdReader } from './stream-header.js';
export { type SessionIdListener, WtStreamSink } from './stream-sink.js';
export {
  DEFAULT_MAX_STREAM_BUFFER,
  DEFAULT_STREAM_HIGH_WATER_MARK,
  type WebTransportBidiStream,
  WebTransportReceiveStream,
  WebTransportSendStream,
  type WtStreamLimits,
} from './streams.js';
