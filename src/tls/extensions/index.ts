export { alpnId, alpnName } from './alpn.js';
export {
  extensionTypeOf,
  findExtension,
  findUnknownExtension,
  readExtensions,
  writeExtensions,
} from './block.js';
export { extensionAllowedIn, isInterpreted, KIND_TYPE, type KnownKind } from './registry.js';
export * from './types.js';
