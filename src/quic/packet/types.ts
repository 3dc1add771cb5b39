/**
 * Constants and parsed-header shapes for QUIC version 1 packets (RFC 9000 §17).
 *
 * Every offset in these structures is absolute: an index into the datagram that was parsed, so
 * packet protection can work on the datagram in place. Byte strings are zero-copy views of the
 * datagram; copy them (`slice()`) to keep them beyond the datagram's life.
 */

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_V1 = 0x0000_0001;

/** The Version field value that marks a Version Negotiation packet (RFC 8999 §6). */
export const VERSION_NEGOTIATION = 0x0000_0000;

/** RFC 9000 §17.2: in version 1 a connection ID length "MUST NOT exceed 20 bytes". */
export const MAX_CID_LENGTH_V1 = 20;

/** Length of the Retry Integrity Tag (RFC 9000 §17.2.5, RFC 9001 §5.8). */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;

/** Long header packet types, RFC 9000 §17.2 Table 5 (first-byte mask 0x30). */
export const LongPacketType = {
  Initial: 0x00,
  ZeroRtt: 0x01,
  Handshake: 0x02,
  Retry: 0x03,
} as const;
export type LongPacketType = (typeof LongPacketType)[keyof typeof LongPacketType];

/** The long header types that carry Length and Packet Number fields (all but Retry). */
export type ProtectedLongPacketType = Exclude<LongPacketType, typeof LongPacketType.Retry>;

/** Fields shared by every version 1 long header. */
interface LongHeaderCommon {
  /** Offset of the first byte in the datagram. */
  start: number;
  /** The first byte as received. For Initial, 0-RTT and Handshake its low 4 bits are protected. */
  firstByte: number;
  /**
   * The Fixed Bit (0x40). RFC 9000 says packets with it cleared MUST be discarded, but a peer that
   * sent grease_quic_bit (RFC 9287) may clear it, so the parser reports it and the connection,
   * which knows what was negotiated, decides.
   */
  fixedBit: boolean;
  /** The Version field. */
  version: number;
  /** Destination Connection ID (0-20 bytes in version 1). */
  dcid: Uint8Array;
  /** Source Connection ID (0-20 bytes in version 1). */
  scid: Uint8Array;
}

/**
 * An Initial, 0-RTT or Handshake header (RFC 9000 §17.2.2-§17.2.4), parsed up to the Length field.
 * The Reserved and Packet Number Length bits of the first byte and the Packet Number field are
 * left unread: they are under header protection (RFC 9001 §5.4).
 */
export interface LongHeader extends LongHeaderCommon {
  kind: 'long';
  /** Long Packet Type (Initial, 0-RTT or Handshake). */
  type: ProtectedLongPacketType;
  /** Initial token (RFC 9000 §17.2.2); empty for 0-RTT and Handshake. */
  token: Uint8Array;
  /** The Length field: bytes of Packet Number plus protected payload. */
  length: number;
  /** Offset of the Packet Number field (where header protection is applied). */
  pnOffset: number;
  /** Offset just past this packet: `pnOffset + length`. */
  packetEnd: number;
}

/** A Retry packet (RFC 9000 §17.2.5). It has no protected fields and fills the datagram. */
export interface RetryHeader extends LongHeaderCommon {
  kind: 'retry';
  /** Always {@link LongPacketType.Retry}. */
  type: typeof LongPacketType.Retry;
  /** The Unused bits (0x0f); clients "MUST ignore these bits". */
  unusedBits: number;
  /** The Retry Token (may be empty here; a client MUST discard such a Retry, RFC 9000 §17.2.5.2). */
  token: Uint8Array;
  /** The 16-byte Retry Integrity Tag, unverified (RFC 9001 §5.8 is checked by packet protection). */
  integrityTag: Uint8Array;
  /** Offset just past the packet: the end of the datagram. */
  packetEnd: number;
}

/** A Version Negotiation packet (RFC 9000 §17.2.1, RFC 8999 §6). */
export interface VersionNegotiationHeader {
  kind: 'version-negotiation';
  /** Offset of the first byte in the datagram. */
  start: number;
  /** The first byte; only 0x80 has a meaning. */
  firstByte: number;
  /** The 7 Unused bits; "MUST be ignored on receipt". */
  unusedBits: number;
  /** Destination Connection ID (0-255 bytes: not limited by any version). */
  dcid: Uint8Array;
  /** Source Connection ID (0-255 bytes). */
  scid: Uint8Array;
  /** Supported Version list, in packet order (never empty). */
  versions: number[];
  /** Offset just past the packet: the end of the datagram. */
  packetEnd: number;
}

/**
 * A long header with a version other than 1 or 0: only the invariant fields (RFC 8999 §5.1) are
 * known. A server answers it with Version Negotiation; a datagram splitter cannot see past it.
 */
export interface UnsupportedVersionHeader {
  kind: 'unsupported-version';
  /** Offset of the first byte in the datagram. */
  start: number;
  /** The first byte; all bits but 0x80 are version specific. */
  firstByte: number;
  /** The Version field (neither 0 nor 1). */
  version: number;
  /** Destination Connection ID (0-255 bytes). */
  dcid: Uint8Array;
  /** Source Connection ID (0-255 bytes). */
  scid: Uint8Array;
  /** Offset just past the packet, taken as the end of the datagram. */
  packetEnd: number;
}

/**
 * A 1-RTT short header (RFC 9000 §17.3.1). The Reserved, Key Phase and Packet Number Length bits
 * and the Packet Number are under header protection; read them with the `first-byte.ts` helpers
 * once protection is removed.
 */
export interface ShortHeader {
  kind: 'short';
  /** Offset of the first byte in the datagram. */
  start: number;
  /** The first byte as received (low 5 bits protected). */
  firstByte: number;
  /** The Fixed Bit (0x40): reported, not rejected, as in long headers (RFC 9287). */
  fixedBit: boolean;
  /** The latency Spin Bit (0x20), which header protection does not cover (RFC 9001 §5.4). */
  spinBit: boolean;
  /** Destination Connection ID, of the length the receiver chose for its connection IDs. */
  dcid: Uint8Array;
  /** Offset of the Packet Number field. */
  pnOffset: number;
  /** Offset just past the packet: the end of the datagram. */
  packetEnd: number;
}

/** Any packet header a version 1 endpoint can meet. Discriminate on `kind`. */
export type PacketHeader =
  | LongHeader
  | RetryHeader
  | VersionNegotiationHeader
  | UnsupportedVersionHeader
  | ShortHeader;
