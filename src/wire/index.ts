export { CodecError, type CodecErrorCode, isCodecError } from './errors.js';
export { bytesEqual, concatBytes, fromHex, toHex } from './hex.js';
export { pooledBytes, pooledCopy } from './pooled.js';
export { ByteReader } from './reader.js';
export {
  decodeVarint,
  decodeVarintBig,
  encodeVarint,
  VARINT_MAX,
  type VarintResult,
  varintLength,
  varintLengthFromFirstByte,
} from './varint.js';
export { ByteWriter, type LengthPrefix } from './writer.js';
