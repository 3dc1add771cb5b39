/**
 * The one source list of QUIC frame types (RFC 9000 §12.4 Table 3, RFC 9221 §4,
 * draft-ietf-quic-ack-frequency-14 §4-§5) and the discriminated union of decoded frames.
 * Everything else in this folder is derived from here.
 */

/** Frame type values, named as in the RFC. STREAM covers 0x08..0x0f through {@link StreamFlag}. */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  /** draft-ietf-quic-ack-frequency-14 §5. */
  IMMEDIATE_ACK: 0x1f,
  DATAGRAM: 0x30,
  DATAGRAM_LEN: 0x31,
  /** draft-ietf-quic-ack-frequency-14 §4 (a two-byte varint on the wire). */
  ACK_FREQUENCY: 0xaf,
} as const;

export type FrameTypeName = keyof typeof FrameType;

/** The three low bits of a STREAM frame type (RFC 9000 §19.8): 0b00001 OFF LEN FIN. */
export const StreamFlag = { FIN: 0x01, LEN: 0x02, OFF: 0x04 } as const;

/** Packet types that carry frames, as in the "Pkts" column: Initial, 0-RTT, Handshake, 1-RTT. */
export type PacketType = 'I' | '0' | 'H' | '1';

/** Bit of each packet type in {@link FrameTypeInfo.packets}. */
export const PacketTypeBit: Readonly<Record<PacketType, number>> = { I: 1, '0': 2, H: 4, '1': 8 };

/** The name a decoded frame carries in its `kind` field (one per row of Table 3, plus DATAGRAM). */
export type FrameKind =
  | 'PADDING'
  | 'PING'
  | 'ACK'
  | 'RESET_STREAM'
  | 'STOP_SENDING'
  | 'CRYPTO'
  | 'NEW_TOKEN'
  | 'STREAM'
  | 'MAX_DATA'
  | 'MAX_STREAM_DATA'
  | 'MAX_STREAMS'
  | 'DATA_BLOCKED'
  | 'STREAM_DATA_BLOCKED'
  | 'STREAMS_BLOCKED'
  | 'NEW_CONNECTION_ID'
  | 'RETIRE_CONNECTION_ID'
  | 'PATH_CHALLENGE'
  | 'PATH_RESPONSE'
  | 'CONNECTION_CLOSE'
  | 'HANDSHAKE_DONE'
  | 'DATAGRAM'
  | 'IMMEDIATE_ACK'
  | 'ACK_FREQUENCY';

/** What the RFC tables say about one frame type value. */
export interface FrameTypeInfo {
  /** The frame type value (one value of a range such as STREAM 0x08..0x0f). */
  readonly type: number;
  readonly kind: FrameKind;
  /** Packet types allowed to carry it, as in Table 3 ("IH01"). */
  readonly allowedIn: string;
  /** Bit set over {@link PacketTypeBit}. */
  readonly packets: number;
  /** RFC 9002 §2: every frame except ACK, PADDING and CONNECTION_CLOSE. */
  readonly ackEliciting: boolean;
  /** RFC 9002 §2: a packet is in flight when it is ack-eliciting or contains PADDING. */
  readonly inFlight: boolean;
  /** RFC 9000 §9.1 ("P" in Table 3): may be used to probe a new path. */
  readonly probing: boolean;
  /** RFC 9000 §4 ("F" in Table 3): contents are flow controlled. */
  readonly flowControlled: boolean;
}

// RFC 9000 §12.4 Table 3 ("Pkts" and "Spec" columns) and RFC 9221 §4-6 for DATAGRAM.
// Row: first type, last type, kind, packet types, spec markings (N: not ack-eliciting,
// C: not counted in flight, P: probing, F: flow controlled).
// CONNECTION_CLOSE is split: only 0x1c ("ih") may appear in Initial and Handshake packets.
const TABLE: ReadonlyArray<readonly [number, number, FrameKind, string, string]> = [
  [0x00, 0x00, 'PADDING', 'IH01', 'NP'],
  [0x01, 0x01, 'PING', 'IH01', ''],
  [0x02, 0x03, 'ACK', 'IH1', 'NC'],
  [0x04, 0x04, 'RESET_STREAM', '01', ''],
  [0x05, 0x05, 'STOP_SENDING', '01', ''],
  [0x06, 0x06, 'CRYPTO', 'IH1', ''],
  [0x07, 0x07, 'NEW_TOKEN', '1', ''],
  [0x08, 0x0f, 'STREAM', '01', 'F'],
  [0x10, 0x10, 'MAX_DATA', '01', ''],
  [0x11, 0x11, 'MAX_STREAM_DATA', '01', ''],
  [0x12, 0x13, 'MAX_STREAMS', '01', ''],
  [0x14, 0x14, 'DATA_BLOCKED', '01', ''],
  [0x15, 0x15, 'STREAM_DATA_BLOCKED', '01', ''],
  [0x16, 0x17, 'STREAMS_BLOCKED', '01', ''],
  [0x18, 0x18, 'NEW_CONNECTION_ID', '01', 'P'],
  [0x19, 0x19, 'RETIRE_CONNECTION_ID', '01', ''],
  [0x1a, 0x1a, 'PATH_CHALLENGE', '01', 'P'],
  [0x1b, 0x1b, 'PATH_RESPONSE', '1', 'P'],
  [0x1c, 0x1c, 'CONNECTION_CLOSE', 'IH01', 'N'],
  [0x1d, 0x1d, 'CONNECTION_CLOSE', '01', 'N'],
  [0x1e, 0x1e, 'HANDSHAKE_DONE', '1', ''],
  // RFC 9221 §6: "MUST be protected either by 0-RTT or 1-RTT keys"; §5.2: ack-eliciting;
  // §5.4: congestion controlled.
  [0x30, 0x31, 'DATAGRAM', '01', ''],
  // draft-ietf-quic-ack-frequency-14 §3: "ACK_FREQUENCY and IMMEDIATE_ACK frames cannot be sent in
  // 0-RTT packets"; §4, §5: both ack-eliciting and congestion controlled. The draft names no
  // other packet type restriction. We accept IMMEDIATE_ACK in any packet but 0-RTT (it only
  // hurries an ACK), ACK_FREQUENCY in authenticated ones (Handshake, 1-RTT): one injected into
  // an Initial would change how we acknowledge for the whole connection. We send both in 1-RTT
  // packets only (drafts/ack-frequency.md).
  [0x1f, 0x1f, 'IMMEDIATE_ACK', 'IH1', ''],
  [0xaf, 0xaf, 'ACK_FREQUENCY', 'H1', ''],
];

const INFO: (FrameTypeInfo | undefined)[] = new Array(0xb0);
for (const [first, last, kind, allowedIn, spec] of TABLE) {
  let packets = 0;
  for (const p of allowedIn) packets |= PacketTypeBit[p as PacketType];
  const ackEliciting = !spec.includes('N');
  for (let type = first; type <= last; type++) {
    INFO[type] = Object.freeze({
      type,
      kind,
      allowedIn,
      packets,
      ackEliciting,
      inFlight: ackEliciting || kind === 'PADDING',
      probing: spec.includes('P'),
      flowControlled: spec.includes('F'),
    });
  }
}

/** Table facts for a frame type value, or `undefined` for a type this stack does not know. */
export function frameTypeInfo(type: number): FrameTypeInfo | undefined {
  return type < INFO.length ? INFO[type] : undefined;
}

/** All known frame type values, ascending. */
export const KNOWN_FRAME_TYPES: readonly number[] = INFO.flatMap((info) =>
  info ? [info.type] : [],
);

// ---------------------------------------------------------------------------------------------
// Decoded frames. Byte fields are zero-copy views into the packet payload: slice() to keep them.

/** One run of consecutive PADDING bytes (RFC 9000 §19.1), collapsed into one frame. */
export interface PaddingFrame {
  readonly kind: 'PADDING';
  /** Number of 0x00 bytes in the run (at least 1). */
  readonly length: number;
}

/** RFC 9000 §19.2. */
export interface PingFrame {
  readonly kind: 'PING';
}

/** An acknowledged range of packet numbers, both ends inclusive. */
export type AckRange = readonly [smallest: number, largest: number];

/** ECN counts of an ACK frame of type 0x03 (RFC 9000 §19.3.2). */
export interface EcnCounts {
  /** Packets received with ECT(0). */
  readonly ect0: number;
  /** Packets received with ECT(1). */
  readonly ect1: number;
  /** Packets received with ECN-CE. */
  readonly ce: number;
}

/** RFC 9000 §19.3 (types 0x02 and 0x03). */
export interface AckFrame {
  readonly kind: 'ACK';
  /**
   * Acknowledged ranges in descending order, as on the wire: `ranges[0][1]` is the Largest
   * Acknowledged. Never empty; ranges never touch or overlap.
   */
  readonly ranges: readonly AckRange[];
  /**
   * The raw ACK Delay field (multiply by 2^ack_delay_exponent for microseconds). A clamped read:
   * anything above 2^53 - 1 reads as `Number.MAX_SAFE_INTEGER`.
   */
  readonly ackDelay: number;
  /** ECN counts; present exactly when the frame type is 0x03. */
  readonly ecn: EcnCounts | null;
}

/** RFC 9000 §19.4. */
export interface ResetStreamFrame {
  readonly kind: 'RESET_STREAM';
  readonly streamId: number;
  /** Application Protocol Error Code (clamped read: codes above 2^53 - 1 are unknown anyway). */
  readonly errorCode: number;
  /** Final size of the stream in bytes. */
  readonly finalSize: number;
}

/** RFC 9000 §19.5. */
export interface StopSendingFrame {
  readonly kind: 'STOP_SENDING';
  readonly streamId: number;
  /** Application Protocol Error Code (clamped read). */
  readonly errorCode: number;
}

/** RFC 9000 §19.6. */
export interface CryptoFrame {
  readonly kind: 'CRYPTO';
  /** Offset of `data` in the crypto stream of this encryption level. */
  readonly offset: number;
  readonly data: Uint8Array;
}

/** RFC 9000 §19.7. */
export interface NewTokenFrame {
  readonly kind: 'NEW_TOKEN';
  /** The token, never empty. */
  readonly token: Uint8Array;
}

/** RFC 9000 §19.8 (types 0x08..0x0f). */
export interface StreamFrame {
  readonly kind: 'STREAM';
  readonly streamId: number;
  /** Offset of `data` in the stream (OFF bit set on the wire when non-zero). */
  readonly offset: number;
  readonly data: Uint8Array;
  /** FIN bit: `offset + data.length` is the final size. */
  readonly fin: boolean;
  /**
   * LEN bit clear: the data runs to the end of the packet, so the frame must be the last one.
   * Decoders always set it; writers default to `false` (Length field present).
   */
  readonly implicitLength?: boolean;
}

/** RFC 9000 §19.9. */
export interface MaxDataFrame {
  readonly kind: 'MAX_DATA';
  /** Connection-level limit in bytes (clamped: `Number.MAX_SAFE_INTEGER` means unlimited). */
  readonly maximum: number;
}

/** RFC 9000 §19.10. */
export interface MaxStreamDataFrame {
  readonly kind: 'MAX_STREAM_DATA';
  readonly streamId: number;
  /** Stream-level limit in bytes (clamped). */
  readonly maximum: number;
}

/** RFC 9000 §19.11 (0x12 bidirectional, 0x13 unidirectional). */
export interface MaxStreamsFrame {
  readonly kind: 'MAX_STREAMS';
  readonly bidi: boolean;
  /** Cumulative stream count, at most 2^60 (clamped at `Number.MAX_SAFE_INTEGER`). */
  readonly maximum: number;
}

/** RFC 9000 §19.12. */
export interface DataBlockedFrame {
  readonly kind: 'DATA_BLOCKED';
  /** Connection-level limit at which the sender is blocked (clamped). */
  readonly maximum: number;
}

/** RFC 9000 §19.13. */
export interface StreamDataBlockedFrame {
  readonly kind: 'STREAM_DATA_BLOCKED';
  readonly streamId: number;
  /** Stream-level limit at which the sender is blocked (clamped). */
  readonly maximum: number;
}

/** RFC 9000 §19.14 (0x16 bidirectional, 0x17 unidirectional). */
export interface StreamsBlockedFrame {
  readonly kind: 'STREAMS_BLOCKED';
  readonly bidi: boolean;
  /** Stream limit at the time of sending, at most 2^60 (clamped). */
  readonly maximum: number;
}

/** RFC 9000 §19.15. */
export interface NewConnectionIdFrame {
  readonly kind: 'NEW_CONNECTION_ID';
  readonly sequenceNumber: number;
  /** Never above `sequenceNumber`. */
  readonly retirePriorTo: number;
  /** 1 to 20 bytes. */
  readonly connectionId: Uint8Array;
  /** 16 bytes. */
  readonly statelessResetToken: Uint8Array;
}

/** RFC 9000 §19.16. */
export interface RetireConnectionIdFrame {
  readonly kind: 'RETIRE_CONNECTION_ID';
  readonly sequenceNumber: number;
}

/** RFC 9000 §19.17. */
export interface PathChallengeFrame {
  readonly kind: 'PATH_CHALLENGE';
  /** 8 bytes. */
  readonly data: Uint8Array;
}

/** RFC 9000 §19.18. */
export interface PathResponseFrame {
  readonly kind: 'PATH_RESPONSE';
  /** 8 bytes. */
  readonly data: Uint8Array;
}

/** RFC 9000 §19.19 (0x1c transport, 0x1d application). */
export interface ConnectionCloseFrame {
  readonly kind: 'CONNECTION_CLOSE';
  /** Type 0x1d: an application error code and no Frame Type field. */
  readonly application: boolean;
  /** Transport or application error code (clamped read). */
  readonly errorCode: number;
  /** Frame type that triggered the error (0 when unknown, and always 0 for 0x1d; clamped). */
  readonly frameType: number;
  /** Reason phrase bytes (should be UTF-8, not checked). */
  readonly reason: Uint8Array;
}

/** RFC 9000 §19.20. */
export interface HandshakeDoneFrame {
  readonly kind: 'HANDSHAKE_DONE';
}

/** RFC 9221 §4 (0x30 without Length, 0x31 with Length). */
export interface DatagramFrame {
  readonly kind: 'DATAGRAM';
  /** The datagram, possibly empty. */
  readonly data: Uint8Array;
  /** Type 0x30: the data runs to the end of the packet (the frame must be the last one). */
  readonly implicitLength?: boolean;
}

/** draft-ietf-quic-ack-frequency-14 §5: asks the peer to acknowledge at once. No fields. */
export interface ImmediateAckFrame {
  readonly kind: 'IMMEDIATE_ACK';
}

/**
 * draft-ietf-quic-ack-frequency-14 §4. Every field is a varint; values above 2^53 - 1 read as
 * `Number.MAX_SAFE_INTEGER` (no sender needs more, and comparisons stay right).
 */
export interface AckFrequencyFrame {
  readonly kind: 'ACK_FREQUENCY';
  /** Increases with each frame sent; the receiver ignores any not above the largest seen. */
  readonly sequenceNumber: number;
  /** Ack-eliciting packets the receiver may take without acknowledging (RFC 9000's is 1). */
  readonly ackElicitingThreshold: number;
  /** The max_ack_delay the receiver is asked to use, in MICROseconds. */
  readonly requestedMaxAckDelay: number;
  /** Reordering that triggers an immediate ACK (§6.2); 0: never, 1: RFC 9000's rule. */
  readonly reorderingThreshold: number;
}

export type Frame =
  | PaddingFrame
  | PingFrame
  | AckFrame
  | ResetStreamFrame
  | StopSendingFrame
  | CryptoFrame
  | NewTokenFrame
  | StreamFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame
  | NewConnectionIdFrame
  | RetireConnectionIdFrame
  | PathChallengeFrame
  | PathResponseFrame
  | ConnectionCloseFrame
  | HandshakeDoneFrame
  | DatagramFrame
  | ImmediateAckFrame
  | AckFrequencyFrame;
