/** MASQUE capsule codecs: connect-udp-bind compression (0x11-0x13) and quic-proxy CIDs. */
export * from './compression.js';
export * from './quic-proxy.js';
