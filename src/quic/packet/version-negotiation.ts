/**
 * Version Negotiation packets (RFC 9000 §17.2.1, RFC 8999 §6).
 *
 *   1 UUUUUUU | Version = 0 (32) | DCID Len | DCID | SCID Len | SCID | Supported Version (32) ...
 *
 * Version independent: connection IDs may be up to 255 bytes, and nothing in the first byte but the
 * form bit has a meaning. No Length field: the packet fills the datagram.
 */
import { ByteReader, ByteWriter, CodecError } from '../../wire/index.js';
import { isLongHeader } from './invariant.js';
import { VERSION_NEGOTIATION, type VersionNegotiationHeader } from './types.js';

/**
 * Parses a Version Negotiation packet spanning `datagram[offset..]`. RFC 8999 §6: "An endpoint MUST
 * ignore a packet that contains no Supported Version fields or contains a truncated Supported
 * Version value": the first throws MALFORMED, the second TRUNCATED.
 */
export function parseVersionNegotiation(
  datagram: Uint8Array,
  offset = 0,
): VersionNegotiationHeader {
  const r = new ByteReader(datagram, offset);
  const firstByte = r.u8();
  if (!isLongHeader(firstByte)) throw new CodecError('MALFORMED', 'not a long header');
  if (r.u32() !== VERSION_NEGOTIATION) {
    throw new CodecError('MALFORMED', 'Version is not 0: not Version Negotiation');
  }
  const dcid = r.vec8();
  const scid = r.vec8();
  if (r.remaining === 0) {
    throw new CodecError('MALFORMED', 'Version Negotiation without Supported Version fields');
  }
  if (r.remaining % 4 !== 0) {
    throw new CodecError('TRUNCATED', `Version Negotiation: ${r.remaining % 4} stray bytes`);
  }
  const versions: number[] = [];
  while (!r.done) versions.push(r.u32());
  return {
    kind: 'version-negotiation',
    start: offset,
    firstByte,
    unusedBits: firstByte & 0x7f,
    dcid,
    scid,
    versions,
    packetEnd: datagram.length,
  };
}

/** What {@link encodeVersionNegotiation} needs. */
export interface VersionNegotiationFields {
  /** MUST be the Source Connection ID of the packet that triggered it (RFC 9000 §17.2.1). */
  dcid: Uint8Array;
  /** MUST be the Destination Connection ID of the packet that triggered it. */
  scid: Uint8Array;
  /** Supported versions (at least one). Include a reserved 0x?a?a?a?a version to grease. */
  versions: readonly number[];
  /**
   * The 7 Unused bits, "set to an arbitrary value by the server": pass random bits. RFC 9000
   * §17.2.1: servers SHOULD set 0x40 so the packet appears to carry the Fixed Bit.
   */
  unusedBits: number;
}

/** Writes a Version Negotiation packet; returns the position of its first byte. */
export function writeVersionNegotiation(w: ByteWriter, f: VersionNegotiationFields): number {
  if (!Number.isInteger(f.unusedBits) || f.unusedBits < 0 || f.unusedBits > 0x7f) {
    throw new CodecError('MALFORMED', `unused bits ${f.unusedBits} are not 0-127`);
  }
  if (f.versions.length === 0) {
    throw new CodecError('MALFORMED', 'Version Negotiation needs at least one version');
  }
  for (const v of f.versions) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
      throw new CodecError('MALFORMED', `version ${v} is not a 32-bit value`);
    }
  }
  const start = w.position;
  // 1 UUUUUUU
  w.u8(0x80 | f.unusedBits);
  w.u32(VERSION_NEGOTIATION);
  w.vec8(f.dcid);
  w.vec8(f.scid);
  for (const v of f.versions) w.u32(v);
  return start;
}

/** A Version Negotiation packet as a new byte array. */
export function encodeVersionNegotiation(f: VersionNegotiationFields): Uint8Array {
  const w = new ByteWriter(7 + f.dcid.length + f.scid.length + 4 * f.versions.length);
  writeVersionNegotiation(w, f);
  return w.toBytes();
}
