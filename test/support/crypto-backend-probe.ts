/**
 * Prints, as one JSON line, which crypto backend a fresh process picks and which classes the
 * packet-path factories return (test/crypto/native.test.ts runs it with and without
 * MASQUE_NATIVE=0, since the choice is made once at module load).
 */
import { createAead, createHeaderProtection, cryptoBackend } from '../../src/crypto/index.js';

const aead = createAead(0x1301, new Uint8Array(16));
const hp = createHeaderProtection(0x1301, new Uint8Array(16));
process.stdout.write(
  `${JSON.stringify({ backend: cryptoBackend(), aead: aead.constructor.name, hp: hp.constructor.name })}\n`,
);
