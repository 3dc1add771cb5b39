/**
 * One entry point for "what packet starts here?" in a QUIC version 1 endpoint (RFC 9000 §17):
 * the header form bit, then the Version, then the Long Packet Type choose the parser.
 *
 * The per-format parsers and writers live in `long-header.ts`, `retry.ts`,
 * `version-negotiation.ts` and `short-header.ts`; bit helpers in `first-byte.ts`.
 */
import { ByteReader, CodecError } from '../../wire/index.js';
import { longPacketTypeOf } from './first-byte.js';
import { isLongHeader } from './invariant.js';
import { parseLongHeader } from './long-header.js';
import { parseRetry } from './retry.js';
import { parseShortHeader } from './short-header.js';
import {
  LongPacketType,
  type PacketHeader,
  QUIC_V1,
  type UnsupportedVersionHeader,
  VERSION_NEGOTIATION,
} from './types.js';
import { parseVersionNegotiation } from './version-negotiation.js';

/**
 * Parses the header of the packet at `offset` of `datagram`. `localCidLength` is the length of
 * the connection IDs this endpoint issued, needed for short headers (RFC 9000 §17.3.1).
 *
 * A long header of a version other than 1 is returned as `unsupported-version` with its invariant
 * fields (RFC 8999 §5.1), so a server can answer with Version Negotiation (RFC 9000 §6.1). Every
 * failure is a `CodecError`.
 */
export function parsePacketHeader(
  datagram: Uint8Array,
  offset: number,
  localCidLength: number,
): PacketHeader {
  if (offset < 0 || offset >= datagram.length) {
    throw new CodecError('TRUNCATED', `no packet at offset ${offset}`);
  }
  const firstByte = datagram[offset];
  if (!isLongHeader(firstByte)) return parseShortHeader(datagram, offset, localCidLength);
  const r = new ByteReader(datagram, offset + 1);
  const version = r.u32();
  if (version === VERSION_NEGOTIATION) return parseVersionNegotiation(datagram, offset);
  if (version !== QUIC_V1) return parseUnsupported(r, offset, firstByte, version);
  if (longPacketTypeOf(firstByte) === LongPacketType.Retry) return parseRetry(datagram, offset);
  return parseLongHeader(datagram, offset);
}

function parseUnsupported(
  r: ByteReader,
  start: number,
  firstByte: number,
  version: number,
): UnsupportedVersionHeader {
  // RFC 9000 §17.2: servers "SHOULD be able to read longer connection IDs from other QUIC
  // versions" to form a Version Negotiation packet, so 0-255 bytes here.
  const dcid = r.vec8();
  const scid = r.vec8();
  return {
    kind: 'unsupported-version',
    start,
    firstByte,
    version,
    dcid,
    scid,
    packetEnd: r.buffer.length,
  };
}
