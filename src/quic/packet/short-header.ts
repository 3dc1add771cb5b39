/**
 * The 1-RTT short header (RFC 9000 §17.3.1).
 *
 *   0 F S RR K PP | Destination Connection ID (0-20) | Packet Number (1-4) | Protected Payload
 *
 * The DCID length is not on the wire: the receiver knows the length of the connection IDs it
 * issued. A short header has no Length field, so the packet fills the rest of the datagram.
 */
import { ByteReader, type ByteWriter, CodecError } from '../../wire/index.js';
import { FIXED_BIT, KEY_PHASE_BIT, SPIN_BIT } from './first-byte.js';
import { isLongHeader } from './invariant.js';
import {
  checkPacketNumberLength,
  type PacketNumberLength,
  truncatePacketNumber,
  writePacketNumber,
} from './packet-number.js';
import { MAX_CID_LENGTH_V1, type ShortHeader } from './types.js';

/** Throws MALFORMED unless `n` is a version 1 connection ID length (0-20). */
export function checkLocalCidLength(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_CID_LENGTH_V1) {
    throw new CodecError('MALFORMED', `connection ID length ${n} is not 0-20`);
  }
}

/**
 * Parses a short header at `offset`, with a Destination Connection ID of `dcidLength` bytes. The
 * packet spans to the end of the datagram. TRUNCATED when the DCID does not fit, or when no byte is
 * left for a packet number.
 */
export function parseShortHeader(
  datagram: Uint8Array,
  offset: number,
  dcidLength: number,
): ShortHeader {
  checkLocalCidLength(dcidLength);
  const r = new ByteReader(datagram, offset);
  const firstByte = r.u8();
  if (isLongHeader(firstByte)) throw new CodecError('MALFORMED', 'not a short header');
  const dcid = r.bytes(dcidLength);
  const pnOffset = r.offset;
  if (r.done) throw new CodecError('TRUNCATED', 'short header without a packet number');
  return {
    kind: 'short',
    start: offset,
    firstByte,
    fixedBit: (firstByte & FIXED_BIT) !== 0,
    spinBit: (firstByte & SPIN_BIT) !== 0,
    dcid,
    pnOffset,
    packetEnd: datagram.length,
  };
}

/** What {@link writeShortHeader} needs. */
export interface ShortHeaderFields {
  /** Destination Connection ID (0-20 bytes), one the peer issued. */
  dcid: Uint8Array;
  /** Full packet number; its `pnLength` low bytes are written. */
  packetNumber: number;
  /** Packet Number field length. */
  pnLength: PacketNumberLength;
  /** Key Phase bit (default 0). */
  keyPhase?: 0 | 1;
  /** Latency spin bit (default false; RFC 9000 §17.4 says to randomise it when disabled). */
  spinBit?: boolean;
  /** Fixed Bit (default true; only clear it toward a peer that sent grease_quic_bit, RFC 9287). */
  fixedBit?: boolean;
}

/** Where {@link writeShortHeader} put things, as absolute positions in the writer's buffer. */
export interface ShortHeaderLayout {
  /** Position of the first byte. */
  start: number;
  /** Position of the Packet Number field. */
  pnOffset: number;
  /** Packet Number field length. */
  pnLength: PacketNumberLength;
  /** Position just past the Packet Number (where the payload starts). */
  payloadOffset: number;
}

/**
 * Writes a 1-RTT header through the Packet Number field, with the Reserved Bits 0 (RFC 9000
 * §17.3.1: "The value included prior to protection MUST be set to 0").
 */
export function writeShortHeader(w: ByteWriter, f: ShortHeaderFields): ShortHeaderLayout {
  checkPacketNumberLength(f.pnLength);
  checkLocalCidLength(f.dcid.length);
  const truncated = truncatePacketNumber(f.packetNumber, f.pnLength);
  const start = w.position;
  // 0 F S 00 K PP
  w.u8(
    (f.fixedBit === false ? 0 : FIXED_BIT) |
      (f.spinBit ? SPIN_BIT : 0) |
      (f.keyPhase === 1 ? KEY_PHASE_BIT : 0) |
      (f.pnLength - 1),
  );
  w.bytes(f.dcid);
  const pnOffset = w.position;
  w.zeros(f.pnLength);
  writePacketNumber(w.buffer, pnOffset, truncated, f.pnLength);
  return { start, pnOffset, pnLength: f.pnLength, payloadOffset: w.position };
}

/** Bytes {@link writeShortHeader} writes for a DCID length and Packet Number length. */
export function shortHeaderSize(dcidLength: number, pnLength: PacketNumberLength): number {
  return 1 + dcidLength + pnLength;
}
