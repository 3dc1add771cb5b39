/**
 * Packet number encoding and reconstruction (RFC 9000 §17.1, Appendix A.2 and A.3).
 *
 * Packet numbers are `number`s. The RFC allows up to 2^62 - 1, but a connection would have to send
 * a million packets a second for 285 years to pass 2^53, so {@link MAX_PACKET_NUMBER} caps the
 * domain at `Number.MAX_SAFE_INTEGER`, where every value is exact. Arithmetic never uses 32-bit
 * bitwise operators on full packet numbers: only on the 1-4 byte truncated field.
 *
 * Every invalid argument throws `CodecError` (VARINT_RANGE for a number outside its range,
 * MALFORMED for an impossible combination), like the rest of the packet layer.
 */
import { CodecError } from '../../wire/index.js';

/** Encoded length of the Packet Number field in bytes (RFC 9000 §17.1: 1 to 4). */
export type PacketNumberLength = 1 | 2 | 3 | 4;

/** The largest packet number this code base handles exactly (2^53 - 1; the RFC allows 2^62 - 1). */
export const MAX_PACKET_NUMBER = Number.MAX_SAFE_INTEGER;

/** 2^(8 * bytes): the number of values a `bytes`-long field can carry, indexed by bytes. */
const WINDOW = [0, 0x100, 0x1_0000, 0x100_0000, 0x1_0000_0000] as const;

function checkPn(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CodecError('VARINT_RANGE', `${what} ${value} is not a packet number`);
  }
}

/** Throws MALFORMED unless `length` is 1, 2, 3 or 4. */
export function checkPacketNumberLength(length: number): asserts length is PacketNumberLength {
  if (length !== 1 && length !== 2 && length !== 3 && length !== 4) {
    throw new CodecError('MALFORMED', `packet number length ${length} is not 1-4`);
  }
}

/**
 * The shortest Packet Number field length for sending `fullPn` (RFC 9000 §17.1, Appendix A.2):
 * enough bits for more than twice the distance to the largest acknowledged packet number, or for
 * the whole number when nothing has been acknowledged yet in this number space ("Prior to
 * receiving an acknowledgment ... the full packet number MUST be included").
 *
 * Throws MALFORMED when `largestAcked >= fullPn` (packet numbers only increase, RFC 9000 §12.3)
 * and TOO_LARGE when even 4 bytes cannot cover the range (2^31 or more packets in flight).
 */
export function packetNumberLength(fullPn: number, largestAcked?: number): PacketNumberLength {
  checkPn(fullPn, 'packet number');
  let unacked: number;
  if (largestAcked === undefined) {
    unacked = fullPn + 1;
  } else {
    checkPn(largestAcked, 'largest acknowledged');
    if (largestAcked >= fullPn) {
      throw new CodecError(
        'MALFORMED',
        `packet number ${fullPn} is not above the largest acknowledged ${largestAcked}`,
      );
    }
    unacked = fullPn - largestAcked;
  }
  // min_bits = log2(unacked) + 1 and bytes = ceil(min_bits / 8), in integers:
  // 8 * bytes >= log2(unacked) + 1  <=>  2 * unacked <= 2^(8 * bytes).
  for (let bytes = 1; bytes <= 4; bytes++) {
    if (2 * unacked <= WINDOW[bytes]) return bytes as PacketNumberLength;
  }
  throw new CodecError('TOO_LARGE', `${unacked} unacknowledged packets exceed a 4-byte encoding`);
}

/** The `length` least significant bytes of `fullPn`, the value carried in the header. */
export function truncatePacketNumber(fullPn: number, length: PacketNumberLength): number {
  checkPn(fullPn, 'packet number');
  checkPacketNumberLength(length);
  return fullPn % WINDOW[length];
}

/**
 * Reconstructs a full packet number from the Packet Number field once header protection is removed
 * (RFC 9000 §17.1, Appendix A.3): the value closest to `largestReceived + 1` whose low bits equal
 * `truncated`. `largestReceived` is the largest packet number successfully processed in this number
 * space, `undefined` before the first one.
 */
export function decodePacketNumber(
  truncated: number,
  length: PacketNumberLength,
  largestReceived?: number,
): number {
  checkPacketNumberLength(length);
  const win = WINDOW[length];
  if (!Number.isInteger(truncated) || truncated < 0 || truncated >= win) {
    throw new CodecError(
      'VARINT_RANGE',
      `${truncated} does not fit a ${length}-byte packet number`,
    );
  }
  let expected = 0;
  if (largestReceived !== undefined) {
    checkPn(largestReceived, 'largest received');
    if (largestReceived === MAX_PACKET_NUMBER) {
      throw new CodecError('VARINT_RANGE', 'no packet number follows 2^53 - 1');
    }
    expected = largestReceived + 1;
  }
  const halfWin = win / 2;
  // candidate = (expected & ~mask) | truncated, without 32-bit operators. `win` divides 2^53 and
  // expected <= 2^53 - 1, so candidate <= 2^53 - 1: every step below is exact.
  const candidate = expected - (expected % win) + truncated;
  // The RFC's overflow guard is `candidate < 2^62 - win`; ours is the same at our ceiling.
  if (candidate <= expected - halfWin && candidate + win <= MAX_PACKET_NUMBER) {
    return candidate + win;
  }
  if (candidate > expected + halfWin && candidate >= win) return candidate - win;
  return candidate;
}

/** Writes the `length` low bytes of `value` big-endian at `offset`. */
export function writePacketNumber(
  buf: Uint8Array,
  offset: number,
  value: number,
  length: PacketNumberLength,
): void {
  const truncated = truncatePacketNumber(value, length);
  if (offset < 0 || offset + length > buf.length) {
    throw new CodecError('TOO_LARGE', `no room for a ${length}-byte packet number at ${offset}`);
  }
  for (let i = length - 1, v = truncated; i >= 0; i--, v = Math.floor(v / 256)) {
    buf[offset + i] = v & 0xff;
  }
}

/** Reads a `length`-byte Packet Number field (already unprotected) at `offset`. */
export function readPacketNumber(
  buf: Uint8Array,
  offset: number,
  length: PacketNumberLength,
): number {
  checkPacketNumberLength(length);
  if (!Number.isInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw new CodecError('TRUNCATED', `no ${length}-byte packet number at offset ${offset}`);
  }
  let v = 0;
  for (let i = 0; i < length; i++) v = v * 256 + buf[offset + i];
  return v;
}
