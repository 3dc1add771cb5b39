/** The sans-IO core of the connect-udp proxy (RFC 9298). */
export {
  type AuthConfig,
  Authenticator,
  type AuthResult,
  type BasicUser,
  hashPassword,
  parseScryptHash,
} from './auth.js';
export { ConnectUdpError, ConnectUdpErrorCode, type ConnectUdpErrorCodeValue } from './errors.js';
export {
  type PolicyDecision,
  TargetPolicy,
  type TargetPolicyOptions,
} from './policy.js';
export {
  classifyDnsError,
  type DnsFailure,
  type ResolvedAddress,
  type ResolveOptions,
  type ResolveResult,
  type Resolver,
  resolveTarget,
} from './resolve.js';
export {
  type RejectionResponseOptions,
  rejectionResponseHeaders,
  type SuccessResponseOptions,
  successResponseHeaders,
} from './response.js';
export {
  EMBEDDING_IPV6,
  embeddedIPv4,
  SPECIAL_IPV4,
  SPECIAL_IPV6,
  type SpecialRange,
  specialRangeOf4,
  specialRangeOf6,
} from './special-ranges.js';
export {
  formatHostPort,
  parseTarget,
  parseTargetHost,
  parseTargetPort,
  type Target,
  type TargetHost,
} from './target.js';
export {
  formatTargetRule,
  parsePortRanges,
  parseTargetRule,
  type TargetRule,
} from './target-rule.js';
export {
  defaultTemplate,
  type ExpandedRequest,
  expandRequest,
  expandTemplate,
  expandWildcardRequest,
} from './template-expand.js';
export {
  MAX_MATCH_PATH_LENGTH,
  matchTemplate,
  percentDecode,
  type TemplateMatch,
} from './template-match.js';
export {
  type ParseTemplateOptions,
  parseTemplate,
  TARGET_HOST_VAR,
  TARGET_PORT_VAR,
  type TemplateExpression,
  type TemplateLiteral,
  type TemplateOperator,
  type TemplatePart,
  toTemplate,
  type UriTemplate,
} from './uri-template.js';
export {
  CONNECT_UDP_PROTOCOL,
  normalizeAuthority,
  type RequestRejectReason,
  type ValidateRequestOptions,
  type ValidateRequestResult,
  validateConnectUdpRequest,
} from './validate-request.js';
