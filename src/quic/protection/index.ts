export {
  INITIAL_SUITE,
  type InitialSecrets,
  initialKeys,
  initialSecrets,
  QUIC_V1_INITIAL_SALT,
} from './initial.js';
export { deriveKeys, nextSecret, type PacketKeys, QuicLabel } from './keys.js';
export { AEAD_LIMITS, type AeadLimits } from './limits.js';
export {
  type OpenedPacket,
  PacketProtector,
  type UnprotectedHeader,
} from './packet-protector.js';
export {
  computeRetryTag,
  RETRY_KEY_V1,
  RETRY_NONCE_V1,
  RETRY_TAG_LENGTH,
  verifyRetryTag,
} from './retry.js';
