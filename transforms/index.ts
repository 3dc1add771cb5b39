/** Forwarded-mode packet transforms (quic-proxy §"Packet Transforms"). */
export { IdentityTransform } from './identity.js';
export {
  createTransform,
  isSupportedTransform,
  negotiateTransform,
  RESERVED_SCRAMBLE_NAME,
  supportedTransforms,
  TransformName,
  transformNeedsKey,
} from './registry.js';
export {
  checkScrambleKey,
  SCRAMBLE_IV_LENGTH,
  SCRAMBLE_KEY_LENGTH,
  ScrambleTransform,
  scrambleMinLength,
} from './scramble.js';
export {
  isTransformError,
  MAX_CID_LENGTH,
  type PacketTransform,
  TransformError,
  type TransformErrorCode,
  type TransformOptions,
} from './types.js';
