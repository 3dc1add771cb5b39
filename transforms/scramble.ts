/**
 * The `scramble` transform (quic-proxy §"The scramble transform"), registered under the wire
 * name "scramble-dt" (see registry.ts): length-preserving, unauthenticated re-encryption of a
 * short-header packet that keeps the CID and clears the Header Form bit.
 *
 *   k1, k2     = key[0:16], key[16:32]
 *   iv         = packet[L+1 : L+17]                  (the 16 bytes after the CID)
 *   ctr_input  = packet[0] | packet[L+17 :]
 *   ctr_output = AES-128-CTR(k1, iv, ctr_input)      (full 128-bit big-endian counter increment)
 *   encode     = (ctr_output[0] & 0x7f) | cid | AES-ECB(k2, iv) | ctr_output[1:]
 *   decode     : iv = AES-ECB-inv(k2, packet[L+1 : L+17]), then the same CTR step, output
 *                (ctr_output[0] & 0x7f) | cid | iv | ctr_output[1:]
 *
 * Implementation choice, by measurement (bench/scramble.bench.ts; Node 20.20, 2-vCPU AMD EPYC
 * with AES-NI; 1200-byte packet, 20-byte CID, in place; median ns per packet, two quiet runs):
 *
 *   chosen: long-lived ECB contexts, counters built in JS    encode 2,700-3,800  decode 2,700-3,700
 *   createCipheriv('aes-128-ctr') per packet + k2 ECB        encode 6,800-6,900
 *   @noble/ciphers ctr() + ecb() per packet (public API)     encode ~17,900
 *   @noble/ciphers low-level, key schedules expanded once    encode 14,900-21,900
 *   Buffer.copy of 1200 bytes (baseline)                     45-48
 *
 * With the machine loaded (load average ~10) every row was 3-5x slower and the chosen one still
 * led (~10,000 against 13,000-19,000). Pure-JS AES costs ~12 ns per byte here, which rules noble
 * out; a node:crypto cipher costs microseconds to create (OpenSSL context and key schedule), which
 * rules out a context per packet. So all three AES contexts are created once per key:
 * `aes-128-ecb` with k1 turns a scratch buffer of counter blocks into the CTR keystream in one
 * `update` per packet (~1,000 ns for 74 blocks, most of it call overhead), and `aes-128-ecb`
 * cipher and decipher contexts with k2 handle the IV block (~400 ns, all call overhead). Padding
 * is off on all three, so `update` of whole blocks returns them at once (a padded decipher holds
 * the last block back until `final`) and the contexts never accumulate state. Building the
 * counters costs ~100 ns; the keystream is XORed into the packet four bytes at a time through
 * DataViews (~500 ns; byte by byte was ~1,000 ns). Per packet, only the Buffers `update` returns
 * and a few small views are allocated.
 */
import { type Cipher, createCipheriv, createDecipheriv, type Decipher } from 'node:crypto';
import { type NativeScrambleHandle, nativeBinding } from '../src/crypto/native.js';
import { checkPacket, type PacketTransform, TransformError } from './types.js';

/** Length of a scramble key: k1 (16 bytes) then k2 (16 bytes). */
export const SCRAMBLE_KEY_LENGTH = 32;
/** Bytes after the CID used as the AES-CTR initial counter block. */
export const SCRAMBLE_IV_LENGTH = 16;

const BLOCK = 16;
/** Counter scratch for a full-size UDP payload; grown on demand beyond it. */
const INITIAL_COUNTER_BYTES = 1536;

/** Shortest packet the scramble transform accepts: first byte, CID and a whole IV. */
export function scrambleMinLength(cidLength: number): number {
  return 1 + cidLength + SCRAMBLE_IV_LENGTH;
}

/** Throws BAD_KEY unless `key` is exactly {@link SCRAMBLE_KEY_LENGTH} bytes. */
export function checkScrambleKey(key: Uint8Array | undefined): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== SCRAMBLE_KEY_LENGTH) {
    throw new TransformError(
      'BAD_KEY',
      `scramble needs a ${SCRAMBLE_KEY_LENGTH}-byte key, got ${key ? key.length : 'none'}`,
    );
  }
}

/** True when `out` shares bytes with `packet` without starting at the same byte (OpenSSL allows
 * in place or disjoint only; such calls keep the JavaScript path). */
function overlapsElsewhere(packet: Uint8Array, out: Uint8Array): boolean {
  if (out.buffer !== packet.buffer || out.byteOffset === packet.byteOffset) return false;
  return (
    out.byteOffset < packet.byteOffset + packet.length &&
    packet.byteOffset < out.byteOffset + out.length
  );
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function ecbContext(key: Uint8Array): Cipher {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return c;
}

export class ScrambleTransform implements PacketTransform {
  readonly name = 'scramble-dt';
  /** AES-ECB with k1: encrypts counter blocks into keystream. */
  readonly #k1: Cipher;
  /** AES-ECB with k2, forward: encrypts the IV on encode. */
  readonly #k2Enc: Cipher;
  /** AES-ECB with k2, inverse: recovers the IV on decode. */
  readonly #k2Dec: Decipher;
  /** Counter blocks for the current packet. */
  #counters: Buffer = Buffer.alloc(INITIAL_COUNTER_BYTES);
  #countersView: DataView = viewOf(this.#counters);
  /** The IV (plain on encode, encrypted on decode) copied out before the packet is overwritten. */
  readonly #ivIn = Buffer.alloc(SCRAMBLE_IV_LENGTH);
  /**
   * The native addon's transform when it is loaded (the same bytes, its OpenSSL contexts kept per
   * key: no keystream buffer or Buffer per packet; issue 13, "scramble <= 2 us per packet").
   */
  readonly #native: NativeScrambleHandle | undefined;

  /** @param useNative false keeps the node:crypto path even where the addon is loaded (tests). */
  constructor(key: Uint8Array, useNative = true) {
    checkScrambleKey(key);
    const Native = useNative ? nativeBinding()?.Scramble : undefined;
    this.#native = Native === undefined ? undefined : new Native(key);
    const k1 = key.subarray(0, 16);
    const k2 = key.subarray(16, 32);
    this.#k1 = ecbContext(k1);
    this.#k2Enc = ecbContext(k2);
    this.#k2Dec = createDecipheriv('aes-128-ecb', k2, null);
    this.#k2Dec.setAutoPadding(false);
  }

  minPacketLength(cidLength: number): number {
    return scrambleMinLength(cidLength);
  }

  /** True when the native addon does the work. */
  get native(): boolean {
    return this.#native !== undefined;
  }

  encode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    if (this.#native !== undefined && !overlapsElsewhere(packet, out)) {
      this.#native.apply(false, packet, cidLength, out);
      return;
    }
    const ivOff = 1 + cidLength;
    const iv = this.#ivIn;
    for (let i = 0; i < SCRAMBLE_IV_LENGTH; i++) iv[i] = packet[ivOff + i];
    this.#applyCtr(packet, cidLength, out, iv);
    const encIv = this.#k2Enc.update(iv);
    for (let i = 0; i < SCRAMBLE_IV_LENGTH; i++) out[ivOff + i] = encIv[i];
  }

  decode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    if (this.#native !== undefined && !overlapsElsewhere(packet, out)) {
      this.#native.apply(true, packet, cidLength, out);
      return;
    }
    const ivOff = 1 + cidLength;
    const encIv = this.#ivIn;
    for (let i = 0; i < SCRAMBLE_IV_LENGTH; i++) encIv[i] = packet[ivOff + i];
    const iv = this.#k2Dec.update(encIv);
    this.#applyCtr(packet, cidLength, out, iv);
    for (let i = 0; i < SCRAMBLE_IV_LENGTH; i++) out[ivOff + i] = iv[i];
  }

  /**
   * out[0] = (packet[0] ^ ks[0]) & 0x7f; out[L+17+i] = packet[L+17+i] ^ ks[1+i]; copies the CID
   * when writing elsewhere. Reads of `packet` precede writes at each index, so in place is safe.
   */
  #applyCtr(packet: Uint8Array, cidLength: number, out: Uint8Array, iv: Uint8Array): void {
    const restOff = 1 + cidLength + SCRAMBLE_IV_LENGTH;
    const n = packet.length;
    // ctr_input is packet[0] followed by packet[L+17:].
    const ks = this.#keystream(iv, 1 + n - restOff);
    // Header Form bit cleared: RFC 8999 §5.2 (quic-proxy: "header = ctr_output[0] & 0x7F").
    out[0] = (packet[0] ^ ks[0]) & 0x7f;
    if (out !== packet) {
      for (let i = 1; i <= cidLength; i++) out[i] = packet[i];
    }
    xorInto(packet, out, restOff, n - restOff, ks);
  }

  /** AES-CTR keystream of at least `len` bytes starting at counter block `iv`. */
  #keystream(iv: Uint8Array, len: number): Buffer {
    const blocks = Math.ceil(len / BLOCK);
    const bytes = blocks * BLOCK;
    if (bytes > this.#counters.length) {
      this.#counters = Buffer.alloc(bytes);
      this.#countersView = viewOf(this.#counters);
    }
    const dv = this.#countersView;
    // The counter block as four big-endian 32-bit words w0..w3 (w3 least significant).
    let w0 = ((iv[0] << 24) | (iv[1] << 16) | (iv[2] << 8) | iv[3]) >>> 0;
    let w1 = ((iv[4] << 24) | (iv[5] << 16) | (iv[6] << 8) | iv[7]) >>> 0;
    let w2 = ((iv[8] << 24) | (iv[9] << 16) | (iv[10] << 8) | iv[11]) >>> 0;
    let w3 = ((iv[12] << 24) | (iv[13] << 16) | (iv[14] << 8) | iv[15]) >>> 0;
    for (let off = 0; off < bytes; off += BLOCK) {
      dv.setUint32(off, w0);
      dv.setUint32(off + 4, w1);
      dv.setUint32(off + 8, w2);
      dv.setUint32(off + 12, w3);
      // SP 800-38A Appendix B.1 standard incrementing function over the full 128-bit block
      // (quic-proxy: "incremented ... on the full block width"), wrapping at 2^128.
      w3 = (w3 + 1) >>> 0;
      if (w3 === 0) {
        w2 = (w2 + 1) >>> 0;
        if (w2 === 0) {
          w1 = (w1 + 1) >>> 0;
          if (w1 === 0) w0 = (w0 + 1) >>> 0;
        }
      }
    }
    return this.#k1.update(this.#counters.subarray(0, bytes));
  }
}

/**
 * out[off+i] = src[off+i] ^ ks[1+i] for i in 0..len. Four bytes at a time through DataViews
 * (unaligned access is fine there), then the tail byte by byte.
 */
function xorInto(src: Uint8Array, out: Uint8Array, off: number, len: number, ks: Buffer): void {
  const words = len >>> 2;
  if (words > 0) {
    const s = new DataView(src.buffer, src.byteOffset + off, words * 4);
    const d = out === src ? s : new DataView(out.buffer, out.byteOffset + off, words * 4);
    const k = new DataView(ks.buffer, ks.byteOffset + 1, words * 4);
    for (let i = 0; i < words * 4; i += 4) {
      d.setUint32(i, s.getUint32(i, true) ^ k.getUint32(i, true), true);
    }
  }
  for (let i = words * 4; i < len; i++) out[off + i] = src[off + i] ^ ks[1 + i];
}
