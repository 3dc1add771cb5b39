/**
 * QUIC header protection (RFC 9001 §5.4): a 5-byte mask computed from a 16-byte sample of the
 * ciphertext hides the low bits of the first byte and the packet number.
 *
 * Choice by measurement (`bench/crypto.bench.ts`, Node 20.20, median ns per 5-byte mask):
 * - AES (0x1301, 0x1302): one long-lived node:crypto `aes-128-ecb` / `aes-256-ecb` Cipheriv with
 *   auto-padding off, reused for every packet: `update(sample)` returns the encrypted block at
 *   once (ECB keeps no state between blocks). ~390-430 ns (most of it the Buffer node returns),
 *   against ~1,800 ns for a new Cipheriv per packet and ~1,000 ns for @noble/ciphers `ecb`
 *   (whose public API expands the key on every call). apply + remove together: ~0.9 us.
 * - ChaCha20 (0x1303): a single ChaCha20 block computed in local variables (chacha20-block.ts):
 *   apply + remove ~215 ns, i.e. ~105 ns per mask, against ~1,750 ns per mask for node:crypto
 *   `createCipheriv('chacha20', key, sample)` and ~1,200-1,400 ns for @noble/ciphers `chacha20`.
 *   noble also rejects the block counter 0xffffffff, which a sample holds once in 2^32 packets.
 *   The own block is checked against the RFC 8439 §2.3.2 block and against node:crypto for
 *   random keys and samples in test/crypto/header-protection.test.ts.
 * - With the native addon (issue 13, native.ts): AES apply + remove 307-310 ns against 990-1,800
 *   for the reused node:crypto context (no Buffer per mask), so AES uses it where it is built;
 *   ChaCha20 through the addon costs 560-575 ns against 215-330 for the own block, so ChaCha20
 *   stays in JavaScript on both backends.
 */
import { type Cipher, createCipheriv, createSecretKey } from 'node:crypto';
import { chacha20KeyWords, chacha20Mask5 } from './chacha20-block.js';
import { CryptoError } from './errors.js';
import {
  type CryptoBackend,
  loadNativeAddon,
  type NativeBinding,
  type NativeHeaderProtectionHandle,
  nativeBinding,
} from './native.js';
import { CipherSuite, suiteParams } from './suites.js';

/** Bytes of ciphertext sampled (RFC 9001 §5.4.2: 16 for every suite QUIC defines). */
export const HP_SAMPLE_LENGTH = 16;
/** The sample starts 4 bytes after the packet number offset (RFC 9001 §5.4.2). */
export const HP_SAMPLE_OFFSET = 4;

/** Header protection keyed with one "quic hp" key. Not updated on key update (RFC 9001 §6). */
export interface HeaderProtection {
  /** The cipher suite. */
  readonly suite: CipherSuite;
  /** The 5-byte mask for a 16-byte `sample` (allocates; for tests and tools). */
  mask(sample: Uint8Array): Uint8Array;
  /**
   * Protects `packet` in place: masks the low 4 (long header) or 5 (short header) bits of
   * `packet[0]` and the packet number bytes at `pnOffset`, whose count is read from the
   * unprotected first byte. Throws `CryptoError('SAMPLE_TOO_SHORT')` when `packet` ends before
   * `pnOffset + 4 + 16`.
   */
  apply(packet: Uint8Array, pnOffset: number): void;
  /**
   * Removes protection in place and returns the packet number length (1-4) read from the
   * unmasked first byte. Same sample rule as {@link apply}: RFC 9001 §5.4.2 "An endpoint MUST
   * discard packets that are not long enough to contain a complete sample."
   */
  remove(packet: Uint8Array, pnOffset: number): number;
}

/**
 * The current mask, shared by every key of this thread: a mask is computed and used within one
 * synchronous call and never escapes, so one buffer serves all. Per key it would cost an
 * ArrayBuffer each (an off-heap one once the native addon has seen it, issue 10).
 */
const MASK = new Uint8Array(5);

/** Shared masking logic; subclasses only compute the mask into {@link MASK}. */
abstract class BaseHeaderProtection implements HeaderProtection {
  abstract readonly suite: CipherSuite;

  /** Writes the mask for the sample at `buf[sampleOffset ..]` into {@link MASK}. */
  protected abstract computeMask(buf: Uint8Array, sampleOffset: number): void;

  mask(sample: Uint8Array): Uint8Array {
    if (sample.length < HP_SAMPLE_LENGTH) {
      throw new CryptoError('SAMPLE_TOO_SHORT', `sample of ${sample.length} bytes, need 16`);
    }
    this.computeMask(sample, 0);
    return MASK.slice();
  }

  apply(packet: Uint8Array, pnOffset: number): void {
    const sampleOffset = this.#sampleOffset(packet, pnOffset);
    const pnLength = (packet[0] & 0x03) + 1; // read before masking hides it
    this.computeMask(packet, sampleOffset);
    this.#maskFirstByte(packet);
    this.#maskPn(packet, pnOffset, pnLength);
  }

  remove(packet: Uint8Array, pnOffset: number): number {
    const sampleOffset = this.#sampleOffset(packet, pnOffset);
    this.computeMask(packet, sampleOffset);
    this.#maskFirstByte(packet);
    const pnLength = (packet[0] & 0x03) + 1; // read after unmasking reveals it
    this.#maskPn(packet, pnOffset, pnLength);
    return pnLength;
  }

  #maskFirstByte(packet: Uint8Array): void {
    // Long header (0x80 set): 4 protected bits; short header: 5 (RFC 9001 §5.4.1).
    packet[0] ^= MASK[0] & ((packet[0] & 0x80) !== 0 ? 0x0f : 0x1f);
  }

  #maskPn(packet: Uint8Array, pnOffset: number, pnLength: number): void {
    const m = MASK;
    for (let i = 0; i < pnLength; i++) packet[pnOffset + i] ^= m[1 + i];
  }

  #sampleOffset(packet: Uint8Array, pnOffset: number): number {
    if (!Number.isInteger(pnOffset) || pnOffset < 1) {
      throw new CryptoError('INVALID_ARGUMENT', `packet number offset ${pnOffset}`);
    }
    const sampleOffset = pnOffset + HP_SAMPLE_OFFSET;
    if (sampleOffset + HP_SAMPLE_LENGTH > packet.length) {
      throw new CryptoError(
        'SAMPLE_TOO_SHORT',
        `packet of ${packet.length} bytes too short for a sample at ${sampleOffset}`,
      );
    }
    return sampleOffset;
  }
}

/** AES-ECB of the sample, first five bytes (RFC 9001 §5.4.3). */
class AesHeaderProtection extends BaseHeaderProtection {
  readonly suite: CipherSuite;
  readonly #ecb: Cipher;

  constructor(suite: CipherSuite, key: Uint8Array) {
    super();
    this.suite = suite;
    const algorithm = key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb';
    // One context for the key's lifetime: ECB has no chaining, and with padding off every
    // 16-byte update() yields exactly its 16-byte block and leaves nothing buffered.
    this.#ecb = createCipheriv(algorithm, createSecretKey(key), null).setAutoPadding(false);
  }

  protected computeMask(buf: Uint8Array, sampleOffset: number): void {
    const block = this.#ecb.update(buf.subarray(sampleOffset, sampleOffset + HP_SAMPLE_LENGTH));
    const m = MASK;
    m[0] = block[0];
    m[1] = block[1];
    m[2] = block[2];
    m[3] = block[3];
    m[4] = block[4];
  }
}

/** ChaCha20 with counter = sample[0..4] (LE) and nonce = sample[4..16] (RFC 9001 §5.4.4). */
class ChaChaHeaderProtection extends BaseHeaderProtection {
  readonly suite: CipherSuite = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
  readonly #key: Uint32Array;

  constructor(key: Uint8Array) {
    super();
    this.#key = chacha20KeyWords(key);
  }

  protected computeMask(buf: Uint8Array, sampleOffset: number): void {
    chacha20Mask5(this.#key, buf, sampleOffset, MASK, 0);
  }
}

/**
 * The mask from the native addon's shared OpenSSL context (AES-ECB, RFC 9001 §5.4.3;
 * ChaCha20 re-initialised with the sample as counter and nonce, §5.4.4), written straight into
 * {@link MASK}: no Buffer per packet.
 */
class NativeHeaderProtection extends BaseHeaderProtection {
  readonly suite: CipherSuite;
  readonly #ctx: NativeHeaderProtectionHandle;

  constructor(suite: CipherSuite, key: Uint8Array, binding: NativeBinding) {
    super();
    this.suite = suite;
    this.#ctx = new binding.HeaderProtection(suite, key);
  }

  /** The addon's key object behind `hp`, or undefined when `hp` is not a NativeHeaderProtection. */
  static handleOf(hp: HeaderProtection): NativeHeaderProtectionHandle | undefined {
    return #ctx in hp ? hp.#ctx : undefined;
  }

  protected computeMask(buf: Uint8Array, sampleOffset: number): void {
    this.#ctx.mask(buf, sampleOffset, MASK, 0);
  }
}

/**
 * The addon's key object behind header protection made on the native backend, for the one-call
 * packet seal (packet-protector.ts); undefined for the JavaScript and node:crypto classes.
 */
export function nativeHeaderProtectionHandle(
  hp: HeaderProtection,
): NativeHeaderProtectionHandle | undefined {
  return NativeHeaderProtection.handleOf(hp);
}

/**
 * Header protection for `suite` with the "quic hp" key `hpKey`: AES on the native addon when
 * it is loaded (native.ts), else node:crypto; ChaCha20 on the own block in JavaScript either way
 * (it is faster than a call into the addon, see the header).
 */
export function createHeaderProtection(suite: CipherSuite, hpKey: Uint8Array): HeaderProtection {
  const id = checkHpKey(suite, hpKey);
  if (id === CipherSuite.TLS_CHACHA20_POLY1305_SHA256) return new ChaChaHeaderProtection(hpKey);
  const binding = nativeBinding();
  return binding === undefined
    ? new AesHeaderProtection(id, hpKey)
    : new NativeHeaderProtection(id, hpKey, binding);
}

/**
 * Header protection on a chosen backend, whatever `MASQUE_NATIVE` says (for tests and benches):
 * `'native'` is the addon for every suite, ChaCha20 included, and throws
 * `CryptoError('INVALID_ARGUMENT')` when the addon is not built.
 */
export function createHeaderProtectionOn(
  backend: CryptoBackend,
  suite: CipherSuite,
  hpKey: Uint8Array,
): HeaderProtection {
  const id = checkHpKey(suite, hpKey);
  if (backend === 'node:crypto') {
    return id === CipherSuite.TLS_CHACHA20_POLY1305_SHA256
      ? new ChaChaHeaderProtection(hpKey)
      : new AesHeaderProtection(id, hpKey);
  }
  const binding = loadNativeAddon();
  if (binding === undefined) {
    throw new CryptoError('INVALID_ARGUMENT', 'the native addon is not built');
  }
  return new NativeHeaderProtection(id, hpKey, binding);
}

function checkHpKey(suite: CipherSuite, hpKey: Uint8Array): CipherSuite {
  const params = suiteParams(suite);
  if (hpKey.length !== params.hpKeyLength) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      `${params.name} header protection needs a ${params.hpKeyLength}-byte key, got ${hpKey.length}`,
    );
  }
  return params.id;
}
