/** QUIC packet headers, coalescing and packet numbers (RFC 8999 §5, RFC 9000 §12.2, §17). */
export * from './coalesced.js';
export * from './dcid-rewrite.js';
export * from './first-byte.js';
export * from './header.js';
export * from './invariant.js';
export * from './long-header.js';
export * from './packet-number.js';
export * from './retry.js';
export * from './short-header.js';
export * from './types.js';
export * from './version-negotiation.js';
