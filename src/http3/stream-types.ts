/**
 * HTTP/3 stream types. A unidirectional stream starts with its type as a varint (RFC 9114 §6.2);
 * a bidirectional stream starts directly with frames, except where an extension signals otherwise
 * with its first varint (WebTransport's 0x41). See `stream-prefix.ts` for reading that varint.
 */
import { ByteWriter } from '../wire/writer.js';
import { isReservedCodePoint, reservedCodePoint } from './grease.js';

/** Registered unidirectional stream types. */
export const H3StreamType = {
  /** RFC 9114 §6.2.1; sent by both endpoints, exactly once. */
  CONTROL: 0x00,
  /** RFC 9114 §6.2.2; server only, followed by a Push ID varint. */
  PUSH: 0x01,
  /** RFC 9204 §4.2: QPACK encoder stream. */
  QPACK_ENCODER: 0x02,
  /** RFC 9204 §4.2: QPACK decoder stream. */
  QPACK_DECODER: 0x03,
} as const;

export type H3StreamTypeName = keyof typeof H3StreamType;

/**
 * draft-ietf-webtrans-http3: unidirectional stream type of a WebTransport stream (followed by the
 * session ID varint).
 */
export const WEBTRANSPORT_UNI_STREAM_TYPE = 0x54;

/**
 * draft-ietf-webtrans-http3: the WEBTRANSPORT_STREAM signal value, the first varint of a
 * bidirectional WebTransport stream (followed by the session ID varint) in place of a frame type.
 */
export const WEBTRANSPORT_BIDI_SIGNAL = 0x41;

const NAMES = new Map<number, H3StreamTypeName>(
  (Object.entries(H3StreamType) as Array<[H3StreamTypeName, number]>).map(([k, v]) => [v, k]),
);

/** True for reserved stream types `0x1f * N + 0x21` (RFC 9114 §6.2.3), which carry no meaning. */
export function isReservedType(type: number | bigint): boolean {
  return isReservedCodePoint(type);
}

/** A reserved stream type for `N` from the caller's randomness (RFC 9114 §6.2.3). */
export function reservedStreamType(n: number | bigint): bigint {
  return reservedCodePoint(n);
}

/** The registered name of a stream type, `RESERVED(..)` for grease, or its hex value. */
export function streamTypeName(type: number | bigint): string {
  const small = typeof type === 'bigint' ? (type <= 0xffn ? Number(type) : -1) : type;
  if (small === WEBTRANSPORT_UNI_STREAM_TYPE) return 'WEBTRANSPORT_UNI';
  const name = NAMES.get(small);
  if (name !== undefined) return name;
  const hex = `0x${type.toString(16)}`;
  return isReservedType(type) ? `RESERVED(${hex})` : hex;
}

/**
 * The header of a unidirectional stream: its type, and for a push stream the Push ID
 * (RFC 9114 §6.2.2: `Push Stream Header { Stream Type (i) = 0x01, Push ID (i) }`).
 */
export function writeUniStreamHeader(
  w: ByteWriter,
  type: number | bigint,
  pushId?: number | bigint,
): ByteWriter {
  w.varint(type);
  if (pushId !== undefined) w.varint(pushId);
  return w;
}

/** {@link writeUniStreamHeader} into a fresh buffer. */
export function encodeUniStreamHeader(type: number | bigint, pushId?: number | bigint): Uint8Array {
  return writeUniStreamHeader(new ByteWriter(16), type, pushId).toBytes();
}
