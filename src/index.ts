/** Public entry point of the `masque` package. */
export * from './wire/index.js';
