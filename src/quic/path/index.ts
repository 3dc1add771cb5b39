/**
 * Path state: anti-amplification, path validation, address tokens, stateless reset, PMTU discovery
 * (RFC 9000 §8, §10.3, §14.3).
 */
export { AMPLIFICATION_FACTOR, AmplificationLimit } from './amplification.js';
export {
  type OwedResponse,
  PATH_CHALLENGE_LENGTH,
  PathResponder,
  type PathResponseResult,
  type PathValidationState,
  PathValidator,
  type PathValidatorOptions,
} from './path-validation.js';
export {
  BASE_PLPMTU,
  BLACK_HOLE_THRESHOLD,
  DEFAULT_PLPMTU_CEILING,
  MAX_PLPMTU,
  MAX_PROBES,
  PMTU_RAISE_INTERVAL,
  PmtuDiscovery,
  type PmtudCounters,
  type PmtudOptions,
  type PmtudState,
  SEARCH_GRANULARITY,
} from './pmtud.js';
export {
  buildStatelessReset,
  IDEAL_MIN_STATELESS_RESET_LENGTH,
  MIN_STATELESS_RESET_LENGTH,
  STATELESS_RESET_TOKEN_LENGTH,
  StatelessResetKey,
  statelessResetTail,
  statelessResetToken,
  tokensEqual,
} from './stateless-reset.js';
export {
  AddressTokens,
  type AddressTokensOptions,
  type TokenCheck,
  type TokenContents,
  type TokenKind,
  type TokenRejection,
} from './tokens.js';
