/**
 * Version 1 long headers with a Length field: Initial, 0-RTT and Handshake (RFC 9000 §17.2,
 * §17.2.2-§17.2.4).
 *
 *   Initial:          1 1 00 RR PP | Version | DCID Len | DCID | SCID Len | SCID |
 *                     Token Length (i) | Token | Length (i) | Packet Number (1-4) | Payload
 *   0-RTT, Handshake: 1 1 01/10 RR PP | Version | DCID Len | DCID | SCID Len | SCID |
 *                     Length (i) | Packet Number (1-4) | Payload
 *
 * Parsing stops before the Packet Number: it and the low first-byte bits are under header
 * protection (RFC 9001 §5.4), which needs `pnOffset`. Writing emits the packet number too, and lets
 * the Length field be reserved at a fixed size and filled in once the payload size is known (the
 * Length is part of the AEAD associated data, so it must be final before sealing).
 */
import {
  ByteReader,
  type ByteWriter,
  CodecError,
  encodeVarint,
  varintLength,
} from '../../wire/index.js';
import { FIXED_BIT, longPacketTypeOf } from './first-byte.js';
import { isLongHeader } from './invariant.js';
import {
  checkPacketNumberLength,
  type PacketNumberLength,
  truncatePacketNumber,
  writePacketNumber,
} from './packet-number.js';
import {
  type LongHeader,
  LongPacketType,
  MAX_CID_LENGTH_V1,
  type ProtectedLongPacketType,
  QUIC_V1,
} from './types.js';

const EMPTY = new Uint8Array(0);

/**
 * Reads a version 1 connection ID (length byte, then bytes). RFC 9000 §17.2: "Endpoints that
 * receive a version 1 long header with a value larger than 20 MUST drop the packet" (MALFORMED).
 */
export function readCidV1(r: ByteReader, what: string): Uint8Array {
  const len = r.u8();
  if (len > MAX_CID_LENGTH_V1) {
    throw new CodecError('MALFORMED', `${what} length ${len} exceeds 20 in QUIC v1`);
  }
  return r.bytes(len);
}

/** Writes a version 1 connection ID, refusing more than 20 bytes (RFC 9000 §17.2). */
export function writeCidV1(w: ByteWriter, cid: Uint8Array, what: string): void {
  if (cid.length > MAX_CID_LENGTH_V1) {
    throw new CodecError('MALFORMED', `${what} of ${cid.length} bytes exceeds 20 in QUIC v1`);
  }
  w.vec8(cid);
}

/**
 * Parses an Initial, 0-RTT or Handshake header at `offset` of `datagram`, up to the Packet Number.
 * Throws MALFORMED for a short header, another version, a Retry, or a connection ID over 20 bytes,
 * and TRUNCATED when the header or the `Length` bytes it announces run past the datagram.
 */
export function parseLongHeader(datagram: Uint8Array, offset = 0): LongHeader {
  const r = new ByteReader(datagram, offset);
  const firstByte = r.u8();
  if (!isLongHeader(firstByte)) throw new CodecError('MALFORMED', 'not a long header');
  const version = r.u32();
  if (version !== QUIC_V1) {
    throw new CodecError('MALFORMED', `version 0x${version.toString(16)} is not QUIC v1`);
  }
  const type = longPacketTypeOf(firstByte);
  if (type === LongPacketType.Retry) {
    throw new CodecError('MALFORMED', 'a Retry packet has no Length field');
  }
  const dcid = readCidV1(r, 'DCID');
  const scid = readCidV1(r, 'SCID');
  const token = type === LongPacketType.Initial ? r.vecVarint() : EMPTY;
  const length = r.varint();
  const pnOffset = r.offset;
  if (length > r.remaining) {
    throw new CodecError(
      'TRUNCATED',
      `Length ${length} runs past the datagram (${r.remaining} bytes left at ${pnOffset})`,
    );
  }
  return {
    kind: 'long',
    type,
    start: offset,
    firstByte,
    fixedBit: (firstByte & FIXED_BIT) !== 0,
    version,
    dcid,
    scid,
    token,
    length,
    pnOffset,
    packetEnd: pnOffset + length,
  };
}

/** What {@link writeLongHeader} needs. */
export interface LongHeaderFields {
  /** Initial, 0-RTT or Handshake. */
  type: ProtectedLongPacketType;
  /** Destination Connection ID (0-20 bytes). */
  dcid: Uint8Array;
  /** Source Connection ID (0-20 bytes). */
  scid: Uint8Array;
  /** Initial only: the token from Retry or NEW_TOKEN (default empty). */
  token?: Uint8Array;
  /** Full packet number; its `pnLength` low bytes are written. */
  packetNumber: number;
  /** Packet Number field length (see `packetNumberLength()`). */
  pnLength: PacketNumberLength;
  /** Fixed Bit (default true; only clear it toward a peer that sent grease_quic_bit, RFC 9287). */
  fixedBit?: boolean;
  /** The Length value, when already known; otherwise a placeholder is written for later patching. */
  length?: number;
  /** Bytes of the Length varint (default 2, or 4 when a known `length` needs it). */
  lengthFieldSize?: 1 | 2 | 4 | 8;
}

/** Where {@link writeLongHeader} put things, as absolute positions in the writer's buffer. */
export interface LongHeaderLayout {
  /** Position of the first byte. */
  start: number;
  /** Position of the Length varint. */
  lengthOffset: number;
  /** Size of the Length varint. */
  lengthFieldSize: 1 | 2 | 4 | 8;
  /** Position of the Packet Number field. */
  pnOffset: number;
  /** Packet Number field length. */
  pnLength: PacketNumberLength;
  /** Position just past the Packet Number (where the payload starts). */
  payloadOffset: number;
}

/**
 * Writes a version 1 long header through the Packet Number field, with the Reserved Bits 0
 * (RFC 9000 §17.2: "The value included prior to protection MUST be set to 0").
 */
export function writeLongHeader(w: ByteWriter, f: LongHeaderFields): LongHeaderLayout {
  if (
    f.type !== LongPacketType.Initial &&
    f.type !== LongPacketType.ZeroRtt &&
    f.type !== LongPacketType.Handshake
  ) {
    throw new CodecError('MALFORMED', `long packet type ${f.type} has no Length field`);
  }
  checkPacketNumberLength(f.pnLength);
  const token = f.token ?? EMPTY;
  if (token.length > 0 && f.type !== LongPacketType.Initial) {
    throw new CodecError('MALFORMED', 'only Initial packets carry a token');
  }
  const lengthFieldSize = lengthFieldSizeOf(f);
  const truncated = truncatePacketNumber(f.packetNumber, f.pnLength);
  if (f.length !== undefined) checkLength(f.length, f.pnLength);

  const start = w.position;
  // 1 F TT 00 PP: form, fixed, type, reserved (0), packet number length - 1.
  w.u8(0x80 | (f.fixedBit === false ? 0 : FIXED_BIT) | (f.type << 4) | (f.pnLength - 1));
  w.u32(QUIC_V1);
  writeCidV1(w, f.dcid, 'DCID');
  writeCidV1(w, f.scid, 'SCID');
  if (f.type === LongPacketType.Initial) w.vecVarint(token);
  const lengthOffset = w.position;
  w.varint(f.length ?? 0, lengthFieldSize);
  const pnOffset = w.position;
  w.zeros(f.pnLength);
  writePacketNumber(w.buffer, pnOffset, truncated, f.pnLength);
  return {
    start,
    lengthOffset,
    lengthFieldSize,
    pnOffset,
    pnLength: f.pnLength,
    payloadOffset: w.position,
  };
}

/**
 * Sets the Length field to cover everything written after the Packet Number offset plus `trailing`
 * bytes not written yet (the AEAD tag, typically 16). Returns the Length value.
 */
export function finishLongHeader(w: ByteWriter, layout: LongHeaderLayout, trailing = 0): number {
  const length = w.position + trailing - layout.pnOffset;
  patchLongHeaderLength(w.buffer, layout, length);
  return length;
}

/** Writes `length` into the reserved Length field of a header laid out in `buf`. */
export function patchLongHeaderLength(
  buf: Uint8Array,
  layout: LongHeaderLayout,
  length: number,
): void {
  checkLength(length, layout.pnLength);
  encodeVarint(buf, layout.lengthOffset, length, layout.lengthFieldSize);
}

/** Bytes {@link writeLongHeader} will write for these fields (header through Packet Number). */
export function longHeaderSize(
  f: Pick<
    LongHeaderFields,
    'type' | 'dcid' | 'scid' | 'token' | 'pnLength' | 'length' | 'lengthFieldSize'
  >,
): number {
  const tokenLen = f.token?.length ?? 0;
  const tokenField = f.type === LongPacketType.Initial ? varintLength(tokenLen) + tokenLen : 0;
  return 7 + f.dcid.length + f.scid.length + tokenField + lengthFieldSizeOf(f) + f.pnLength;
}

function lengthFieldSizeOf(f: Pick<LongHeaderFields, 'length' | 'lengthFieldSize'>): 1 | 2 | 4 | 8 {
  // 2 bytes (up to 16383) covers any datagram a path is likely to carry; 4 beyond that.
  return f.lengthFieldSize ?? (f.length !== undefined && f.length >= 0x4000 ? 4 : 2);
}

function checkLength(length: number, pnLength: number): void {
  if (!Number.isSafeInteger(length) || length < pnLength) {
    throw new CodecError(
      'MALFORMED',
      `Length ${length} cannot hold a ${pnLength}-byte packet number`,
    );
  }
}
