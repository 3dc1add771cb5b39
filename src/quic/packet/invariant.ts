/**
 * The version-independent view of a QUIC packet (RFC 8999 §5): what a forwarding proxy or a load
 * balancer may rely on for every QUIC version, present and future. Nothing here interprets a
 * version-specific bit: not the Fixed Bit, not a packet type, not a length limit of version 1.
 *
 * RFC 8999 §5 describes only the first packet of a datagram; the other packets are version
 * specific, so these functions parse from offset 0 and return the remainder as one view.
 */
import { ByteReader, CodecError } from '../../wire/index.js';

/** RFC 8999 §5: "the high bit of the first byte" selects the long header. */
export const HEADER_FORM_BIT = 0x80;

/** Long header, invariant part (RFC 8999 §5.1). */
export interface InvariantLongHeader {
  form: 'long';
  /** The first byte; every bit but 0x80 is version specific. */
  firstByte: number;
  /** The 32-bit Version field. 0 is Version Negotiation (RFC 8999 §6). */
  version: number;
  /** Destination Connection ID, 0-255 bytes. */
  dcid: Uint8Array;
  /** Source Connection ID, 0-255 bytes. */
  scid: Uint8Array;
  /** Offset of the version-specific data that follows the Source Connection ID. */
  restOffset: number;
  /** Version-specific data, to the end of the datagram (a view). */
  rest: Uint8Array;
}

/** Short header, invariant part (RFC 8999 §5.2). */
export interface InvariantShortHeader {
  form: 'short';
  /** The first byte; every bit but 0x80 is version specific. */
  firstByte: number;
  /** Destination Connection ID, of the length the receiver knows it chose. */
  dcid: Uint8Array;
  /** Offset of the version-specific data that follows the Destination Connection ID. */
  restOffset: number;
  /** Version-specific data, to the end of the datagram (a view). */
  rest: Uint8Array;
}

export type InvariantHeader = InvariantLongHeader | InvariantShortHeader;

/** True when the first byte announces a long header (RFC 8999 §5). */
export function isLongHeader(firstByte: number): boolean {
  return (firstByte & HEADER_FORM_BIT) !== 0;
}

/** Parses the invariant long header at the start of `datagram`. TRUNCATED if it is cut short. */
export function parseInvariantLongHeader(datagram: Uint8Array): InvariantLongHeader {
  const r = new ByteReader(datagram);
  const firstByte = r.u8();
  if (!isLongHeader(firstByte)) {
    throw new CodecError('MALFORMED', 'not a long header (0x80 clear)');
  }
  const version = r.u32();
  // RFC 8999 §5.1: each connection ID length is an 8-bit integer, so 0-255 bytes.
  const dcid = r.vec8();
  const scid = r.vec8();
  const restOffset = r.offset;
  return { form: 'long', firstByte, version, dcid, scid, restOffset, rest: r.rest() };
}

/**
 * Parses the invariant short header at the start of `datagram`, whose Destination Connection ID
 * length is not on the wire (RFC 8999 §5.2) and must come from the caller.
 */
export function parseInvariantShortHeader(
  datagram: Uint8Array,
  dcidLength: number,
): InvariantShortHeader {
  checkCidLength(dcidLength);
  const r = new ByteReader(datagram);
  const firstByte = r.u8();
  if (isLongHeader(firstByte)) {
    throw new CodecError('MALFORMED', 'not a short header (0x80 set)');
  }
  const dcid = r.bytes(dcidLength);
  const restOffset = r.offset;
  return { form: 'short', firstByte, dcid, restOffset, rest: r.rest() };
}

/** Either form, chosen by the header form bit; `shortDcidLength` is used for short headers. */
export function parseInvariantHeader(
  datagram: Uint8Array,
  shortDcidLength: number,
): InvariantHeader {
  if (datagram.length === 0) throw new CodecError('TRUNCATED', 'empty datagram');
  return isLongHeader(datagram[0])
    ? parseInvariantLongHeader(datagram)
    : parseInvariantShortHeader(datagram, shortDcidLength);
}

/**
 * True for a Version Negotiation packet: a long header whose Version is 0 (RFC 8999 §6). Takes
 * raw bytes (false when fewer than 5) or a parsed invariant header.
 */
export function isVersionNegotiation(packet: Uint8Array | InvariantHeader): boolean {
  if (!(packet instanceof Uint8Array)) return packet.form === 'long' && packet.version === 0;
  return (
    packet.length >= 5 &&
    isLongHeader(packet[0]) &&
    packet[1] === 0 &&
    packet[2] === 0 &&
    packet[3] === 0 &&
    packet[4] === 0
  );
}

/**
 * True for versions of the form 0x?a?a?a?a, reserved to exercise version negotiation
 * (RFC 9000 §15); no endpoint supports them.
 */
export function isReservedVersion(version: number): boolean {
  return (version & 0x0f0f_0f0f) === 0x0a0a_0a0a;
}

function checkCidLength(n: number): void {
  // RFC 8999 §5.2: the short header DCID length "is not constrained by this specification".
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CodecError('MALFORMED', `connection ID length ${n} is not a byte count`);
  }
}
