/**
 * Encoded field sections (RFC 9204 §4.5): the prefix (Required Insert Count and Base) and the
 * five field line representations, as syntax (`readFieldLine` / `writeFieldLine`), plus the
 * decoding of a whole section against a dynamic table state (`decodeFieldSection`).
 */
import { CodecError } from '../wire/errors.js';
import { ByteReader } from '../wire/reader.js';
import type { ByteWriter } from '../wire/writer.js';
import type { DynamicTable } from './dynamic-table.js';
import { ENTRY_OVERHEAD } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import { latin1Bytes, latin1String } from './latin1.js';
import {
  type HuffmanMode,
  readPrefixedInt,
  readStringLiteral,
  writePrefixedInt,
  writeStringLiteral,
} from './prefixed-int.js';
import { staticEntry } from './static-table.js';

/** A field line as `[name, value]`, one character per octet (see `latin1.ts`). */
export type Field = [name: string, value: string];

/** One field line representation (RFC 9204 §4.5.2-§4.5.6). */
export type FieldLine =
  /** §4.5.2 `1Txxxxxx`: static index (T=1) or dynamic index relative to Base (T=0). */
  | { readonly kind: 'indexed'; readonly isStatic: boolean; readonly index: number }
  /** §4.5.3 `0001xxxx`: dynamic entry at Base + index. */
  | { readonly kind: 'indexedPostBase'; readonly index: number }
  /** §4.5.4 `01NTxxxx` + value: name from the static table or relative to Base. */
  | {
      readonly kind: 'literalNameRef';
      /** N: intermediaries must keep this field line literal (§7.1.3). */
      readonly neverIndex: boolean;
      readonly isStatic: boolean;
      readonly nameIndex: number;
      readonly value: string;
    }
  /** §4.5.5 `0000Nxxx` + value: name from the dynamic entry at Base + index. */
  | {
      readonly kind: 'literalPostBaseNameRef';
      readonly neverIndex: boolean;
      readonly nameIndex: number;
      readonly value: string;
    }
  /** §4.5.6 `001NHxxx` + name + value: both as string literals. */
  | {
      readonly kind: 'literalName';
      readonly neverIndex: boolean;
      readonly name: string;
      readonly value: string;
    };

/** The two integers before the field lines (§4.5.1). */
export interface FieldSectionPrefix {
  /** Insert Count the decoder needs before it can decode the section (§4.5.1.1). */
  readonly requiredInsertCount: number;
  /** Reference point of relative and post-Base indices (§4.5.1.2). */
  readonly base: number;
}

/** Encoded Required Insert Count (§4.5.1.1): 0, or `(ric mod 2 * MaxEntries) + 1`. */
export function encodeRequiredInsertCount(requiredInsertCount: number, maxEntries: number): number {
  if (requiredInsertCount === 0) return 0;
  if (maxEntries === 0) {
    throw new CodecError('MALFORMED', 'dynamic references need a non-zero maximum capacity');
  }
  return (requiredInsertCount % (2 * maxEntries)) + 1;
}

/**
 * Reconstructs the Required Insert Count (§4.5.1.1). A value "that could not have been produced
 * by a conformant encoder" throws `CodecError('MALFORMED')` (QPACK_DECOMPRESSION_FAILED).
 */
export function decodeRequiredInsertCount(
  encoded: number,
  maxEntries: number,
  totalInserts: number,
): number {
  if (encoded === 0) return 0;
  const fullRange = 2 * maxEntries;
  if (encoded > fullRange) {
    throw new CodecError('MALFORMED', `encoded Required Insert Count ${encoded} > ${fullRange}`);
  }
  const maxValue = totalInserts + maxEntries;
  const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
  let ric = maxWrapped + encoded - 1;
  if (ric > maxValue) {
    if (ric <= fullRange) {
      throw new CodecError('MALFORMED', `encoded Required Insert Count ${encoded} out of range`);
    }
    ric -= fullRange;
  }
  if (ric === 0) throw new CodecError('MALFORMED', 'Required Insert Count 0 encoded as non-zero');
  return ric;
}

/**
 * Writes the prefix (§4.5.1): `| Required Insert Count (8+) |` then `| S | Delta Base (7+) |`.
 * Without dynamic references (ric 0) the Base is written as Delta Base 0.
 */
export function writeFieldSectionPrefix(
  w: ByteWriter,
  prefix: FieldSectionPrefix,
  maxEntries: number,
): void {
  const { requiredInsertCount: ric, base } = prefix;
  writePrefixedInt(w, 0, 8, encodeRequiredInsertCount(ric, maxEntries));
  if (ric === 0 || base >= ric) writePrefixedInt(w, 0x00, 7, ric === 0 ? 0 : base - ric);
  else writePrefixedInt(w, 0x80, 7, ric - base - 1);
}

/** Reads the prefix. Malformed values throw `CodecError('MALFORMED')`. */
export function readFieldSectionPrefix(
  r: ByteReader,
  maxEntries: number,
  totalInserts: number,
): FieldSectionPrefix {
  const ric = decodeRequiredInsertCount(readPrefixedInt(r, 8), maxEntries, totalInserts);
  const negative = (r.peekU8() & 0x80) !== 0;
  const delta = readPrefixedInt(r, 7);
  if (negative) {
    // §4.5.1.2: "An endpoint MUST treat a field block with a Sign bit of 1 as invalid if the
    // value of Required Insert Count is less than or equal to the value of Delta Base."
    if (ric <= delta) throw new CodecError('MALFORMED', 'negative Base');
    return { requiredInsertCount: ric, base: ric - delta - 1 };
  }
  const base = ric + delta;
  if (base > Number.MAX_SAFE_INTEGER) throw new CodecError('VARINT_RANGE', 'Base above 2^53-1');
  return { requiredInsertCount: ric, base };
}

/** Writes one field line representation. */
export function writeFieldLine(w: ByteWriter, line: FieldLine, huffman: HuffmanMode): void {
  switch (line.kind) {
    case 'indexed':
      // 1 T Index(6+)
      writePrefixedInt(w, line.isStatic ? 0xc0 : 0x80, 6, line.index);
      return;
    case 'indexedPostBase':
      // 0001 Index(4+)
      writePrefixedInt(w, 0x10, 4, line.index);
      return;
    case 'literalNameRef':
      // 01 N T NameIndex(4+), then H ValueLength(7+) Value
      writePrefixedInt(
        w,
        0x40 | (line.neverIndex ? 0x20 : 0) | (line.isStatic ? 0x10 : 0),
        4,
        line.nameIndex,
      );
      writeStringLiteral(w, 0, 8, latin1Bytes(line.value), huffman);
      return;
    case 'literalPostBaseNameRef':
      // 0000 N NameIndex(3+), then H ValueLength(7+) Value
      writePrefixedInt(w, line.neverIndex ? 0x08 : 0x00, 3, line.nameIndex);
      writeStringLiteral(w, 0, 8, latin1Bytes(line.value), huffman);
      return;
    case 'literalName':
      // 001 N H NameLength(3+) Name, then H ValueLength(7+) Value
      writeStringLiteral(w, line.neverIndex ? 0x30 : 0x20, 4, latin1Bytes(line.name), huffman);
      writeStringLiteral(w, 0, 8, latin1Bytes(line.value), huffman);
      return;
  }
}

/** Reads one field line representation; strings are capped at `maxStringLength` octets. */
export function readFieldLine(r: ByteReader, maxStringLength: number): FieldLine {
  const first = r.peekU8();
  if ((first & 0x80) !== 0) {
    return { kind: 'indexed', isStatic: (first & 0x40) !== 0, index: readPrefixedInt(r, 6) };
  }
  if ((first & 0x40) !== 0) {
    const nameIndex = readPrefixedInt(r, 4);
    return {
      kind: 'literalNameRef',
      neverIndex: (first & 0x20) !== 0,
      isStatic: (first & 0x10) !== 0,
      nameIndex,
      value: latin1String(readStringLiteral(r, 8, maxStringLength)),
    };
  }
  if ((first & 0x20) !== 0) {
    const name = latin1String(readStringLiteral(r, 4, maxStringLength));
    const value = latin1String(readStringLiteral(r, 8, maxStringLength));
    return { kind: 'literalName', neverIndex: (first & 0x10) !== 0, name, value };
  }
  if ((first & 0x10) !== 0) return { kind: 'indexedPostBase', index: readPrefixedInt(r, 4) };
  const nameIndex = readPrefixedInt(r, 3);
  return {
    kind: 'literalPostBaseNameRef',
    neverIndex: (first & 0x08) !== 0,
    nameIndex,
    value: latin1String(readStringLiteral(r, 8, maxStringLength)),
  };
}

/** Outcome of decoding a field section against the current table state. */
export type FieldSectionResult =
  /** Decoded; `neverIndexed` lists the positions of fields sent with the N bit (§7.1.3). */
  | {
      readonly status: 'decoded';
      readonly fields: Field[];
      readonly neverIndexed: number[];
      readonly requiredInsertCount: number;
    }
  /** Required Insert Count above the table's Insert Count: retry once it is reached (§2.2.1). */
  | { readonly status: 'blocked'; readonly requiredInsertCount: number }
  /** The decoded size (RFC 9114 §4.2.2: name + value + 32 per field) passed the limit. */
  | { readonly status: 'tooLarge'; readonly requiredInsertCount: number; readonly size: number };

/**
 * Decodes `block` against `table` without changing it. Malformed input and invalid references
 * throw `QpackError(QPACK_DECOMPRESSION_FAILED)` (§2.2.3: a reference "to a dynamic table entry
 * that has already been evicted or that has an absolute index greater than or equal to the
 * declared Required Insert Count ... MUST" be treated as that error; §3.1 for static indices).
 */
export function decodeFieldSection(
  block: Uint8Array,
  table: DynamicTable,
  maxFieldSectionSize: number = Number.MAX_SAFE_INTEGER,
): FieldSectionResult {
  try {
    const r = new ByteReader(block);
    const { requiredInsertCount: ric, base } = readFieldSectionPrefix(
      r,
      table.maxEntries,
      table.insertCount,
    );
    if (ric > table.insertCount) return { status: 'blocked', requiredInsertCount: ric };
    const fields: Field[] = [];
    const neverIndexed: number[] = [];
    let size = 0;
    while (!r.done) {
      // Strings cannot outrun the block: a longer declared length fails as TRUNCATED.
      const line = readFieldLine(r, Number.MAX_SAFE_INTEGER);
      const field = resolve(line, ric, base, table);
      size += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (size > maxFieldSectionSize) return { status: 'tooLarge', requiredInsertCount: ric, size };
      if ('neverIndex' in line && line.neverIndex) neverIndexed.push(fields.length);
      fields.push(field);
    }
    return { status: 'decoded', fields, neverIndexed, requiredInsertCount: ric };
  } catch (err) {
    throw QpackError.wrap(err, QpackErrorCode.QPACK_DECOMPRESSION_FAILED, 'field section');
  }
}

function resolve(line: FieldLine, ric: number, base: number, table: DynamicTable): Field {
  switch (line.kind) {
    case 'indexed': {
      if (line.isStatic) {
        const [name, value] = staticAt(line.index);
        return [name, value];
      }
      const entry = dynamicAt(base - 1 - line.index, ric, table);
      return [entry.name, entry.value];
    }
    case 'indexedPostBase': {
      const entry = dynamicAt(base + line.index, ric, table);
      return [entry.name, entry.value];
    }
    case 'literalNameRef': {
      const name = line.isStatic
        ? staticAt(line.nameIndex)[0]
        : dynamicAt(base - 1 - line.nameIndex, ric, table).name;
      return [name, line.value];
    }
    case 'literalPostBaseNameRef':
      return [dynamicAt(base + line.nameIndex, ric, table).name, line.value];
    case 'literalName':
      return [line.name, line.value];
  }
}

function staticAt(index: number): readonly [string, string] {
  const entry = staticEntry(index);
  if (entry === undefined) throw invalid(`static index ${index} out of range`);
  return entry;
}

function dynamicAt(absolute: number, ric: number, table: DynamicTable) {
  if (absolute < 0 || absolute >= ric) {
    throw invalid(`dynamic absolute index ${absolute} outside [0, ${ric})`);
  }
  const entry = table.get(absolute);
  if (entry === undefined) throw invalid(`dynamic entry ${absolute} was evicted`);
  return entry;
}

function invalid(message: string): QpackError {
  return new QpackError(QpackErrorCode.QPACK_DECOMPRESSION_FAILED, message);
}
