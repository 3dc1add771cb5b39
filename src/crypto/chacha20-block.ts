/**
 * One ChaCha20 block (RFC 8439 §2.3), reduced to what QUIC header protection needs: the first
 * five keystream bytes for a given counter and nonce (RFC 9001 §5.4.4). Written from RFC 8439
 * because both library routes cost more than the block itself: node:crypto needs a new
 * `createCipheriv('chacha20')` per packet (~1.7 us) and @noble/ciphers `chacha20` allocates per
 * call (~1.3 us) and refuses counter 0xffffffff, a value a 16-byte sample can take. This function
 * works on local variables only: no allocation, no table lookups (ARX is constant-time).
 */

/** The ChaCha20 constant "expand 32-byte k" as four little-endian words (RFC 8439 §2.3). */
const C0 = 0x61707865;
const C1 = 0x3320646e;
const C2 = 0x79622d32;
const C3 = 0x6b206574;

/** Reads a little-endian u32 at `off`. */
function le32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

/** Splits a 32-byte key into eight little-endian words, once per key. */
export function chacha20KeyWords(key: Uint8Array): Uint32Array {
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = le32(key, i * 4);
  return words;
}

/**
 * Writes the first five bytes of the ChaCha20 block for `key` with counter = LE u32 of
 * `input[inOff .. inOff+4]` and nonce = `input[inOff+4 .. inOff+16]` into `out[outOff ..]`.
 * For header protection, `input[inOff ..]` is the 16-byte ciphertext sample; the mask is the
 * encryption of five zero bytes, which is the keystream itself.
 */
export function chacha20Mask5(
  key: Uint32Array,
  input: Uint8Array,
  inOff: number,
  out: Uint8Array,
  outOff: number,
): void {
  const k0 = key[0];
  const k1 = key[1];
  const k2 = key[2];
  const k3 = key[3];
  const k4 = key[4];
  const k5 = key[5];
  const k6 = key[6];
  const k7 = key[7];
  const ctr = le32(input, inOff);
  const n0 = le32(input, inOff + 4);
  const n1 = le32(input, inOff + 8);
  const n2 = le32(input, inOff + 12);
  // State layout (RFC 8439 §2.3): cccc kkkk kkkk bnnn
  let x0 = C0;
  let x1 = C1;
  let x2 = C2;
  let x3 = C3;
  let x4 = k0;
  let x5 = k1;
  let x6 = k2;
  let x7 = k3;
  let x8 = k4;
  let x9 = k5;
  let x10 = k6;
  let x11 = k7;
  let x12 = ctr;
  let x13 = n0;
  let x14 = n1;
  let x15 = n2;
  // 20 rounds = 10 double rounds: four column quarter-rounds, then four diagonal ones
  // (RFC 8439 §2.1: a += b; d ^= a; d <<<= 16; c += d; b ^= c; b <<<= 12; ... 8; ... 7).
  for (let i = 0; i < 10; i++) {
    // QR(0, 4, 8, 12)
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 16) | (x12 >>> 16);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 12) | (x4 >>> 20);
    x0 = (x0 + x4) | 0;
    x12 ^= x0;
    x12 = (x12 << 8) | (x12 >>> 24);
    x8 = (x8 + x12) | 0;
    x4 ^= x8;
    x4 = (x4 << 7) | (x4 >>> 25);
    // QR(1, 5, 9, 13)
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 16) | (x13 >>> 16);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 12) | (x5 >>> 20);
    x1 = (x1 + x5) | 0;
    x13 ^= x1;
    x13 = (x13 << 8) | (x13 >>> 24);
    x9 = (x9 + x13) | 0;
    x5 ^= x9;
    x5 = (x5 << 7) | (x5 >>> 25);
    // QR(2, 6, 10, 14)
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 16) | (x14 >>> 16);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 12) | (x6 >>> 20);
    x2 = (x2 + x6) | 0;
    x14 ^= x2;
    x14 = (x14 << 8) | (x14 >>> 24);
    x10 = (x10 + x14) | 0;
    x6 ^= x10;
    x6 = (x6 << 7) | (x6 >>> 25);
    // QR(3, 7, 11, 15)
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 16) | (x15 >>> 16);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 12) | (x7 >>> 20);
    x3 = (x3 + x7) | 0;
    x15 ^= x3;
    x15 = (x15 << 8) | (x15 >>> 24);
    x11 = (x11 + x15) | 0;
    x7 ^= x11;
    x7 = (x7 << 7) | (x7 >>> 25);
    // QR(0, 5, 10, 15)
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 16) | (x15 >>> 16);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 12) | (x5 >>> 20);
    x0 = (x0 + x5) | 0;
    x15 ^= x0;
    x15 = (x15 << 8) | (x15 >>> 24);
    x10 = (x10 + x15) | 0;
    x5 ^= x10;
    x5 = (x5 << 7) | (x5 >>> 25);
    // QR(1, 6, 11, 12)
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 16) | (x12 >>> 16);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 12) | (x6 >>> 20);
    x1 = (x1 + x6) | 0;
    x12 ^= x1;
    x12 = (x12 << 8) | (x12 >>> 24);
    x11 = (x11 + x12) | 0;
    x6 ^= x11;
    x6 = (x6 << 7) | (x6 >>> 25);
    // QR(2, 7, 8, 13)
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 16) | (x13 >>> 16);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 12) | (x7 >>> 20);
    x2 = (x2 + x7) | 0;
    x13 ^= x2;
    x13 = (x13 << 8) | (x13 >>> 24);
    x8 = (x8 + x13) | 0;
    x7 ^= x8;
    x7 = (x7 << 7) | (x7 >>> 25);
    // QR(3, 4, 9, 14)
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 16) | (x14 >>> 16);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 12) | (x4 >>> 20);
    x3 = (x3 + x4) | 0;
    x14 ^= x3;
    x14 = (x14 << 8) | (x14 >>> 24);
    x9 = (x9 + x14) | 0;
    x4 ^= x9;
    x4 = (x4 << 7) | (x4 >>> 25);
  }
  // Keystream word = working state + input state (RFC 8439 §2.3), serialized little-endian.
  // Only words 0 and 1 are needed for five bytes.
  const w0 = (x0 + C0) | 0;
  const w1 = (x1 + C1) | 0;
  out[outOff] = w0 & 0xff;
  out[outOff + 1] = (w0 >>> 8) & 0xff;
  out[outOff + 2] = (w0 >>> 16) & 0xff;
  out[outOff + 3] = w0 >>> 24;
  out[outOff + 4] = w1 & 0xff;
}
