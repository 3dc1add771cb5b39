export { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, type Aead, createAead } from './aead.js';
export { AeadError, CryptoError, type CryptoErrorCode, isCryptoError } from './errors.js';
export {
  createHeaderProtection,
  type HeaderProtection,
  HP_SAMPLE_LENGTH,
  HP_SAMPLE_OFFSET,
} from './header-protection.js';
export {
  deriveSecret,
  HASH_LENGTH,
  type HashName,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfLabel,
} from './hkdf.js';
export { type CryptoBackend, cryptoBackend, nativeLoadError } from './native.js';
export { CipherSuite, isSupportedSuite, type SuiteParams, suiteParams } from './suites.js';
