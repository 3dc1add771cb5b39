/** HTTP/3 codec layer (RFC 9114): error codes, stream types, frames, SETTINGS, frame parser. */
export * from './errors.js';
export * from './frame-parser.js';
export * from './frame-types.js';
export * from './frames.js';
export * from './grease.js';
export * from './settings.js';
export * from './stream-prefix.js';
export * from './stream-types.js';
