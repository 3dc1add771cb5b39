/**
 * QPACK primitives: N-bit prefix integers (RFC 7541 §5.1, RFC 9204 §4.1.1) and N-bit prefix
 * string literals with the H (Huffman) flag (RFC 7541 §5.2, RFC 9204 §4.1.2).
 *
 * Integer limit: decoded integers are exact `number`s up to `Number.MAX_SAFE_INTEGER`
 * (2^53 - 1); anything larger, or an encoding with more than {@link MAX_CONTINUATION_BYTES}
 * continuation bytes, throws `CodecError('VARINT_RANGE')`. RFC 9204 §4.1.1 asks decoders to
 * handle 62-bit integers, but no QPACK integer can legitimately exceed 2^53 here: indices, counts
 * and lengths are bounded by memory and by the table capacity we announce, and a stream ID above
 * 2^53 would need more streams than can ever be opened. RFC 9204 §7.4 and RFC 7541 §5.1 make
 * values "larger than it is able to decode" (in value or in octet length) a decoding error, which
 * the caller maps to the error code of the stream (QPACK_DECOMPRESSION_FAILED, or the encoder or
 * decoder stream error).
 *
 * Truncated input throws `CodecError('TRUNCATED')`, which stream parsers read as "need more".
 */
import { CodecError } from '../wire/errors.js';
import type { ByteReader } from '../wire/reader.js';
import type { ByteWriter } from '../wire/writer.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';

/** Continuation bytes allowed after a full prefix: 8 carry 56 bits; 2 spare allow zero padding. */
export const MAX_CONTINUATION_BYTES = 10;

/** When to Huffman-encode a string literal. `auto`: only when strictly shorter. */
export type HuffmanMode = 'auto' | 'always' | 'never';

/**
 * Writes `value` as an integer with a `prefixBits`-bit prefix (1-8); `flags` holds the bits of
 * the first byte above the prefix.
 *
 * ```
 * value < 2^N - 1:  | flags | value (N bits) |
 * otherwise:        | flags | 1 ... 1 (N)    |  then 7-bit groups, least significant first,
 *                   | 1 | next 7 bits |...| 0 | last 7 bits |
 * ```
 */
export function writePrefixedInt(
  w: ByteWriter,
  flags: number,
  prefixBits: number,
  value: number,
): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CodecError('VARINT_RANGE', `prefixed integer ${value} is not in 0..2^53-1`);
  }
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    w.u8(flags | value);
    return;
  }
  w.u8(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    w.u8((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  w.u8(rest);
}

/** Encoded length of `value` with a `prefixBits`-bit prefix. */
export function prefixedIntLength(prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) return 1;
  let n = 2;
  for (let rest = value - max; rest >= 128; rest = Math.floor(rest / 128)) n++;
  return n;
}

/** Result slot of {@link scanPrefixedInt}. */
export interface PrefixedIntScan {
  value: number;
  /** Offset just past the integer. */
  next: number;
}

/**
 * Decodes the integer with a `prefixBits`-bit prefix at `buf[pos]` (not beyond `end`) into
 * `out`. Returns false, without throwing, when the input ends first (stream parsers meet that on
 * every partial chunk); values above the limit throw `CodecError('VARINT_RANGE')`.
 */
export function scanPrefixedInt(
  buf: Uint8Array,
  pos: number,
  end: number,
  prefixBits: number,
  out: PrefixedIntScan,
): boolean {
  if (pos >= end) return false;
  const max = (1 << prefixBits) - 1;
  let value = buf[pos++] & max;
  if (value < max) {
    out.value = value;
    out.next = pos;
    return true;
  }
  let scale = 1;
  for (let i = 0; i < MAX_CONTINUATION_BYTES; i++) {
    if (pos >= end) return false;
    const b = buf[pos++];
    // Sums above 2^53 stay above it after rounding, so the check below is exact.
    value += (b & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new CodecError('VARINT_RANGE', 'prefixed integer above 2^53 - 1');
    }
    if ((b & 0x80) === 0) {
      out.value = value;
      out.next = pos;
      return true;
    }
    scale *= 128;
  }
  throw new CodecError(
    'VARINT_RANGE',
    `prefixed integer longer than ${MAX_CONTINUATION_BYTES} continuation bytes`,
  );
}

const SCAN: PrefixedIntScan = { value: 0, next: 0 };

/**
 * Reads an integer with a `prefixBits`-bit prefix, consuming the first byte (whose bits above
 * the prefix the caller has already looked at with `peekU8`).
 */
export function readPrefixedInt(r: ByteReader, prefixBits: number): number {
  const start = r.offset;
  if (!scanPrefixedInt(r.buffer, start, start + r.remaining, prefixBits, SCAN)) {
    throw new CodecError('TRUNCATED', `prefixed integer truncated at offset ${start}`);
  }
  const value = SCAN.value;
  r.skip(SCAN.next - start);
  return value;
}

/** Whether `mode` Huffman-encodes `bytes`. */
export function useHuffman(bytes: Uint8Array, mode: HuffmanMode): boolean {
  if (mode === 'never' || bytes.length === 0) return false;
  return mode === 'always' || huffmanEncodedLength(bytes) < bytes.length;
}

/**
 * Writes an N-bit prefix string literal (N = `prefixBits`, 2-8): the top bit of the prefix is H,
 * the other N - 1 bits start the length, then the (possibly Huffman-encoded) octets.
 *
 * ```
 * | flags | H | Length (N-1 bits +) |  String Data (Length octets) ...
 * ```
 */
export function writeStringLiteral(
  w: ByteWriter,
  flags: number,
  prefixBits: number,
  bytes: Uint8Array,
  mode: HuffmanMode,
): void {
  if (useHuffman(bytes, mode)) {
    const encoded = huffmanEncode(bytes);
    writePrefixedInt(w, flags | (1 << (prefixBits - 1)), prefixBits - 1, encoded.length);
    w.bytes(encoded);
  } else {
    writePrefixedInt(w, flags, prefixBits - 1, bytes.length);
    w.bytes(bytes);
  }
}

/** Encoded length of a string literal written by {@link writeStringLiteral}. */
export function stringLiteralLength(
  prefixBits: number,
  bytes: Uint8Array,
  mode: HuffmanMode,
): number {
  const len = useHuffman(bytes, mode) ? huffmanEncodedLength(bytes) : bytes.length;
  return prefixedIntLength(prefixBits - 1, len) + len;
}

/**
 * Reads an N-bit prefix string literal and returns its octets (Huffman-decoded when H is set;
 * otherwise a zero-copy view of `r`'s buffer). `maxLength` caps the encoded length, checked
 * before the data is read (`CodecError('TOO_LARGE')`).
 */
export function readStringLiteral(
  r: ByteReader,
  prefixBits: number,
  maxLength: number,
): Uint8Array {
  const huffman = (r.peekU8() & (1 << (prefixBits - 1))) !== 0;
  const len = readStringLength(r, prefixBits, maxLength);
  const data = r.bytes(len);
  return huffman ? huffmanDecode(data) : data;
}

/**
 * Reads only the length of an N-bit prefix string literal, checking it against `maxLength`;
 * the data is left unread. Stream parsers use it to learn how many bytes an instruction needs.
 */
export function readStringLength(r: ByteReader, prefixBits: number, maxLength: number): number {
  const len = readPrefixedInt(r, prefixBits - 1);
  if (len > maxLength) {
    throw new CodecError('TOO_LARGE', `string literal of ${len} bytes above the cap ${maxLength}`);
  }
  return len;
}
