/**
 * The three AEADs of the TLS 1.3 suites QUIC uses (RFC 9001 §5.3): AES-128-GCM (0x1301),
 * AES-256-GCM (0x1302) and ChaCha20-Poly1305 (0x1303), behind one interface. This is THE packet
 * hot path: every QUIC packet is sealed or opened once.
 *
 * Choice by measurement (`bench/crypto.bench.ts`, Node 20.20, 2-core dev VM, median ns per
 * seal with a 20-byte AAD; ranges over three runs on a quiet machine):
 *
 *   | case                      | node:crypto   | @noble/ciphers  | node faster by |
 *   |---------------------------|---------------|-----------------|----------------|
 *   | AES-128-GCM 1200 B        | 3,900-4,100   | 40,000-54,000   | ~10-13x        |
 *   | AES-128-GCM   50 B        | 2,900-3,400   | 14,000-29,000   | ~4-7x          |
 *   | AES-256-GCM 1200 B        | 4,800-5,400   | 46,000-49,000   | ~9-10x         |
 *   | ChaCha20-Poly1305 1200 B  | 4,000-6,300   | 16,800-50,000   | ~4-8x          |
 *   | ChaCha20-Poly1305   50 B  | 3,700-4,200   |  6,300-8,400    | ~1.7-2x        |
 *   | AES-128-GCM open 1200 B   | 3,400-3,900   |                 |                |
 *
 * node:crypto wins every case despite its fixed cost (a new Cipheriv per packet, since a GCM
 * context cannot be re-keyed with a new IV: about 3 us, the whole cost at 50 bytes). So all three
 * use node:crypto; @noble/ciphers is used only by the bench and the tests (as an independent
 * reference implementation).
 *
 * Also measured (issue 13, Node 20.20, loaded 2-core VM, two runs), for AES-128-GCM seal:
 * a raw Buffer key instead of the KeyObject changes nothing (1200 B: 3,655-8,957 vs
 * 3,643-5,712 ns); a "cached context" built once per key (a reused AES-ECB Cipheriv producing
 * the counter-mode keystream in one update(), noble's GHASH with its per-key table) costs
 * 17,700-25,000 ns at 1200 B (4.4-4.9x node's) and 3,400-4,700 ns at 50 B (0.6-1.3x): GHASH in
 * JavaScript loses to OpenSSL's at tunnel packet sizes, so per-packet Cipheriv stays.
 *
 * Allocation discipline: the key is imported once as a `KeyObject` (`createSecretKey`), the
 * cipher options object is a module constant, and there are no per-packet closures. node:crypto
 * forces one Buffer per `update()` and one for the tag; `sealInto`/`openInto` copy those into the
 * caller's buffer so a packet can be protected in place.
 *
 * Native accelerator (issue 13): where the optional addon is built (native/, loaded by
 * native.ts), {@link createAead} returns a {@link NativeAead} instead: OpenSSL EVP contexts
 * (one per suite and direction, shared by the keys and re-keyed only when another key ran last;
 * issue 10: an idle connection holds no OpenSSL state), each packet only re-initialising one
 * with its nonce, sealed in place, opened
 * through a scratch buffer that reaches the output only after the tag verified. Same interface,
 * same errors, byte-identical output (test/crypto/native.test.ts); `MASQUE_NATIVE=0` keeps
 * node:crypto. Measured (same bench, 3 runs, loaded VM): AES-128-GCM seal 1200 B 675-863 ns
 * against 5,900-7,400 for node:crypto, 50 B 412-415 against 3,800-4,900; ChaCha20-Poly1305 1200 B
 * 1,154-1,574 against 4,300-4,800. About 400 ns of each call is the N-API boundary. More in
 * bench/README.md ("Native accelerator"). Made with the packet IV, its key also seals a whole
 * packet (AEAD and header protection) or opens one in a single call: see
 * {@link nativeAeadHandle} and packet-protector.ts.
 *
 * Failure policy: `open`/`openInto` THROW {@link AeadError} when authentication fails (they do
 * not return null), and never write unauthenticated plaintext to the output.
 */
import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import { AeadError, CryptoError } from './errors.js';
import {
  type CryptoBackend,
  loadNativeAddon,
  type NativeAeadHandle,
  type NativeBinding,
  nativeBinding,
} from './native.js';
import { CipherSuite, suiteParams } from './suites.js';

/** Authentication tag length of every supported AEAD (RFC 9001 §5.3). */
export const AEAD_TAG_LENGTH = 16;
/** Nonce length of every supported AEAD. */
export const AEAD_NONCE_LENGTH = 12;

/** One key of one AEAD. Stateless apart from the key: safe to share between packets. */
export interface Aead {
  /** The cipher suite this AEAD belongs to. */
  readonly suite: CipherSuite;
  /**
   * Encrypts `plaintext` and returns a new `ciphertext | tag` (plaintext.length + 16 bytes).
   */
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /**
   * Encrypts `plaintext` into `out[outOffset ..]` as `ciphertext | tag` and returns the bytes
   * written (plaintext.length + 16). `plaintext` may alias `out` at `outOffset` (in place).
   */
  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /** Decrypts `ciphertext | tag` and returns the plaintext; throws {@link AeadError}. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /**
   * Decrypts `ciphertext | tag` into `out[outOffset ..]` and returns the plaintext length
   * (ciphertext.length - 16). `ciphertext` may alias `out` at `outOffset`. Throws
   * {@link AeadError} on authentication failure, leaving `out` untouched.
   */
  openInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number;
}

const TAG_OPTIONS = { authTagLength: AEAD_TAG_LENGTH } as const;

type GcmAlgorithm = 'aes-128-gcm' | 'aes-256-gcm';

/** `seal` and `open` in terms of the in-place methods, shared by both backends. */
abstract class BaseAead implements Aead {
  abstract readonly suite: CipherSuite;

  /** Seals into `out` at `outOffset`, the arguments checked (room for plaintext + tag). */
  protected abstract sealChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): void;

  /**
   * Opens into `out` at `outOffset`, the arguments checked (room for `ptLength` bytes); false,
   * with nothing written, when the tag does not verify.
   */
  protected abstract openChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    ptLength: number,
    out: Uint8Array,
    outOffset: number,
  ): boolean;

  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    checkNonce(nonce);
    const total = plaintext.length + AEAD_TAG_LENGTH;
    checkRoom(out, outOffset, total);
    this.sealChecked(nonce, aad, plaintext, out, outOffset);
    return total;
  }

  openInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number {
    checkNonce(nonce);
    const ptLength = ciphertext.length - AEAD_TAG_LENGTH;
    if (ptLength < 0) throw new AeadError('ciphertext shorter than tag');
    checkRoom(out, outOffset, ptLength);
    if (!this.openChecked(nonce, aad, ciphertext, ptLength, out, outOffset)) throw new AeadError();
    return ptLength;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const out = new Uint8Array(plaintext.length + AEAD_TAG_LENGTH);
    this.sealInto(nonce, aad, plaintext, out, 0);
    return out;
  }

  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (ciphertext.length < AEAD_TAG_LENGTH) throw new AeadError('ciphertext shorter than tag');
    const out = new Uint8Array(ciphertext.length - AEAD_TAG_LENGTH);
    this.openInto(nonce, aad, ciphertext, out, 0);
    return out;
  }
}

/** node:crypto implementation of all three AEADs. */
class NodeAead extends BaseAead {
  readonly suite: CipherSuite;
  readonly #key: KeyObject;
  /** The GCM algorithm name, or null for ChaCha20-Poly1305. */
  readonly #gcm: GcmAlgorithm | null;

  constructor(suite: CipherSuite, key: Uint8Array) {
    super();
    this.suite = suite;
    this.#key = createSecretKey(key);
    this.#gcm =
      suite === CipherSuite.TLS_CHACHA20_POLY1305_SHA256
        ? null
        : suite === CipherSuite.TLS_AES_128_GCM_SHA256
          ? 'aes-128-gcm'
          : 'aes-256-gcm';
  }

  protected sealChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): void {
    // Typed as CipherGCM: @types/node marks setAAD's options as required for ChaCha20-Poly1305,
    // node only needs them for CCM.
    const cipher: CipherGCM =
      this.#gcm === null
        ? createCipheriv('chacha20-poly1305', this.#key, nonce, TAG_OPTIONS)
        : createCipheriv(this.#gcm, this.#key, nonce, TAG_OPTIONS);
    cipher.setAAD(aad);
    // update() returns a fresh Buffer before anything is written, so in-place use is safe.
    const ct = cipher.update(plaintext);
    const rest = cipher.final(); // empty for both GCM and ChaCha20-Poly1305
    out.set(ct, outOffset);
    if (rest.length > 0) out.set(rest, outOffset + ct.length);
    out.set(cipher.getAuthTag(), outOffset + plaintext.length);
  }

  protected openChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    ptLength: number,
    out: Uint8Array,
    outOffset: number,
  ): boolean {
    const decipher: DecipherGCM =
      this.#gcm === null
        ? createDecipheriv('chacha20-poly1305', this.#key, nonce, TAG_OPTIONS)
        : createDecipheriv(this.#gcm, this.#key, nonce, TAG_OPTIONS);
    decipher.setAuthTag(ciphertext.subarray(ptLength));
    decipher.setAAD(aad);
    const pt = decipher.update(ciphertext.subarray(0, ptLength));
    try {
      decipher.final();
    } catch {
      // node reports "Unsupported state or unable to authenticate data"; nothing was written.
      return false;
    }
    out.set(pt, outOffset);
    return true;
  }
}

/**
 * The native addon's shared OpenSSL contexts (RFC 9001 §5.3: per packet only the nonce changes;
 * the key only when another key used the context last). Arguments are checked here first so that errors are the same
 * `CryptoError`s as node:crypto's path; the addon checks them again and would throw a
 * TypeError / RangeError rather than touch memory out of range.
 */
class NativeAead extends BaseAead {
  readonly suite: CipherSuite;
  readonly #ctx: NativeAeadHandle;

  constructor(suite: CipherSuite, key: Uint8Array, binding: NativeBinding, iv?: Uint8Array) {
    super();
    this.suite = suite;
    this.#ctx = iv === undefined ? new binding.Aead(suite, key) : new binding.Aead(suite, key, iv);
  }

  /** The addon's key object behind `aead`, or undefined when `aead` is not a NativeAead. */
  static handleOf(aead: Aead): NativeAeadHandle | undefined {
    return #ctx in aead ? aead.#ctx : undefined;
  }

  protected sealChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): void {
    this.#ctx.sealInto(nonce, aad, plaintext, out, outOffset);
  }

  protected openChecked(
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
    _ptLength: number,
    out: Uint8Array,
    outOffset: number,
  ): boolean {
    // -1: the tag did not verify and the addon wrote nothing.
    return this.#ctx.openInto(nonce, aad, ciphertext, out, outOffset) >= 0;
  }
}

/**
 * Creates the AEAD of `suite` keyed with `key` (16 bytes for 0x1301, 32 otherwise), on the
 * native addon when it is loaded (see native.ts), else on node:crypto. `iv`, the packet IV
 * (12 bytes), is handed to the addon's key for its one-call packet methods (see
 * {@link nativeAeadHandle}); the `Aead` methods take their nonce per call either way.
 */
export function createAead(suite: CipherSuite, key: Uint8Array, iv?: Uint8Array): Aead {
  const binding = nativeBinding();
  const id = checkKey(suite, key);
  return binding === undefined ? new NodeAead(id, key) : new NativeAead(id, key, binding, iv);
}

/**
 * The AEAD on a chosen backend, whatever `MASQUE_NATIVE` says: for tests and benches comparing
 * the two. Throws `CryptoError('INVALID_ARGUMENT')` when `'native'` is asked for and the addon
 * is not built.
 */
export function createAeadOn(
  backend: CryptoBackend,
  suite: CipherSuite,
  key: Uint8Array,
  iv?: Uint8Array,
): Aead {
  const id = checkKey(suite, key);
  if (backend === 'node:crypto') return new NodeAead(id, key);
  const binding = loadNativeAddon();
  if (binding === undefined) {
    throw new CryptoError('INVALID_ARGUMENT', 'the native addon is not built');
  }
  return new NativeAead(id, key, binding, iv);
}

/**
 * The addon's key object behind an AEAD made on the native backend, for callers that protect a
 * whole packet in one call into the addon (packet-protector.ts); undefined for node:crypto.
 */
export function nativeAeadHandle(aead: Aead): NativeAeadHandle | undefined {
  return NativeAead.handleOf(aead);
}

function checkKey(suite: CipherSuite, key: Uint8Array): CipherSuite {
  const params = suiteParams(suite);
  if (key.length !== params.keyLength) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      `${params.name} needs a ${params.keyLength}-byte key, got ${key.length}`,
    );
  }
  return params.id;
}

function checkNonce(nonce: Uint8Array): void {
  // GCM in node:crypto accepts any IV length; QUIC nonces are always 12 bytes (RFC 9001 §5.3).
  if (nonce.length !== AEAD_NONCE_LENGTH) {
    throw new CryptoError('INVALID_ARGUMENT', `AEAD nonce of ${nonce.length} bytes, need 12`);
  }
}

function checkRoom(out: Uint8Array, offset: number, length: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new CryptoError(
      'INVALID_ARGUMENT',
      `output needs ${length} bytes at ${offset}, has ${out.length}`,
    );
  }
}
