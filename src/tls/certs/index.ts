/** Certificates for the TLS handshake: validation, signatures, and development certificates. */
export * from './dev-cert.js';
export * from './pem.js';
export * from './signature.js';
export * from './verify.js';
