/**
 * QUIC transport parameters (RFC 9000 §18.2, RFC 9221 §3, RFC 9287 §3): identifiers, the
 * decoded shape, and the defaults that apply when a parameter is absent.
 */

/** Parameter identifiers, named as in the IANA registry. */
export const TransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
  max_datagram_frame_size: 0x20,
  grease_quic_bit: 0x2ab2,
  /** draft-ietf-quic-ack-frequency-14 §3 (provisional codepoint). */
  min_ack_delay: 0xff04de1b,
} as const;

export type TransportParameterName = keyof typeof TransportParameterId;

/** Which endpoint sent a set of parameters (decides which parameters are allowed). */
export type TransportParameterSender = 'client' | 'server';

/** The preferred_address value (RFC 9000 §18.2). An all-zero address and port means "none". */
export interface PreferredAddress {
  /** IPv4 address, 4 bytes in network order. */
  readonly ipv4Address: Uint8Array;
  readonly ipv4Port: number;
  /** IPv6 address, 16 bytes in network order. */
  readonly ipv6Address: Uint8Array;
  readonly ipv6Port: number;
  /** Connection ID with sequence number 1, 1 to 20 bytes. */
  readonly connectionId: Uint8Array;
  /** Stateless reset token of that connection ID, 16 bytes. */
  readonly statelessResetToken: Uint8Array;
}

/** A parameter this stack does not know (including grease), kept for diagnostics. */
export interface UnknownTransportParameter {
  /** Exact identifier (grease identifiers can exceed 2^53). */
  readonly id: bigint;
  /** Value bytes (a view into the decoded buffer). */
  readonly value: Uint8Array;
}

/**
 * Transport parameters as sent on the wire: a field is present exactly when the parameter is.
 * Integer limits are clamped at `Number.MAX_SAFE_INTEGER`, which means "unlimited" and is written
 * back as the largest legal value. Byte fields decoded from a buffer are views into it.
 */
export interface TransportParameters {
  /** 0x00, server only: Destination Connection ID of the client's first Initial. */
  originalDestinationConnectionId?: Uint8Array;
  /** 0x01: idle timeout in milliseconds (0 or absent: disabled). */
  maxIdleTimeout?: number;
  /** 0x02, server only: 16 bytes. */
  statelessResetToken?: Uint8Array;
  /** 0x03: largest UDP payload the endpoint accepts, at least 1200 (default 65527). */
  maxUdpPayloadSize?: number;
  /** 0x04: initial connection flow-control limit in bytes. */
  initialMaxData?: number;
  /** 0x05: initial limit for streams opened by the sender of the parameters. */
  initialMaxStreamDataBidiLocal?: number;
  /** 0x06: initial limit for bidirectional streams opened by the receiver. */
  initialMaxStreamDataBidiRemote?: number;
  /** 0x07: initial limit for unidirectional streams opened by the receiver. */
  initialMaxStreamDataUni?: number;
  /** 0x08: bidirectional streams the receiver may open, at most 2^60. */
  initialMaxStreamsBidi?: number;
  /** 0x09: unidirectional streams the receiver may open, at most 2^60. */
  initialMaxStreamsUni?: number;
  /** 0x0a: ACK Delay exponent, at most 20 (default 3). */
  ackDelayExponent?: number;
  /** 0x0b: maximum ACK delay in milliseconds, below 2^14 (default 25). */
  maxAckDelay?: number;
  /** 0x0c: zero-length parameter; `true` when present. */
  disableActiveMigration?: boolean;
  /** 0x0d, server only. */
  preferredAddress?: PreferredAddress;
  /** 0x0e: connection IDs the endpoint will store, at least 2 (default 2). */
  activeConnectionIdLimit?: number;
  /** 0x0f: Source Connection ID of the sender's first Initial (may be empty). */
  initialSourceConnectionId?: Uint8Array;
  /** 0x10, server only: Source Connection ID of the Retry packet. */
  retrySourceConnectionId?: Uint8Array;
  /** 0x20 (RFC 9221 §3): largest DATAGRAM frame accepted; 0 or absent: no DATAGRAM support. */
  maxDatagramFrameSize?: number;
  /** 0x2ab2 (RFC 9287 §3): zero-length parameter; `true` when present. */
  greaseQuicBit?: boolean;
  /**
   * 0xff04de1b (draft-ietf-quic-ack-frequency-14 §3): the least delay, in MICROseconds, the sender
   * will delay an ACK by; its presence says it accepts ACK_FREQUENCY and IMMEDIATE_ACK frames.
   * At most max_ack_delay (which is in milliseconds). No default: absent means no support.
   */
  minAckDelay?: number;
  /** Parameters unknown to this stack; the encoder writes them too. */
  unknown?: UnknownTransportParameter[];
}

/** What {@link decodeTransportParameters} returns. */
export interface DecodedTransportParameters extends TransportParameters {
  unknown: UnknownTransportParameter[];
  /** Identifiers in the order received (pass as `order` to re-encode identically). */
  order: bigint[];
}

/** Values that apply when a parameter is absent (RFC 9000 §18.2: 0 unless stated otherwise). */
export const TRANSPORT_PARAMETER_DEFAULTS = {
  maxIdleTimeout: 0,
  maxUdpPayloadSize: 65527,
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  disableActiveMigration: false,
  activeConnectionIdLimit: 2,
  maxDatagramFrameSize: 0,
  greaseQuicBit: false,
} as const;

/** Parameters with every defaultable field filled in. */
export interface ResolvedTransportParameters extends TransportParameters {
  maxIdleTimeout: number;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  maxAckDelay: number;
  disableActiveMigration: boolean;
  activeConnectionIdLimit: number;
  maxDatagramFrameSize: number;
  greaseQuicBit: boolean;
}

/** Fills in the RFC defaults for absent parameters. */
export function resolveTransportParameters(p: TransportParameters): ResolvedTransportParameters {
  const out: ResolvedTransportParameters = { ...TRANSPORT_PARAMETER_DEFAULTS };
  for (const [k, v] of Object.entries(p)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
