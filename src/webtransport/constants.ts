/**
 * Code points of WebTransport over HTTP/3 (draft-ietf-webtrans-http3). The drafts changed their
 * SETTINGS over time; which ones a browser needs is an interop fact, recorded here:
 *
 * Chromium 156 (found by experiment, see test/interop/ours-webtransport-chromium.test.ts) sends
 * SETTINGS_ENABLE_WEBTRANSPORT (0x2b603742) = 1 and `sec-webtransport-http3-draft02: 1` in its
 * extended CONNECT, and completes the handshake only when the server's SETTINGS carry
 * SETTINGS_ENABLE_WEBTRANSPORT = 1, SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and SETTINGS_H3_DATAGRAM
 * (0x33) = 1. The draft-07 and draft-09+ session limits alone do not satisfy it. Without the QUIC
 * transport parameter max_datagram_frame_size the session opens but datagrams never arrive.
 */
import { WEBTRANSPORT_BIDI_SIGNAL, WEBTRANSPORT_UNI_STREAM_TYPE } from '../http3/stream-types.js';

/** WebTransport SETTINGS identifiers, by the draft that defined them. */
export const WtSetting = {
  /** draft-02 SETTINGS_ENABLE_WEBTRANSPORT: 1 enables WebTransport (what Chromium 156 needs). */
  ENABLE_WEBTRANSPORT: 0x2b603742,
  /** draft-07/-08 SETTINGS_WEBTRANSPORT_MAX_SESSIONS. */
  MAX_SESSIONS_DRAFT07: 0xc671706a,
  /** draft-09 and later SETTINGS_WT_MAX_SESSIONS. */
  WT_MAX_SESSIONS: 0x14e9cd29,
} as const;

/** draft §4.2: first varint of a bidirectional WebTransport stream, then the Session ID. */
export const WT_BIDI_SIGNAL = WEBTRANSPORT_BIDI_SIGNAL;

/** draft §4.1: unidirectional stream type of a WebTransport stream, then the Session ID. */
export const WT_UNI_STREAM_TYPE = WEBTRANSPORT_UNI_STREAM_TYPE;

/** Capsules on the CONNECT stream (draft §5). */
export const WtCapsuleType = {
  /** CLOSE_WEBTRANSPORT_SESSION { Application Error Code (32), Application Error Message (..) }. */
  CLOSE_WEBTRANSPORT_SESSION: 0x2843,
  /** DRAIN_WEBTRANSPORT_SESSION, empty: the peer asks for a graceful end. */
  DRAIN_WEBTRANSPORT_SESSION: 0x78ae,
} as const;

/** draft §5: "the message MUST NOT exceed 1024 bytes" (UTF-8). */
export const MAX_CLOSE_REASON_BYTES = 1024;

/** HTTP/3 error codes WebTransport defines (draft §9.5). */
export const WtErrorCode = {
  /** A stream for a session that could not be buffered while waiting for it. */
  WT_BUFFERED_STREAM_REJECTED: 0x3994bd84,
  /** The stream's session is gone. */
  WT_SESSION_GONE: 0x170d7b68,
  /** First code of the application error range (application code 0). */
  WT_APPLICATION_ERROR_FIRST: 0x52e4a40fa8db,
  /** Last code of the application error range (application code 0xffffffff). */
  WT_APPLICATION_ERROR_LAST: 0x52e5ac983162,
} as const;

/** Request header of the draft-02 handshake that Chromium sends (value "1"). */
export const DRAFT02_REQUEST_HEADER = 'sec-webtransport-http3-draft02';
/** Response header of the draft-02 handshake (value "draft02"). */
export const DRAFT_RESPONSE_HEADER = 'sec-webtransport-http3-draft';
/** The extended CONNECT `:protocol` (draft §3.2). */
export const WT_PROTOCOL = 'webtransport';
