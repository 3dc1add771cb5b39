/**
 * Crypto choices by measurement: node:crypto vs the native addon (issue 13, when built) vs
 * @noble/ciphers for each AEAD at 1200 and 50 bytes, header-protection masks (reused AES-ECB
 * context vs per-packet Cipheriv vs noble vs the addon; own ChaCha20 block vs node vs noble vs the
 * addon), full packet protect / unprotect on the backend this process chose (MASQUE_NATIVE=0 for
 * node:crypto), and HKDF-Expand-Label. The figures are recorded in the headers of src/crypto/*.ts
 * and in bench/README.md.
 */
import { createCipheriv, createHmac, createSecretKey } from 'node:crypto';
import { GHASH } from '@noble/ciphers/_polyval.js';
import { ecb, gcm } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { expand as nobleExpand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createAeadOn } from '../src/crypto/aead.js';
import { createHeaderProtectionOn } from '../src/crypto/header-protection.js';
import { hkdfExpandLabel, hkdfLabel } from '../src/crypto/hkdf.js';
import { cryptoBackend, loadNativeAddon } from '../src/crypto/native.js';
import { CipherSuite } from '../src/crypto/suites.js';
import { PacketProtector } from '../src/quic/protection/packet-protector.js';
import { type BenchRow, type MeasureOptions, measure } from './harness.js';
import type { BenchModule } from './types.js';

const SLOW: MeasureOptions = { batch: 200, rounds: 9, warmup: 200 };
const AES128 = CipherSuite.TLS_AES_128_GCM_SHA256;
const AES256 = CipherSuite.TLS_AES_256_GCM_SHA384;
const CHACHA = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
/** The addon's rows are left out where it is not built. */
const NATIVE = loadNativeAddon() !== undefined;

function fill(n: number, v: number): Uint8Array {
  return new Uint8Array(n).fill(v);
}

/** noble's GHASH with its per-key table kept, reset for each message. */
class ReusableGhash extends GHASH {
  reset(): this {
    this.s0 = 0;
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    this.finished = false;
    return this;
  }
}

/**
 * The "cached context" candidate for AES-128-GCM (NIST SP 800-38D): everything keyed is built once
 * per key (a reused node:crypto AES-ECB context for the counter blocks, noble's GHASH table for
 * H = E(K, 0^128)); per packet only the keystream (one ECB update over the counter blocks), the
 * XOR and GHASH run. Checked against node:crypto below before it is timed.
 */
class CachedGcm {
  readonly #ecb;
  readonly #ghash: ReusableGhash;
  readonly #counters = new Uint8Array(16 * 80);
  readonly #lengths = new Uint8Array(16);
  readonly #tag = new Uint8Array(16);

  constructor(key: Uint8Array) {
    this.#ecb = createCipheriv('aes-128-ecb', createSecretKey(key), null).setAutoPadding(false);
    this.#ghash = new ReusableGhash(this.#ecb.update(new Uint8Array(16)), 2048);
  }

  sealInto(nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array, out: Uint8Array): void {
    const blocks = Math.ceil(pt.length / 16) + 1; // J0 for the tag, then inc32(J0).. for the text
    const ctr = this.#counters;
    for (let i = 0; i < blocks; i++) {
      const o = i * 16;
      ctr.set(nonce, o);
      const n = i + 1;
      ctr[o + 12] = n >>> 24;
      ctr[o + 13] = (n >>> 16) & 0xff;
      ctr[o + 14] = (n >>> 8) & 0xff;
      ctr[o + 15] = n & 0xff;
    }
    const ks = this.#ecb.update(ctr.subarray(0, blocks * 16));
    for (let j = 0; j < pt.length; j++) out[j] = pt[j] ^ ks[16 + j];
    const len = this.#lengths;
    const dv = new DataView(len.buffer);
    dv.setUint32(4, aad.length * 8);
    dv.setUint32(12, pt.length * 8);
    const gh = this.#ghash.reset();
    gh.update(aad).update(out.subarray(0, pt.length)).update(len);
    const tag = this.#tag;
    gh.digestInto(tag);
    for (let j = 0; j < 16; j++) out[pt.length + j] = tag[j] ^ ks[j];
  }
}

function aeadRows(size: number): BenchRow[] {
  const key16 = fill(16, 1);
  const key32 = fill(32, 2);
  const nonce = fill(12, 3);
  const aad = fill(20, 4); // a typical short header with an 8-byte CID and 2-byte pn, rounded up
  const pt = fill(size, 5);
  const out = new Uint8Array(size + 16);
  const aes128 = createAeadOn('node:crypto', AES128, key16);
  const aes256 = createAeadOn('node:crypto', AES256, key32);
  const cc = createAeadOn('node:crypto', CHACHA, key32);
  const rawKey16 = Buffer.from(key16);
  const cachedGcm = new CachedGcm(key16);
  cachedGcm.sealInto(nonce, aad, pt, out);
  if (!Buffer.from(out).equals(Buffer.from(aes128.seal(nonce, aad, pt)))) {
    throw new Error('the cached AES-GCM candidate disagrees with node:crypto');
  }
  /** The native row beside a node:crypto one, when the addon is built. */
  const native = (name: string, suite: CipherSuite, key: Uint8Array, op: 'seal' | 'open') => {
    if (!NATIVE) return [];
    const aead = createAeadOn('native', suite, key);
    if (op === 'seal') {
      return [measure(name, () => void aead.sealInto(nonce, aad, pt, out, 0))];
    }
    const sealed = aead.seal(nonce, aad, pt);
    return [measure(name, () => void aead.openInto(nonce, aad, sealed, out, 0))];
  };
  const aes128Sealed = aes128.seal(nonce, aad, pt);
  const rows = [
    measure(`AES-128-GCM seal ${size} B node:crypto`, () => {
      aes128.sealInto(nonce, aad, pt, out, 0);
    }),
    ...native(`AES-128-GCM seal ${size} B native`, AES128, key16, 'seal'),
    measure(
      `AES-128-GCM seal ${size} B @noble/ciphers`,
      () => {
        gcm(key16, nonce, aad).encrypt(pt);
      },
      SLOW,
    ),
    measure(`AES-128-GCM seal ${size} B node:crypto, raw key instead of KeyObject`, () => {
      const c = createCipheriv('aes-128-gcm', rawKey16, nonce, { authTagLength: 16 });
      c.setAAD(aad);
      out.set(c.update(pt));
      c.final();
      out.set(c.getAuthTag(), size);
    }),
    measure(
      `AES-128-GCM seal ${size} B cached: reused ECB keystream + noble GHASH table per key`,
      () => {
        cachedGcm.sealInto(nonce, aad, pt, out);
      },
      SLOW,
    ),
    measure(`AES-128-GCM open ${size} B node:crypto`, () => {
      aes128.openInto(nonce, aad, aes128Sealed, out, 0);
    }),
    ...native(`AES-128-GCM open ${size} B native`, AES128, key16, 'open'),
    measure(`ChaCha20-Poly1305 seal ${size} B node:crypto`, () => {
      cc.sealInto(nonce, aad, pt, out, 0);
    }),
    ...native(`ChaCha20-Poly1305 seal ${size} B native`, CHACHA, key32, 'seal'),
    measure(
      `ChaCha20-Poly1305 seal ${size} B @noble/ciphers`,
      () => {
        chacha20poly1305(key32, nonce, aad).encrypt(pt, out);
      },
      SLOW,
    ),
  ];
  if (size === 1200) {
    rows.push(
      measure(`AES-256-GCM seal ${size} B node:crypto`, () => {
        aes256.sealInto(nonce, aad, pt, out, 0);
      }),
      ...native(`AES-256-GCM seal ${size} B native`, AES256, key32, 'seal'),
      measure(
        `AES-256-GCM seal ${size} B @noble/ciphers`,
        () => {
          gcm(key32, nonce, aad).encrypt(pt);
        },
        SLOW,
      ),
    );
  }
  return rows;
}

function hpRows(): BenchRow[] {
  const key16 = fill(16, 6);
  const key32 = fill(32, 7);
  const sample = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
  const zeros5 = new Uint8Array(5);
  const out16 = new Uint8Array(16);
  const out5 = new Uint8Array(5);
  const keyObject = createSecretKey(key16);
  const reused = createCipheriv('aes-128-ecb', keyObject, null).setAutoPadding(false);
  const aesHp = createHeaderProtectionOn('node:crypto', AES128, key16);
  const ccHp = createHeaderProtectionOn('node:crypto', CHACHA, key32);
  // A short-header packet with an 8-byte CID: apply + remove exercise the whole path.
  const packet = fill(64, 9);
  packet[0] = 0x41;
  const counter = sample[0] | (sample[1] << 8) | (sample[2] << 16) | (sample[3] << 24);
  const nonce = sample.subarray(4);
  const rows = [
    measure('HP AES-128 mask: reused ECB Cipheriv update()', () => {
      reused.update(sample);
    }),
    measure('HP AES-128 mask: new ECB Cipheriv per packet', () => {
      createCipheriv('aes-128-ecb', keyObject, null).setAutoPadding(false).update(sample);
    }),
    measure('HP AES-128 mask: @noble/ciphers ecb per packet', () => {
      ecb(key16, { disablePadding: true }).encrypt(sample, out16);
    }),
    measure('HP AES-128 apply+remove node:crypto (reused ECB)', () => {
      aesHp.apply(packet, 9);
      aesHp.remove(packet, 9);
    }),
    measure('HP ChaCha20 mask: node createCipheriv per packet', () => {
      createCipheriv('chacha20', key32, sample).update(zeros5);
    }),
    measure('HP ChaCha20 mask: @noble/ciphers chacha20', () => {
      chacha20(key32, nonce, zeros5, out5, counter >>> 0);
    }),
    measure('HP ChaCha20 apply+remove (chosen: own block)', () => {
      ccHp.apply(packet, 9);
      ccHp.remove(packet, 9);
    }),
  ];
  if (NATIVE) {
    const aesNative = createHeaderProtectionOn('native', AES128, key16);
    const ccNative = createHeaderProtectionOn('native', CHACHA, key32);
    rows.splice(
      4,
      0,
      measure('HP AES-128 apply+remove native (chosen where built)', () => {
        aesNative.apply(packet, 9);
        aesNative.remove(packet, 9);
      }),
    );
    rows.push(
      measure('HP ChaCha20 apply+remove native (not used: slower than the own block)', () => {
        ccNative.apply(packet, 9);
        ccNative.remove(packet, 9);
      }),
    );
  }
  return rows;
}

function packetRows(): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const [name, suite, secretLen] of [
    ['AES-128-GCM', AES128, 32],
    ['ChaCha20-Poly1305', CHACHA, 32],
  ] as const) {
    const secret = fill(secretLen, 0x33);
    const sender = PacketProtector.fromSecret(suite, secret);
    const receiver = PacketProtector.fromSecret(suite, secret);
    // 1200-byte datagram: 1-byte first byte + 8-byte DCID, 2-byte pn, 1173-byte payload, tag.
    const buf = new Uint8Array(1200);
    buf[0] = 0x41;
    const payloadLength = 1200 - 9 - 2 - 16;
    let pn = 0;
    rows.push(
      measure(`packet protect 1200 B ${name} (seal + HP), ${cryptoBackend()}`, () => {
        sender.seal(buf, 9, 2, pn++, payloadLength);
      }),
    );
    const template = new Uint8Array(1200);
    template[0] = 0x41;
    sender.seal(template, 9, 2, 5, payloadLength);
    const work = new Uint8Array(1200);
    rows.push(
      measure(
        `packet unprotect 1200 B ${name} (HP + open, incl. 1200 B copy), ${cryptoBackend()}`,
        () => {
          work.set(template);
          receiver.open(work, 9, 4);
        },
      ),
    );
  }
  return rows;
}

function hkdfRows(): BenchRow[] {
  const secret = fill(32, 0x44);
  const empty = new Uint8Array(0);
  const info = hkdfLabel('quic key', empty, 16);
  return [
    measure('HKDF-Expand-Label 16 B node createHmac (chosen)', () => {
      hkdfExpandLabel('sha256', secret, 'quic key', empty, 16);
    }),
    measure('HKDF-Expand 16 B node createHmac, raw', () => {
      createHmac('sha256', secret).update(info).update(Uint8Array.of(1)).digest();
    }),
    measure('HKDF-Expand 16 B @noble/hashes', () => {
      nobleExpand(sha256, secret, info, 16);
    }),
  ];
}

const bench: BenchModule = {
  title: `crypto: AEAD, header protection, packet protection, HKDF (node:crypto vs native vs @noble; packet path on ${cryptoBackend()})`,
  baseline: 'AES-128-GCM seal 1200 B node:crypto',
  run(): BenchRow[] {
    const rows = [...aeadRows(1200), ...aeadRows(50), ...hpRows(), ...packetRows(), ...hkdfRows()];
    for (const r of rows) {
      const m = /(?:seal|open) (\d+) B/.exec(r.name) ?? /protect (\d+) B/.exec(r.name);
      if (m) r.note = `${((Number(m[1]) / r.nsPerOp) * 1e3).toFixed(0)} MB/s`;
    }
    return rows;
  },
};

export default bench;
