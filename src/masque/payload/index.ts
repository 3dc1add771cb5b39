/** MASQUE HTTP Datagram payload codecs. */
export * from './bind.js';
