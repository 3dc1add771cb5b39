/**
 * Plain values the stream manager exchanges with the connection. Control frames use the same
 * field names as the frame codec's frames (`kind`, `streamId`, `maximum`, `errorCode`,
 * `finalSize`, `bidi`), so the connection can pass them to the frame writer unchanged, while this
 * folder stays independent of the codecs.
 */
import type { Role } from './stream-id.js';

/**
 * The transport parameters that set stream limits (RFC 9000 §18.2), named as in the transport
 * parameter codec, so resolved transport parameters can be passed directly.
 */
export interface StreamLimitParameters {
  /** initial_max_data (0x04). */
  readonly initialMaxData: number;
  /** initial_max_stream_data_bidi_local (0x05): bidi streams opened by the sender of these. */
  readonly initialMaxStreamDataBidiLocal: number;
  /** initial_max_stream_data_bidi_remote (0x06): bidi streams opened by the receiver of these. */
  readonly initialMaxStreamDataBidiRemote: number;
  /** initial_max_stream_data_uni (0x07): uni streams opened by the receiver of these. */
  readonly initialMaxStreamDataUni: number;
  /** initial_max_streams_bidi (0x08): bidi streams the receiver of these may open. */
  readonly initialMaxStreamsBidi: number;
  /** initial_max_streams_uni (0x09): uni streams the receiver of these may open. */
  readonly initialMaxStreamsUni: number;
}

/** Options of a {@link StreamManager}. */
export interface StreamManagerOptions {
  /** Our role: decides which stream IDs are local. */
  readonly role: Role;
  /** The limits we advertise (our transport parameters). */
  readonly local: StreamLimitParameters;
  /** The peer's limits, when already known (e.g. remembered for 0-RTT). */
  readonly peer?: StreamLimitParameters;
  /** Largest connection receive window autotuning may reach (default: no growth). */
  readonly maxConnectionWindow?: number;
}

/** A control frame the stream layer wants sent. */
export type StreamControlFrame =
  | { readonly kind: 'MAX_DATA'; readonly maximum: number }
  | { readonly kind: 'DATA_BLOCKED'; readonly maximum: number }
  | { readonly kind: 'MAX_STREAMS'; readonly bidi: boolean; readonly maximum: number }
  | { readonly kind: 'STREAMS_BLOCKED'; readonly bidi: boolean; readonly maximum: number }
  | { readonly kind: 'MAX_STREAM_DATA'; readonly streamId: number; readonly maximum: number }
  | { readonly kind: 'STREAM_DATA_BLOCKED'; readonly streamId: number; readonly maximum: number }
  | {
      readonly kind: 'RESET_STREAM';
      readonly streamId: number;
      readonly errorCode: number;
      readonly finalSize: number;
    }
  | { readonly kind: 'STOP_SENDING'; readonly streamId: number; readonly errorCode: number };

/** Something the application may want to know about. */
export type StreamEvent =
  /** The peer opened a stream (explicitly or implicitly, §3.2). */
  | { readonly type: 'opened'; readonly streamId: number }
  /** Data (or the end of the stream) became readable. */
  | { readonly type: 'readable'; readonly streamId: number }
  /** The peer reset its sending part (RESET_STREAM). */
  | { readonly type: 'reset'; readonly streamId: number; readonly errorCode: number }
  /** The peer asked us to stop sending; our sending part was reset with that code. */
  | { readonly type: 'stop_sending'; readonly streamId: number; readonly errorCode: number }
  /** Stream credit grew: write() accepts bytes again. */
  | { readonly type: 'writable'; readonly streamId: number }
  /** The peer's MAX_STREAMS grew: openStream() may succeed again. */
  | { readonly type: 'streams_available'; readonly bidi: boolean }
  /** Both parts reached a terminal state and the stream was forgotten. */
  | { readonly type: 'closed'; readonly streamId: number };
