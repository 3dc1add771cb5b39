/**
 * Encoder stream instructions (RFC 9204 §4.3) and decoder stream instructions (§4.4): types,
 * writers, `measure*` functions that learn an instruction's length from its first bytes (so an
 * incremental parser knows how much to wait for, and can cap strings before buffering them),
 * and readers for complete instructions. Byte-level failures are `CodecError`s; the stream
 * parsers in `instruction-parser.ts` wrap them with the stream's QPACK error code.
 */
import { CodecError } from '../wire/errors.js';
import type { ByteReader } from '../wire/reader.js';
import type { ByteWriter } from '../wire/writer.js';
import { latin1Bytes, latin1String } from './latin1.js';
import {
  type HuffmanMode,
  type PrefixedIntScan,
  readPrefixedInt,
  readStringLiteral,
  scanPrefixedInt,
  writePrefixedInt,
  writeStringLiteral,
} from './prefixed-int.js';

/** An instruction on the encoder stream (§4.3). */
export type EncoderInstruction =
  /** §4.3.1 `001xxxxx`: Set Dynamic Table Capacity. */
  | { readonly type: 'setCapacity'; readonly capacity: number }
  /** §4.3.2 `1Txxxxxx` + value: Insert with Name Reference (static, or relative to insertion). */
  | {
      readonly type: 'insertWithNameRef';
      readonly isStatic: boolean;
      readonly nameIndex: number;
      readonly value: string;
    }
  /** §4.3.3 `01Hxxxxx` + name + value: Insert with Literal Name. */
  | { readonly type: 'insertWithLiteralName'; readonly name: string; readonly value: string }
  /** §4.3.4 `000xxxxx`: Duplicate the entry at this relative index. */
  | { readonly type: 'duplicate'; readonly index: number };

/** An instruction on the decoder stream (§4.4). */
export type DecoderInstruction =
  /** §4.4.1 `1xxxxxxx`: Section Acknowledgment. */
  | { readonly type: 'sectionAck'; readonly streamId: number }
  /** §4.4.2 `01xxxxxx`: Stream Cancellation. */
  | { readonly type: 'streamCancel'; readonly streamId: number }
  /** §4.4.3 `00xxxxxx`: Insert Count Increment. */
  | { readonly type: 'insertCountIncrement'; readonly increment: number };

export function writeEncoderInstruction(
  w: ByteWriter,
  inst: EncoderInstruction,
  huffman: HuffmanMode,
): void {
  switch (inst.type) {
    case 'setCapacity':
      // 001 Capacity(5+)
      writePrefixedInt(w, 0x20, 5, inst.capacity);
      return;
    case 'insertWithNameRef':
      // 1 T NameIndex(6+), then H ValueLength(7+) Value
      writePrefixedInt(w, inst.isStatic ? 0xc0 : 0x80, 6, inst.nameIndex);
      writeStringLiteral(w, 0, 8, latin1Bytes(inst.value), huffman);
      return;
    case 'insertWithLiteralName':
      // 01 H NameLength(5+) Name, then H ValueLength(7+) Value
      writeStringLiteral(w, 0x40, 6, latin1Bytes(inst.name), huffman);
      writeStringLiteral(w, 0, 8, latin1Bytes(inst.value), huffman);
      return;
    case 'duplicate':
      // 000 Index(5+)
      writePrefixedInt(w, 0x00, 5, inst.index);
      return;
  }
}

export function writeDecoderInstruction(w: ByteWriter, inst: DecoderInstruction): void {
  switch (inst.type) {
    case 'sectionAck':
      writePrefixedInt(w, 0x80, 7, inst.streamId);
      return;
    case 'streamCancel':
      writePrefixedInt(w, 0x40, 6, inst.streamId);
      return;
    case 'insertCountIncrement':
      writePrefixedInt(w, 0x00, 6, inst.increment);
      return;
  }
}

const SCAN: PrefixedIntScan = { value: 0, next: 0 };

/**
 * Bytes the encoder instruction starting at `buf[start]` occupies. A result above
 * `end - start` is a lower bound: wait for that many bytes, then measure again. String lengths
 * above `maxStringLength` throw `CodecError('TOO_LARGE')` as soon as their length is known.
 * Incomplete input is not an exception here: partial chunks are the common case.
 */
export function measureEncoderInstruction(
  buf: Uint8Array,
  start: number,
  end: number,
  maxStringLength: number,
): number {
  const incomplete = end - start + 1;
  if (start >= end) return incomplete;
  const first = buf[start];
  let pos: number;
  if ((first & 0x80) !== 0) {
    // 1 T NameIndex(6+), then the value
    if (!scanPrefixedInt(buf, start, end, 6, SCAN)) return incomplete;
    pos = SCAN.next;
  } else if ((first & 0x40) !== 0) {
    // 01 H NameLength(5+) Name, then the value
    pos = scanString(buf, start, end, 6, maxStringLength);
    if (pos < 0) return incomplete;
    if (pos >= end) return pos + 1 - start;
  } else {
    // 001 Capacity(5+) or 000 Index(5+)
    return scanPrefixedInt(buf, start, end, 5, SCAN) ? SCAN.next - start : incomplete;
  }
  const next = scanString(buf, pos, end, 8, maxStringLength);
  return next < 0 ? incomplete : next - start;
}

/** End offset of the string literal at `buf[pos]` (possibly past `end`); -1 if its length is incomplete. */
function scanString(
  buf: Uint8Array,
  pos: number,
  end: number,
  prefixBits: number,
  maxStringLength: number,
): number {
  if (!scanPrefixedInt(buf, pos, end, prefixBits - 1, SCAN)) return -1;
  if (SCAN.value > maxStringLength) {
    throw new CodecError(
      'TOO_LARGE',
      `string literal of ${SCAN.value} bytes above the cap ${maxStringLength}`,
    );
  }
  return SCAN.next + SCAN.value;
}

/** Reads one complete encoder instruction (as measured by {@link measureEncoderInstruction}). */
export function readEncoderInstruction(r: ByteReader, maxStringLength: number): EncoderInstruction {
  const first = r.peekU8();
  if ((first & 0x80) !== 0) {
    const nameIndex = readPrefixedInt(r, 6);
    const value = latin1String(readStringLiteral(r, 8, maxStringLength));
    return { type: 'insertWithNameRef', isStatic: (first & 0x40) !== 0, nameIndex, value };
  }
  if ((first & 0x40) !== 0) {
    const name = latin1String(readStringLiteral(r, 6, maxStringLength));
    const value = latin1String(readStringLiteral(r, 8, maxStringLength));
    return { type: 'insertWithLiteralName', name, value };
  }
  if ((first & 0x20) !== 0) return { type: 'setCapacity', capacity: readPrefixedInt(r, 5) };
  return { type: 'duplicate', index: readPrefixedInt(r, 5) };
}

/** Bytes the decoder instruction at `buf[start]` occupies; above `end - start` when incomplete. */
export function measureDecoderInstruction(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return 1;
  const prefixBits = (buf[start] & 0x80) !== 0 ? 7 : 6;
  return scanPrefixedInt(buf, start, end, prefixBits, SCAN) ? SCAN.next - start : end - start + 1;
}

/** Reads one complete decoder instruction. */
export function readDecoderInstruction(r: ByteReader): DecoderInstruction {
  const first = r.peekU8();
  if ((first & 0x80) !== 0) return { type: 'sectionAck', streamId: readPrefixedInt(r, 7) };
  if ((first & 0x40) !== 0) return { type: 'streamCancel', streamId: readPrefixedInt(r, 6) };
  return { type: 'insertCountIncrement', increment: readPrefixedInt(r, 6) };
}
