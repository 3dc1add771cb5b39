/**
 * The optional native accelerator (issue 13): an N-API addon (native/masque_native.c, built by
 * scripts/build-native.mjs at install) running OpenSSL EVP contexts, so a packet's AEAD only
 * re-inits a context with its nonce instead of creating a Cipheriv (and, on Linux, a batched
 * UDP send the runtime's socket uses). This module only finds and loads it; aead.ts and
 * header-protection.ts choose it when it is here, behind the same `Aead` / `HeaderProtection`
 * interfaces, so protocol code does not know which is below.
 *
 * The addon is looked for in `native/build/Release/` of the package root, the first directory
 * above this file with the package's package.json (two levels up from `src/crypto`, three from
 * `dist/src/crypto`). It is skipped when missing, when it fails to load, when it fails the
 * known-answer check below, or when `MASQUE_NATIVE=0`; then node:crypto runs. The choice is made
 * once, at module load, and nothing is logged: {@link cryptoBackend} and {@link nativeLoadError}
 * say what happened.
 */
import { type CipherGCMTypes, createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * One AEAD key. The addon holds only the key; one OpenSSL context per suite and direction,
 * shared by every key, runs it (re-keyed when it last ran another key). Suite ids are the TLS
 * code points.
 */
export interface NativeAeadHandle {
  /** Writes `ciphertext | tag` of `input` at `out[outOffset ..]` (may alias); returns its length. */
  sealInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    input: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /**
   * Writes the plaintext of `input` (`ciphertext | tag`) at `out[outOffset ..]` and returns its
   * length, or returns -1 when the tag does not verify, `out` untouched.
   */
  openInto(
    nonce: Uint8Array,
    aad: Uint8Array,
    input: Uint8Array,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /**
   * A whole packet in one call, for a key made with its IV (RFC 9001 §5.3-§5.4): writes the
   * Packet Number Length bits of `packet[0]` and the low `pnLength` bytes of `pn` at `pnOffset`,
   * seals `packet[pnOffset + pnLength, + payloadLength)` in place (nonce = IV XOR pn, AAD = the
   * header through the packet number) with the tag after it, then applies header protection
   * with `hp` (same suite). Returns the packet's end. Throws RangeError before writing anything
   * when the packet does not fit, pnLength is not 1-4, pnOffset is 0 or the sample would not
   * fit (pnLength + payloadLength < 4); TypeError for a key without an IV or an `hp` that is
   * not the addon's HeaderProtection. Absent from an addon built before it.
   */
  sealPacket?(
    packet: Uint8Array,
    pnOffset: number,
    pnLength: number,
    pn: number,
    payloadLength: number,
    hp: NativeHeaderProtectionHandle,
  ): number;
  /**
   * Opens in place a packet whose header protection is removed: AAD = `packet[0, pnOffset +
   * pnLength)`, ciphertext and tag the rest of `packet`, nonce = IV XOR pn. Returns the
   * plaintext length (the plaintext starts at pnOffset + pnLength), or -1 with the packet
   * untouched when the tag does not verify or fewer than 16 bytes follow the packet number.
   * Absent from an addon built before it.
   */
  openPacket?(packet: Uint8Array, pnOffset: number, pnLength: number, pn: number): number;
}

/** One header-protection key, run on a shared AES-ECB or ChaCha20 context like the AEADs'. */
export interface NativeHeaderProtectionHandle {
  /** Writes the 5-byte mask of `buf[sampleOffset .. +16]` at `out[outOffset ..]`. */
  mask(buf: Uint8Array, sampleOffset: number, out: Uint8Array, outOffset: number): void;
}

/** The scramble-dt packet transform of one 32-byte key (draft-ietf-masque-quic-proxy). */
export interface NativeScrambleHandle {
  /** Encodes (`decode` false) or decodes `packet` into `out` (the same view, or disjoint). */
  apply(decode: boolean, packet: Uint8Array, cidLength: number, out: Uint8Array): void;
}

/** What the addon exports. Bad arguments throw TypeError / RangeError, never crash. */
export interface NativeBinding {
  /** `iv` (12 bytes) is needed by the packet calls only. */
  readonly Aead: new (
    suite: number,
    key: Uint8Array,
    iv?: Uint8Array,
  ) => NativeAeadHandle;
  readonly HeaderProtection: new (suite: number, hpKey: Uint8Array) => NativeHeaderProtectionHandle;
  /** Absent from an addon built before it; callers then keep their own path. */
  readonly Scramble?: new (
    key: Uint8Array,
  ) => NativeScrambleHandle;
  /** OpenSSL version string of the OpenSSL the addon runs on (Node's own). */
  readonly openssl: string;
  /**
   * Linux only: the struct sockaddr (sockaddr_in or sockaddr_in6) of an IP literal and port, as
   * bytes for `send` and `sendmmsg`; throws RangeError for anything but a literal. The three are
   * used by src/runtime/udp/datagram-socket.ts and src/masque/proxy/udp-socket.ts.
   */
  readonly sockaddr?: (host: string, port: number) => Uint8Array;
  /**
   * Linux only: one sendto(2) with MSG_DONTWAIT of `data[offset .. offset + length)` from the UDP
   * socket `fd` to `address` (a `sockaddr` result) or, with null, to its connected peer; returns
   * the bytes sent or -errno (EAGAIN on a full buffer). The bytes are copied when it returns.
   */
  readonly send?: (
    fd: number,
    data: Uint8Array,
    offset: number,
    length: number,
    address: Uint8Array | null,
  ) => number;
  /**
   * Linux only: sends `datagrams[start ..]` (at most 64, up to `count`) to `addresses[i]`
   * (`sockaddr` results) from the UDP socket `fd` in one sendmmsg(2); with `gso`, consecutive
   * ones to one address and of the first's length (the last may be shorter) go as one message
   * the kernel segments (UDP_SEGMENT). Returns how many datagrams the kernel took, or -errno
   * when the first message failed (EIO or EINVAL where segmentation is not available).
   */
  readonly sendmmsg?: (
    fd: number,
    datagrams: readonly Uint8Array[],
    addresses: readonly Uint8Array[],
    start: number,
    count: number,
    gso?: boolean,
  ) => number;
  /**
   * Linux only: one recvmmsg(2) with MSG_DONTWAIT of up to `max` (<= 64) datagrams from the UDP
   * socket `fd`, datagram i into `buffer[i * slotSize ..]` and an 80-byte record into
   * `meta[i * 80 ..]` (int32 length or -1 when cut; uint16 port; family 4 with the IPv4 bytes at
   * 8, IPv4-mapped included, or 6 with the address text of length meta[7] at 12, a link-local
   * one with "%" and its interface's name as node writes it). Returns the count,
   * 0 when nothing waits, or -errno. Used by src/runtime/udp/datagram-socket.ts.
   */
  readonly recvmmsg?: (
    fd: number,
    buffer: Uint8Array,
    slotSize: number,
    meta: Uint8Array,
    max: number,
  ) => number;
  /**
   * Linux only: attaches a classic BPF program (struct sock_filter[] as bytes, host order) to the
   * SO_REUSEPORT group of the UDP socket `fd`; returns 0 or -errno. Absent from an addon built
   * before it. Used by src/runtime/udp/reuseport-steering.ts.
   */
  readonly attachReuseportCbpf?: (fd: number, program: Uint8Array) => number;
}

/** Which implementation seals and opens packets. */
export type CryptoBackend = 'native' | 'node:crypto';

const ADDON = join('native', 'build', 'Release', 'masque_native.node');

/** The package root: the nearest directory above this file whose package.json is `masque`. */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'masque') return dir;
    } catch {
      // not here: one level up
    }
    dir = dirname(dir);
  }
  return undefined;
}

/**
 * Known answers before the addon is trusted with packets: each suite seals a short message both
 * ways and must agree with node:crypto byte for byte (a mismatched OpenSSL or a broken build
 * must fall back, not corrupt traffic).
 */
function selfCheck(binding: NativeBinding): void {
  const cases = [
    [0x1301, 'aes-128-gcm', 16],
    [0x1302, 'aes-256-gcm', 32],
    [0x1303, 'chacha20-poly1305', 32],
  ] as const;
  const nonce = Uint8Array.from({ length: 12 }, (_, i) => i * 7 + 1);
  const aad = Uint8Array.from({ length: 13 }, (_, i) => i);
  const plaintext = Uint8Array.from({ length: 37 }, (_, i) => 255 - i);
  for (const [suite, algorithm, keyLength] of cases) {
    const key = Uint8Array.from({ length: keyLength }, (_, i) => i ^ 0x5c);
    // Typed as a GCM name so one overload fits all three; node treats them alike here.
    const cipher = createCipheriv(algorithm as CipherGCMTypes, key, nonce, { authTagLength: 16 });
    cipher.setAAD(aad);
    const expected = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    const out = new Uint8Array(expected.length);
    const aead = new binding.Aead(suite, key);
    if (aead.sealInto(nonce, aad, plaintext, out, 0) !== out.length || !expected.equals(out)) {
      throw new Error(`${algorithm} disagrees with node:crypto`);
    }
    const back = new Uint8Array(plaintext.length);
    if (aead.openInto(nonce, aad, out, back, 0) !== plaintext.length) {
      throw new Error(`${algorithm} does not open its own output`);
    }
  }
}

let addon: { binding: NativeBinding | undefined; error: string | undefined } | undefined;

/**
 * The addon if it is built and loads, whatever `MASQUE_NATIVE` says (for tests and benches that
 * compare both backends); cached. Production code goes through {@link nativeBinding}.
 */
export function loadNativeAddon(): NativeBinding | undefined {
  if (addon === undefined) {
    const root = packageRoot();
    try {
      if (root === undefined) throw new Error('package root not found');
      const binding = createRequire(import.meta.url)(join(root, ADDON)) as NativeBinding;
      if (typeof binding.Aead !== 'function' || typeof binding.HeaderProtection !== 'function') {
        throw new Error('unexpected exports');
      }
      selfCheck(binding);
      addon = { binding, error: undefined };
    } catch (err) {
      addon = { binding: undefined, error: err instanceof Error ? err.message : String(err) };
    }
  }
  return addon.binding;
}

/** Read once: `MASQUE_NATIVE=0` keeps the node:crypto path even where the addon is built. */
const disabled = process.env['MASQUE_NATIVE'] === '0';
const active = disabled ? undefined : loadNativeAddon();

/** The addon the packet path uses, or undefined for node:crypto. */
export function nativeBinding(): NativeBinding | undefined {
  return active;
}

/** Which backend `createAead` and `createHeaderProtection` use in this process. */
export function cryptoBackend(): CryptoBackend {
  return active === undefined ? 'node:crypto' : 'native';
}

/** Why the addon is not in use, or undefined when it is. */
export function nativeLoadError(): string | undefined {
  if (active !== undefined) return undefined;
  return disabled ? 'disabled by MASQUE_NATIVE=0' : addon?.error;
}
