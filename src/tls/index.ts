/** TLS 1.3 handshake codec for QUIC: messages, extensions, alerts (RFC 9846, RFC 9001). */
export * from './alert.js';
export * from './certs/index.js';
export * from './constants.js';
export * from './extensions/index.js';
export * from './handshake/index.js';
export * from './messages/index.js';
export * from './quic.js';
