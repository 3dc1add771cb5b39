/** QPACK (RFC 9204): field compression for HTTP/3, with the HPACK Huffman code (RFC 7541). */
export { QpackDecoder, type QpackDecoderOptions } from './decoder.js';
export {
  type DynamicEntry,
  type DynamicEntrySnapshot,
  DynamicTable,
  type DynamicTableOptions,
  ENTRY_OVERHEAD,
  entrySize,
} from './dynamic-table.js';
export { type EncodePolicy, QpackEncoder, type QpackEncoderOptions } from './encoder.js';
export {
  isQpackError,
  QpackError,
  QpackErrorCode,
  type QpackErrorCodeValue,
  type QpackErrorName,
} from './errors.js';
export {
  decodeFieldSection,
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  type Field,
  type FieldLine,
  type FieldSectionPrefix,
  type FieldSectionResult,
  readFieldLine,
  readFieldSectionPrefix,
  writeFieldLine,
  writeFieldSectionPrefix,
} from './field-lines.js';
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
export { DecoderStreamParser, EncoderStreamParser } from './instruction-parser.js';
export {
  type DecoderInstruction,
  type EncoderInstruction,
  measureDecoderInstruction,
  measureEncoderInstruction,
  readDecoderInstruction,
  readEncoderInstruction,
  writeDecoderInstruction,
  writeEncoderInstruction,
} from './instructions.js';
export { latin1Bytes, latin1String } from './latin1.js';
export {
  type HuffmanMode,
  MAX_CONTINUATION_BYTES,
  prefixedIntLength,
  readPrefixedInt,
  readStringLiteral,
  stringLiteralLength,
  writePrefixedInt,
  writeStringLiteral,
} from './prefixed-int.js';
export {
  STATIC_TABLE,
  STATIC_TABLE_SIZE,
  staticEntry,
  staticIndexOf,
  staticNameIndexOf,
} from './static-table.js';
