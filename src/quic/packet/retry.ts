/**
 * Retry packets (RFC 9000 §17.2.5).
 *
 *   1 1 11 UUUU | Version | DCID Len | DCID | SCID Len | SCID | Retry Token (..) | Tag (16)
 *
 * Nothing in a Retry is protected; the Retry Integrity Tag is computed and checked by packet
 * protection (RFC 9001 §5.8) over the pseudo-packet built by {@link retryPseudoPacket}. A Retry has
 * no Length field, so it fills the rest of the datagram.
 */
import { ByteReader, ByteWriter, CodecError } from '../../wire/index.js';
import { FIXED_BIT, longPacketTypeOf } from './first-byte.js';
import { isLongHeader } from './invariant.js';
import { readCidV1, writeCidV1 } from './long-header.js';
import { LongPacketType, QUIC_V1, RETRY_INTEGRITY_TAG_LENGTH, type RetryHeader } from './types.js';

/**
 * Parses a version 1 Retry packet that spans `datagram[offset..]`. Throws MALFORMED for anything
 * but a v1 Retry or for a connection ID over 20 bytes, TRUNCATED when fewer than 16 bytes remain
 * for the tag.
 */
export function parseRetry(datagram: Uint8Array, offset = 0): RetryHeader {
  const r = new ByteReader(datagram, offset);
  const firstByte = r.u8();
  if (!isLongHeader(firstByte) || longPacketTypeOf(firstByte) !== LongPacketType.Retry) {
    throw new CodecError('MALFORMED', 'not a Retry packet');
  }
  const version = r.u32();
  if (version !== QUIC_V1) {
    throw new CodecError('MALFORMED', `version 0x${version.toString(16)} is not QUIC v1`);
  }
  const dcid = readCidV1(r, 'DCID');
  const scid = readCidV1(r, 'SCID');
  if (r.remaining < RETRY_INTEGRITY_TAG_LENGTH) {
    throw new CodecError('TRUNCATED', `Retry: ${r.remaining} bytes left for a 16-byte tag`);
  }
  const token = r.bytes(r.remaining - RETRY_INTEGRITY_TAG_LENGTH);
  const integrityTag = r.rest();
  return {
    kind: 'retry',
    type: LongPacketType.Retry,
    start: offset,
    firstByte,
    fixedBit: (firstByte & FIXED_BIT) !== 0,
    unusedBits: firstByte & 0x0f,
    version,
    dcid,
    scid,
    token,
    integrityTag,
    packetEnd: datagram.length,
  };
}

/** What {@link writeRetry} needs. */
export interface RetryFields {
  /** Destination Connection ID: the client's Source Connection ID. */
  dcid: Uint8Array;
  /** Source Connection ID chosen by the server (MUST differ from the client's original DCID). */
  scid: Uint8Array;
  /** Address validation token (a client discards a Retry whose token is empty). */
  token: Uint8Array;
  /** The 16-byte Retry Integrity Tag (RFC 9001 §5.8); zeros when it is filled in afterwards. */
  integrityTag: Uint8Array;
  /** The 4 Unused bits, "set to an arbitrary value by the server" (default 0). */
  unusedBits?: number;
  /** Fixed Bit (default true). */
  fixedBit?: boolean;
}

/** Writes a version 1 Retry packet; returns the position of its first byte. */
export function writeRetry(w: ByteWriter, f: RetryFields): number {
  if (f.integrityTag.length !== RETRY_INTEGRITY_TAG_LENGTH) {
    throw new CodecError('MALFORMED', `Retry tag of ${f.integrityTag.length} bytes, not 16`);
  }
  const unused = f.unusedBits ?? 0;
  if (!Number.isInteger(unused) || unused < 0 || unused > 0x0f) {
    throw new CodecError('MALFORMED', `Retry unused bits ${unused} are not 0-15`);
  }
  const start = w.position;
  // 1 F 11 UUUU
  w.u8(0x80 | (f.fixedBit === false ? 0 : FIXED_BIT) | (LongPacketType.Retry << 4) | unused);
  w.u32(QUIC_V1);
  writeCidV1(w, f.dcid, 'DCID');
  writeCidV1(w, f.scid, 'SCID');
  w.bytes(f.token);
  w.bytes(f.integrityTag);
  return start;
}

/** A Retry packet as a new byte array. */
export function encodeRetry(f: RetryFields): Uint8Array {
  const w = new ByteWriter(7 + f.dcid.length + f.scid.length + f.token.length + 16);
  writeRetry(w, f);
  return w.toBytes();
}

/**
 * The Retry Pseudo-Packet of RFC 9001 §5.8, over which the integrity tag is computed: the original
 * Destination Connection ID (with its length byte) followed by the Retry packet without its tag.
 * `retryPacket` is a whole Retry packet; its last 16 bytes (tag or placeholder) are left out.
 */
export function retryPseudoPacket(originalDcid: Uint8Array, retryPacket: Uint8Array): Uint8Array {
  if (retryPacket.length < RETRY_INTEGRITY_TAG_LENGTH) {
    throw new CodecError('TRUNCATED', 'Retry packet shorter than its tag');
  }
  const w = new ByteWriter(1 + originalDcid.length + retryPacket.length);
  w.vec8(originalDcid);
  w.bytes(retryPacket.subarray(0, retryPacket.length - RETRY_INTEGRITY_TAG_LENGTH));
  return w.toBytes();
}
