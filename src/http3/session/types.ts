/**
 * The public vocabulary of the HTTP/3 session: options, the events it returns from
 * `handleEvent`, and the error thrown when the API is used in a way the protocol forbids.
 */
import type { CapsuleDiscardReason, CapsuleParserOptions } from '../../capsule/parser.js';
import type { Capsule } from '../../capsule/types.js';
import type { EncodePolicy } from '../../qpack/encoder.js';
import type { Field } from '../../qpack/field-lines.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import type { H3UnknownSetting } from '../settings.js';
import type { HeaderBudget } from './header-budget.js';

/** A header or trailer section: `[name, value]` pairs, one character per octet. */
export type H3Headers = Field[];

/** Which end of the connection a session is. */
export type H3Role = 'client' | 'server';

/**
 * An extended CONNECT tunnel whose header section just arrived (server: the request; client: a
 * 2xx response), for {@link H3SessionOptions.capsuleMode}.
 */
export interface TunnelHead {
  readonly role: H3Role;
  readonly streamId: number;
  /** The header section that opened the tunnel (the request's, or the 2xx response's). */
  readonly headers: H3Headers;
  /** Server: the request's `:protocol` (undefined for plain CONNECT). */
  readonly protocol?: string;
}

/** Local settings and behaviour of a session. Every field is optional. */
export interface H3SessionOptions {
  /**
   * Decides, when a tunnel's header section arrives, whether its DATA carries the Capsule
   * Protocol (RFC 9297 §3.2): parser options to parse capsules (`capsule` events from then on,
   * including DATA that arrived in the same batch), or undefined for plain `data` events.
   * Unset: no stream is parsed as capsules.
   */
  readonly capsuleMode?: (head: TunnelHead) => CapsuleParserOptions | undefined;
  /** Our SETTINGS_QPACK_MAX_TABLE_CAPACITY: the dynamic table the peer's encoder may use. Default 4096. */
  readonly qpackMaxTableCapacity?: number;
  /** Our SETTINGS_QPACK_BLOCKED_STREAMS. Default 16. */
  readonly qpackBlockedStreams?: number;
  /**
   * Our SETTINGS_MAX_FIELD_SECTION_SIZE (decoded size: name + value + 32 per field, RFC 9114
   * §4.2.2). Default 65536. Encoded HEADERS frames above four times this are refused unread.
   */
  readonly maxFieldSectionSize?: number;
  /** Table capacity our encoder uses, at most the peer's maximum. Default 4096. */
  readonly qpackEncoderCapacity?: number;
  /** Per-section QPACK encoder policy (insertion, never-index, Huffman). */
  readonly qpackPolicy?: EncodePolicy;
  /** Send SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 9220 §3). Meaningful for servers. Default false. */
  readonly enableConnectProtocol?: boolean;
  /** Send SETTINGS_H3_DATAGRAM=1 (RFC 9297 §2.1.1). Default false. */
  readonly h3Datagram?: boolean;
  /**
   * Treat the peer's draft setting 0xffd277=1 as SETTINGS_H3_DATAGRAM=1, and send it too when
   * `h3Datagram` is set (older quic-go and Chromium). Default false.
   */
  readonly acceptLegacyH3Datagram?: boolean;
  /** Send grease: a reserved setting, a reserved frame and a reserved stream. Default true. */
  readonly grease?: boolean;
  /**
   * Bytes a request stream may queue while its HEADERS waits for the QPACK encoder stream before
   * the stream is reset with H3_EXCESSIVE_LOAD. Default 1 MiB.
   */
  readonly maxBlockedStreamBytes?: number;
  /**
   * Server: bytes of request HEADERS frames received but not complete, summed over the
   * connection's streams, above which the stream that adds more is reset with H3_EXCESSIVE_LOAD
   * (a 431 response when nothing was sent yet). Default 256 KiB: a browser's header sections are
   * a few KiB, and four times the default SETTINGS_MAX_FIELD_SECTION_SIZE fits one stream.
   */
  readonly maxIncompleteHeaderBytes?: number;
  /**
   * Server: milliseconds a request stream may take, from its first byte, to complete its header
   * section before it is reset with H3_REQUEST_INCOMPLETE (RFC 9114 §8.1). Needs the `now` of
   * `handleEvent` and a caller that honours `nextTimeout`. Default 10,000; 0 turns it off.
   */
  readonly headerTimeout?: number;
  /** Server: a byte budget shared with other sessions (one per server), on top of the cap above. */
  readonly headerBudget?: HeaderBudget;
  /**
   * More SETTINGS to send, for extensions (e.g. WebTransport's). Identifiers this layer sends
   * itself, or HTTP/2-only ones, are refused when the SETTINGS frame is encoded.
   */
  readonly extraSettings?: readonly H3UnknownSetting[];
  /**
   * First varints of a peer's bidirectional stream that hand the stream to an extension instead
   * of the request path (WebTransport's WEBTRANSPORT_STREAM signal 0x41). See `extension-stream`.
   */
  readonly extensionBidiSignals?: readonly number[];
  /** Unidirectional stream types handed to an extension (WebTransport's 0x54). */
  readonly extensionUniTypes?: readonly number[];
}

/** The peer's SETTINGS with defaults applied, as this session interprets them. */
export interface PeerSettings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (default 0). */
  readonly qpackMaxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (default 0). */
  readonly qpackBlockedStreams: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (default unlimited: `Number.MAX_SAFE_INTEGER`). */
  readonly maxFieldSectionSize: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL = 1. */
  readonly enableConnectProtocol: boolean;
  /** SETTINGS_H3_DATAGRAM = 1 (or the legacy draft setting, when accepted). */
  readonly h3Datagram: boolean;
  /** Identifiers of settings this layer ignores (grease included), as received. */
  readonly unknownIds: readonly bigint[];
  /** The same settings with their values (extensions read theirs here). */
  readonly unknown: readonly H3UnknownSetting[];
}

/** What a session reports. Byte views are valid until the next `handleEvent` call: copy to keep. */
export type H3Event =
  /** The peer's SETTINGS arrived. */
  | { type: 'settings'; settings: PeerSettings }
  /** Server: a request's header section. `protocol` is the extended CONNECT `:protocol`. */
  | {
      type: 'request';
      streamId: number;
      headers: H3Headers;
      fin: boolean;
      method: string;
      scheme?: string;
      authority?: string;
      path?: string;
      protocol?: string;
      /** The stream's DATA is parsed as capsules (see `H3SessionOptions.capsuleMode`). */
      capsules?: true;
    }
  /** Client: an interim (1xx) response. */
  | { type: 'interim'; streamId: number; headers: H3Headers; status: number }
  /** Client: the final response's header section. */
  | {
      type: 'headers';
      streamId: number;
      headers: H3Headers;
      status: number;
      fin: boolean;
      /** The stream's DATA is parsed as capsules (see `H3SessionOptions.capsuleMode`). */
      capsules?: true;
    }
  /**
   * A peer's stream handed to an extension (`extensionBidiSignals` / `extensionUniTypes`):
   * `signal` is its first varint (the stream type, for a unidirectional one). The rest of the
   * stream follows as `data` events; `reset`, `stop-sending` and `writable` apply as usual, also
   * to the streams opened with `openExtensionStream`.
   */
  | { type: 'extension-stream'; streamId: number; signal: number; bidirectional: boolean }
  /** Content bytes (never empty unless `fin`), or the bare end of the stream. */
  | { type: 'data'; streamId: number; data: Uint8Array; fin: boolean }
  /** A trailer section. */
  | { type: 'trailers'; streamId: number; headers: H3Headers; fin: boolean }
  /** A capsule on a stream in capsule mode (see `enableCapsules`). */
  | { type: 'capsule'; streamId: number; capsule: Capsule }
  /** A capsule skipped unread on a stream in capsule mode (unknown type, oversize DATAGRAM). */
  | {
      type: 'capsule-discarded';
      streamId: number;
      capsuleType: number;
      length: number;
      reason: CapsuleDiscardReason;
    }
  /** An HTTP/3 datagram for a request stream (RFC 9297 §2.1). */
  | { type: 'datagram'; streamId: number; payload: Uint8Array }
  /** The peer reset its sending side of a request stream. */
  | { type: 'reset'; streamId: number; code: number }
  /** The peer asked us to stop sending; the session has reset our side with the same code. */
  | { type: 'stop-sending'; streamId: number; code: number }
  /** We aborted a request stream because of a stream error (RFC 9114 §8). */
  | { type: 'stream-error'; streamId: number; code: number; reason: string }
  /** Client: a request the server will not process (GOAWAY); safe to retry elsewhere. */
  | { type: 'rejected'; streamId: number }
  /** The peer sent GOAWAY; ids above 2^53 - 1 are reported as `Number.MAX_SAFE_INTEGER`. */
  | { type: 'goaway'; id: number }
  /** The transport refused a datagram earlier and has room again (connection-wide). */
  | { type: 'datagrams-writable' }
  /** Data queued on a stream for lack of transport buffer has all been handed over. */
  | { type: 'writable'; streamId: number }
  /** Client: the peer raised its stream limit; `request` may succeed again. */
  | { type: 'streams-available' }
  /** We closed the connection because of a connection error (RFC 9114 §8). */
  | { type: 'connection-error'; code: number; reason: string }
  /** The connection is closed; no events follow. */
  | { type: 'closed'; info: QuicCloseInfo };

/** Stable codes of {@link H3UsageError}. */
export type H3UsageErrorCode =
  /** The session is closed or closing. */
  | 'CLOSED'
  /** A GOAWAY was received (or we are shutting down): no new requests. */
  | 'GOAWAY'
  /** The transport's stream limit is reached; wait for `streams-available`. */
  | 'STREAM_LIMIT'
  /** No such request stream (never opened, or finished). */
  | 'UNKNOWN_STREAM'
  /** The stream's sending side is finished or reset, or the message is complete. */
  | 'STREAM_CLOSED'
  /** The header section would be malformed (RFC 9114 §4.2, §4.3). */
  | 'INVALID_HEADERS'
  /** The header section exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE. */
  | 'HEADERS_TOO_LARGE'
  /** The peer's SETTINGS are needed first (extended CONNECT, datagrams). */
  | 'SETTINGS_PENDING'
  /** The peer did not send SETTINGS_ENABLE_CONNECT_PROTOCOL=1. */
  | 'EXTENDED_CONNECT_DISABLED'
  /** HTTP/3 datagrams were not negotiated by both sides, or the transport has none. */
  | 'DATAGRAMS_UNAVAILABLE'
  /** The method belongs to the other role. */
  | 'WRONG_ROLE'
  /** The call does not fit the message state (e.g. DATA before HEADERS). */
  | 'INVALID_STATE';

/** A misuse of the session API; nothing was sent. */
export class H3UsageError extends Error {
  override readonly name = 'H3UsageError';
  readonly code: H3UsageErrorCode;

  constructor(code: H3UsageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
