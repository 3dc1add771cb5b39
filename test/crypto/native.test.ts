/**
 * The native accelerator (native/masque_native.c, issue 13) against the node:crypto path: the
 * same bytes on the RFC 9001 Appendix A vectors and on random inputs, the same errors, the
 * "untouched on failure" contract, and no crash on bad arguments. Also: the addon IS built and
 * in use on a machine with a C toolchain (CI), unless MASQUE_NATIVE=0 asks for node:crypto.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AEAD_TAG_LENGTH, type Aead, createAead, createAeadOn } from '../../src/crypto/aead.js';
import { AeadError, CryptoError } from '../../src/crypto/errors.js';
import {
  createHeaderProtection,
  createHeaderProtectionOn,
} from '../../src/crypto/header-protection.js';
import {
  cryptoBackend,
  loadNativeAddon,
  type NativeBinding,
  nativeLoadError,
} from '../../src/crypto/native.js';
import { CipherSuite, suiteParams } from '../../src/crypto/suites.js';
import { deriveKeys, INITIAL_SUITE, initialSecrets } from '../../src/quic/protection/index.js';
import { fromHex, toHex } from '../../src/wire/index.js';
import {
  RFC9001_A2_CRYPTO,
  RFC9001_A2_HEADER,
  RFC9001_A2_PACKET,
  RFC9001_A3_HEADER,
  RFC9001_A3_PACKET,
  RFC9001_A3_PAYLOAD,
} from '../support/rfc9001-vectors.js';

const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;
const BACKENDS = ['native', 'node:crypto'] as const;
const disabled = process.env['MASQUE_NATIVE'] === '0';
const addon = loadNativeAddon();

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

/** nonce = iv XOR packet number (RFC 9001 §5.3), for the small packet numbers of the vectors. */
function nonceFor(iv: Uint8Array, pn: number): Uint8Array {
  const n = Uint8Array.from(iv);
  for (let i = 0; i < 4; i++) n[11 - i] ^= (pn >>> (8 * i)) & 0xff;
  return n;
}

describe('crypto backend selection', () => {
  it('the addon is built and in use here unless MASQUE_NATIVE=0 (CI notices a broken build)', () => {
    if (disabled) {
      expect(cryptoBackend()).toBe('node:crypto');
      expect(nativeLoadError()).toBe('disabled by MASQUE_NATIVE=0');
      return;
    }
    expect(nativeLoadError()).toBeUndefined();
    expect(addon).toBeDefined();
    expect(cryptoBackend()).toBe('native');
    expect(addon?.openssl).toMatch(/^OpenSSL 3\./);
    // The packet-path factories hand out the native classes.
    expect(
      createAead(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(16)).constructor.name,
    ).toBe('NativeAead');
    expect(
      createHeaderProtection(CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(16)).constructor
        .name,
    ).toBe('NativeHeaderProtection');
  });

  it('a fresh process picks native by default and node:crypto with MASQUE_NATIVE=0', () => {
    const probe = fileURLToPath(new URL('../support/crypto-backend-probe.ts', import.meta.url));
    const run = (env: NodeJS.ProcessEnv) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', probe], {
          env,
          encoding: 'utf8',
          timeout: 20_000,
        }),
      ) as { backend: string; aead: string; hp: string };
    const { MASQUE_NATIVE: _, ...rest } = process.env;
    expect(run({ ...rest, MASQUE_NATIVE: '0' })).toEqual({
      backend: 'node:crypto',
      aead: 'NodeAead',
      hp: 'AesHeaderProtection',
    });
    if (addon === undefined) return; // only with MASQUE_NATIVE=0 (the test above fails otherwise)
    expect(run(rest)).toEqual({
      backend: 'native',
      aead: 'NativeAead',
      hp: 'NativeHeaderProtection',
    });
  });

  it('asking for the native backend explicitly without the addon is a typed error', () => {
    if (addon !== undefined) return;
    expect(() =>
      createAeadOn('native', CipherSuite.TLS_AES_128_GCM_SHA256, new Uint8Array(16)),
    ).toThrowError(CryptoError);
  });
});

describe.skipIf(addon === undefined)(
  'native AEAD and HP = node:crypto (RFC 9001 §5.3, §5.4)',
  () => {
    const pair = (suite: CipherSuite, key: Uint8Array): [Aead, Aead] => [
      createAeadOn('native', suite, key),
      createAeadOn('node:crypto', suite, key),
    ];

    describe('RFC 9001 Appendix A on both backends', () => {
      const client = deriveKeys(initialSecrets(fromHex('8394c8f03e515708')).client, INITIAL_SUITE);
      const server = deriveKeys(initialSecrets(fromHex('8394c8f03e515708')).server, INITIAL_SUITE);
      const clientPayload = new Uint8Array(1162);
      clientPayload.set(RFC9001_A2_CRYPTO);
      const chachaKeys = deriveKeys(
        fromHex('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b'),
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
      );
      const vectors = [
        {
          name: 'A.2 client Initial',
          suite: INITIAL_SUITE,
          keys: client,
          nonce: nonceFor(client.iv, 2),
          aad: RFC9001_A2_HEADER,
          plaintext: clientPayload,
          sealed: RFC9001_A2_PACKET.subarray(22),
          mask: '437b9aec36',
        },
        {
          name: 'A.3 server Initial',
          suite: INITIAL_SUITE,
          keys: server,
          nonce: nonceFor(server.iv, 1),
          aad: RFC9001_A3_HEADER,
          plaintext: RFC9001_A3_PAYLOAD,
          sealed: RFC9001_A3_PACKET.subarray(20),
          mask: '2ec0d8356a',
        },
        {
          name: 'A.5 ChaCha20-Poly1305 short header',
          suite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
          keys: chachaKeys,
          nonce: fromHex('e0459b3474bdd0e46d417eb0'),
          aad: fromHex('4200bff4'),
          plaintext: fromHex('01'),
          sealed: fromHex('655e5cd55c41f69080575d7999c25a5bfb'),
          mask: 'aefefe7d03',
        },
      ];

      for (const v of vectors) {
        for (const backend of BACKENDS) {
          it(`${v.name}: ${backend} seals, opens and masks the RFC bytes`, () => {
            const aead = createAeadOn(backend, v.suite, v.keys.key);
            expect(toHex(aead.seal(v.nonce, v.aad, v.plaintext))).toBe(toHex(v.sealed));
            expect(toHex(aead.open(v.nonce, v.aad, v.sealed))).toBe(toHex(v.plaintext));
            // In place, as the packet path does: header | payload | room for the tag.
            const packet = new Uint8Array(v.aad.length + v.sealed.length);
            packet.set(v.aad);
            packet.set(v.plaintext, v.aad.length);
            const aad = packet.subarray(0, v.aad.length);
            const body = packet.subarray(v.aad.length, v.aad.length + v.plaintext.length);
            expect(aead.sealInto(v.nonce, aad, body, packet, v.aad.length)).toBe(v.sealed.length);
            expect(toHex(packet.subarray(v.aad.length))).toBe(toHex(v.sealed));
            const opened = aead.openInto(
              v.nonce,
              aad,
              packet.subarray(v.aad.length),
              packet,
              v.aad.length,
            );
            expect(opened).toBe(v.plaintext.length);
            expect(toHex(packet.subarray(v.aad.length, v.aad.length + opened))).toBe(
              toHex(v.plaintext),
            );
            // The sample starts 4 bytes after the packet number offset (RFC 9001 §5.4.2); the
            // packet number is the header's last pnLength bytes: the sample is ciphertext[k..k+16]
            // with k = 4 - pnLength.
            const pnLength = (v.aad[0] & 0x03) + 1;
            const sample = v.sealed.subarray(4 - pnLength, 20 - pnLength);
            const hp = createHeaderProtectionOn(backend, v.suite, v.keys.hp);
            expect(toHex(hp.mask(sample))).toBe(v.mask);
          });
        }
      }
    });

    it('random seal / open at many sizes and offsets, in place and across buffers', () => {
      const sizes = fc.oneof(
        fc.constantFrom(0, 1, 15, 16, 17, 31, 32, 33, 50, 1200, 1452, 1500),
        fc.nat(1600),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...SUITES),
          bytes(32),
          bytes(12),
          fc.uint8Array({ maxLength: 64 }),
          sizes,
          fc.nat(40),
          fc.integer({ min: 0, max: 255 }),
          (suite, k, nonce, aad, size, offset, fillByte) => {
            const key = k.subarray(0, suiteParams(suite).keyLength);
            const [native, node] = pair(suite, key);
            const plaintext = Uint8Array.from(
              { length: size },
              (_, i) => (i * 31 + fillByte) & 0xff,
            );
            const expected = node.seal(nonce, aad, plaintext);
            expect(toHex(native.seal(nonce, aad, plaintext))).toBe(toHex(expected));
            // Cross-open: each opens what the other sealed.
            expect(toHex(node.open(nonce, aad, native.seal(nonce, aad, plaintext)))).toBe(
              toHex(plaintext),
            );
            expect(toHex(native.open(nonce, aad, expected))).toBe(toHex(plaintext));
            // In place at an offset, guard bytes around untouched.
            const buf = new Uint8Array(offset + size + AEAD_TAG_LENGTH + 5).fill(0xee);
            buf.set(plaintext, offset);
            const n = native.sealInto(nonce, aad, buf.subarray(offset, offset + size), buf, offset);
            expect(n).toBe(size + AEAD_TAG_LENGTH);
            expect(toHex(buf.subarray(offset, offset + n))).toBe(toHex(expected));
            expect(native.openInto(nonce, aad, buf.subarray(offset, offset + n), buf, offset)).toBe(
              size,
            );
            expect(toHex(buf.subarray(offset, offset + size))).toBe(toHex(plaintext));
            expect(buf.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
            expect(buf.subarray(offset + n).every((b) => b === 0xee)).toBe(true);
          },
        ),
        { numRuns: 1500 },
      );
    });

    it('partly overlapping input and output give the same bytes as node:crypto', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SUITES),
          bytes(32),
          bytes(12),
          fc.integer({ min: 1, max: 300 }),
          fc.integer({ min: 0, max: 40 }),
          fc.integer({ min: 0, max: 40 }),
          (suite, k, nonce, size, from, to) => {
            const key = k.subarray(0, suiteParams(suite).keyLength);
            const aad = Uint8Array.of(1, 2, 3);
            const results = BACKENDS.map((backend) => {
              const aead = createAeadOn(backend, suite, key);
              const buf = Uint8Array.from({ length: 60 + size + 40 }, (_, i) => (i * 7) & 0xff);
              const input = buf.subarray(from, from + size);
              const n = aead.sealInto(nonce, aad, input, buf, to);
              const sealed = buf.slice(to, to + n);
              const back = Uint8Array.from(buf);
              back.set(sealed, from);
              aead.openInto(nonce, aad, back.subarray(from, from + n), back, to);
              return { sealed: toHex(sealed), opened: toHex(back.subarray(to, to + size)) };
            });
            expect(results[0]).toEqual(results[1]);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('a ciphertext above the 64 KiB scratch opens too (temporary buffer path)', () => {
      const key = new Uint8Array(16).fill(3);
      const [native, node] = pair(CipherSuite.TLS_AES_128_GCM_SHA256, key);
      const nonce = new Uint8Array(12).fill(4);
      const plaintext = Uint8Array.from({ length: 70_000 }, (_, i) => i & 0xff);
      const sealed = native.seal(nonce, new Uint8Array(0), plaintext);
      expect(toHex(sealed.subarray(69_990))).toBe(
        toHex(node.seal(nonce, new Uint8Array(0), plaintext).subarray(69_990)),
      );
      expect(native.open(nonce, new Uint8Array(0), sealed)).toEqual(plaintext);
      sealed[12_345] ^= 0x10;
      const out = new Uint8Array(70_000).fill(0x77);
      expect(() => native.openInto(nonce, new Uint8Array(0), sealed, out, 0)).toThrowError(
        AeadError,
      );
      expect(out.every((b) => b === 0x77)).toBe(true);
    });

    it('auth failure: the same AeadError on both backends, output and in-place packet untouched', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SUITES),
          bytes(32),
          bytes(12),
          fc.uint8Array({ maxLength: 40 }),
          fc.integer({ min: 0, max: 1300 }),
          fc.nat(),
          fc.nat(7),
          (suite, k, nonce, aad, size, pos, bit) => {
            const key = k.subarray(0, suiteParams(suite).keyLength);
            const plaintext = Uint8Array.from({ length: size }, (_, i) => i & 0xff);
            const [native] = pair(suite, key);
            const sealed = native.seal(nonce, aad, plaintext);
            const at = pos % (aad.length + sealed.length);
            const badAad = Uint8Array.from(aad);
            const badCt = Uint8Array.from(sealed);
            if (at < aad.length) badAad[at] ^= 1 << bit;
            else badCt[at - aad.length] ^= 1 << bit;
            const errors = BACKENDS.map((backend) => {
              const aead = createAeadOn(backend, suite, key);
              const out = new Uint8Array(size + 3).fill(0x5a);
              let error: unknown;
              try {
                aead.openInto(nonce, badAad, badCt, out, 3);
              } catch (err) {
                error = err;
              }
              expect(out.every((b) => b === 0x5a)).toBe(true);
              // In place (the packet path): the ciphertext itself must stay as received.
              const packet = Uint8Array.from(badCt);
              expect(() => aead.openInto(nonce, badAad, packet, packet, 0)).toThrowError(AeadError);
              expect(toHex(packet)).toBe(toHex(badCt));
              return error;
            });
            for (const err of errors) {
              expect(err).toBeInstanceOf(AeadError);
              expect((err as AeadError).code).toBe('AEAD_AUTH_FAILED');
            }
            expect((errors[0] as Error).message).toBe((errors[1] as Error).message);
          },
        ),
        { numRuns: 600 },
      );
    });

    it('wrapper errors are the node path errors: short ciphertext, bad nonce, no room', () => {
      for (const suite of SUITES) {
        const key = new Uint8Array(suiteParams(suite).keyLength);
        const codes = BACKENDS.map((backend) => {
          const aead = createAeadOn(backend, suite, key);
          const caught: string[] = [];
          const attempt = (f: () => unknown) => {
            try {
              f();
              caught.push('none');
            } catch (err) {
              caught.push(`${(err as Error).name}:${(err as CryptoError).code}`);
            }
          };
          for (let len = 0; len < AEAD_TAG_LENGTH; len++) {
            attempt(() => aead.open(new Uint8Array(12), new Uint8Array(0), new Uint8Array(len)));
          }
          attempt(() => aead.seal(new Uint8Array(11), new Uint8Array(0), new Uint8Array(4)));
          attempt(() =>
            aead.sealInto(
              new Uint8Array(12),
              new Uint8Array(0),
              new Uint8Array(4),
              new Uint8Array(19),
              0,
            ),
          );
          attempt(() =>
            aead.sealInto(
              new Uint8Array(12),
              new Uint8Array(0),
              new Uint8Array(4),
              new Uint8Array(40),
              -1,
            ),
          );
          attempt(() =>
            aead.sealInto(
              new Uint8Array(12),
              new Uint8Array(0),
              new Uint8Array(4),
              new Uint8Array(40),
              1.5,
            ),
          );
          attempt(() =>
            aead.openInto(
              new Uint8Array(12),
              new Uint8Array(0),
              new Uint8Array(30),
              new Uint8Array(13),
              0,
            ),
          );
          return caught;
        });
        expect(codes[0]).toEqual(codes[1]);
        expect(
          codes[0].every((c) => c.endsWith('AEAD_AUTH_FAILED') || c.endsWith('INVALID_ARGUMENT')),
        ).toBe(true);
      }
    });

    it('header protection masks agree for random keys and samples, ChaCha20 counter 2^32-1 too', () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...SUITES),
          bytes(32),
          bytes(16),
          fc.boolean(),
          (suite, k, sample, maxCounter) => {
            if (maxCounter) sample.fill(0xff, 0, 4);
            const key = k.subarray(0, suiteParams(suite).hpKeyLength);
            const native = createHeaderProtectionOn('native', suite, key);
            const node = createHeaderProtectionOn('node:crypto', suite, key);
            expect(toHex(native.mask(sample))).toBe(toHex(node.mask(sample)));
            // A reused context gives the same mask again (no state carried between packets).
            expect(toHex(native.mask(sample))).toBe(toHex(node.mask(sample)));
            const packet = new Uint8Array(40);
            packet.set(sample, 13);
            packet[0] = 0x43;
            const copy = Uint8Array.from(packet);
            native.apply(packet, 9);
            node.apply(copy, 9);
            expect(toHex(packet)).toBe(toHex(copy));
            expect(native.remove(packet, 9)).toBe(4);
          },
        ),
        { numRuns: 1500 },
      );
    });

    it('keys taking turns on the shared contexts: each call re-keys, failed opens included', () => {
      // The addon runs every key of a suite on one context per direction (issue 10): calls of
      // several live keys in any order, a failed open between them, must give node's bytes.
      fc.assert(
        fc.property(
          fc.constantFrom(...SUITES),
          fc.array(bytes(32), { minLength: 3, maxLength: 3 }),
          fc.array(fc.tuple(fc.nat(2), fc.constantFrom('seal', 'open', 'forged', 'mask')), {
            minLength: 1,
            maxLength: 30,
          }),
          bytes(12),
          (suite, raw, steps, nonce) => {
            const { keyLength, hpKeyLength } = suiteParams(suite);
            const keys = raw.map((k) => ({
              aead: pair(suite, k.subarray(0, keyLength)),
              hp: [
                createHeaderProtectionOn('native', suite, k.subarray(0, hpKeyLength)),
                createHeaderProtectionOn('node:crypto', suite, k.subarray(0, hpKeyLength)),
              ] as const,
            }));
            const aad = Uint8Array.of(1, 2, 3);
            steps.forEach(([i, op], step) => {
              const [native, node] = keys[i].aead;
              const plaintext = Uint8Array.from({ length: 40 + step }, (_, j) => j ^ step);
              const sealed = node.seal(nonce, aad, plaintext);
              if (op === 'seal') {
                expect(toHex(native.seal(nonce, aad, plaintext))).toBe(toHex(sealed));
              } else if (op === 'open') {
                expect(toHex(native.open(nonce, aad, sealed))).toBe(toHex(plaintext));
              } else if (op === 'forged') {
                sealed[0] ^= 1;
                expect(() => native.open(nonce, aad, sealed)).toThrow(AeadError);
              } else {
                const sample = sealed.subarray(0, 16);
                expect(toHex(keys[i].hp[0].mask(sample))).toBe(toHex(keys[i].hp[1].mask(sample)));
              }
            });
          },
        ),
        { numRuns: 300 },
      );
    });

    it('a key collected while its schedule is in a shared context takes the context with it', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const plaintext = new Uint8Array(64).fill(7);
      const nonce = new Uint8Array(12).fill(1);
      const aad = Uint8Array.of(9);
      for (const suite of SUITES) {
        const { keyLength, hpKeyLength } = suiteParams(suite);
        // Key A runs last on the shared contexts, then nothing refers to it any more.
        ((): void => {
          const a = new Uint8Array(32).fill(0xa1);
          createAeadOn('native', suite, a.subarray(0, keyLength)).seal(nonce, aad, plaintext);
          createHeaderProtectionOn('native', suite, a.subarray(0, hpKeyLength)).mask(
            new Uint8Array(16),
          );
        })();
        gc();
        await new Promise((r) => setImmediate(r)); // N-API finalizers run after the collection
        const b = new Uint8Array(32).fill(0xb2);
        const [native, node] = pair(suite, b.subarray(0, keyLength));
        const sealed = node.seal(nonce, aad, plaintext);
        expect(toHex(native.seal(nonce, aad, plaintext))).toBe(toHex(sealed));
        expect(toHex(native.open(nonce, aad, sealed))).toBe(toHex(plaintext));
        const sample = sealed.subarray(0, 16);
        expect(
          toHex(createHeaderProtectionOn('native', suite, b.subarray(0, hpKeyLength)).mask(sample)),
        ).toBe(
          toHex(
            createHeaderProtectionOn('node:crypto', suite, b.subarray(0, hpKeyLength)).mask(sample),
          ),
        );
      }
    });
  },
);

describe.skipIf(addon === undefined)('the raw addon rejects bad arguments without crashing', () => {
  const binding = addon as NativeBinding;
  const key16 = new Uint8Array(16);

  it('constructors: suite, key type and length, `new`', () => {
    expect(() => new binding.Aead(0x1304, key16)).toThrowError(RangeError);
    expect(() => new binding.Aead(0x1301, new Uint8Array(32))).toThrowError(RangeError);
    expect(() => new binding.Aead(0x1303, new Uint8Array(16))).toThrowError(RangeError);
    expect(() => new binding.HeaderProtection(0x1302, key16)).toThrowError(RangeError);
    for (const bad of [
      undefined,
      null,
      'k',
      16,
      [1, 2],
      new Uint16Array(8),
      new DataView(new ArrayBuffer(16)),
    ]) {
      expect(() => new binding.Aead(0x1301, bad as unknown as Uint8Array)).toThrowError(TypeError);
      expect(() => new binding.HeaderProtection(0x1301, bad as unknown as Uint8Array)).toThrowError(
        TypeError,
      );
    }
    for (const bad of [undefined, '0x1301', {}, null]) {
      expect(() => new binding.Aead(bad as number, key16)).toThrowError(TypeError);
    }
    const call = binding.Aead as unknown as (s: number, k: Uint8Array) => unknown;
    expect(() => call(0x1301, key16)).toThrowError(TypeError);
  });

  it('sealInto / openInto: every argument checked', () => {
    const aead = new binding.Aead(0x1301, key16);
    const nonce = new Uint8Array(12);
    const aad = new Uint8Array(4);
    const input = new Uint8Array(20);
    const out = new Uint8Array(64);
    const notBytes = [
      undefined,
      null,
      7,
      'x',
      {},
      [0],
      new Int8Array(12),
      new Uint8ClampedArray(12),
      new Float64Array(2),
      new ArrayBuffer(12),
    ];
    for (const method of ['sealInto', 'openInto'] as const) {
      const f = (...args: unknown[]) =>
        (aead[method] as (...a: unknown[]) => number).apply(aead, args);
      for (const bad of notBytes) {
        expect(() => f(bad, aad, input, out, 0)).toThrowError(TypeError);
        expect(() => f(nonce, bad, input, out, 0)).toThrowError(TypeError);
        expect(() => f(nonce, aad, bad, out, 0)).toThrowError(TypeError);
        expect(() => f(nonce, aad, input, bad, 0)).toThrowError(TypeError);
      }
      for (const offset of [undefined, '0', null, 1n]) {
        expect(() => f(nonce, aad, input, out, offset)).toThrowError(TypeError);
      }
      for (const offset of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 65, 2 ** 53, -0.1]) {
        expect(() => f(nonce, aad, input, out, offset)).toThrowError(RangeError);
      }
      expect(() => f(new Uint8Array(11), aad, input, out, 0)).toThrowError(RangeError);
      expect(() => f(new Uint8Array(13), aad, input, out, 0)).toThrowError(RangeError);
      const tooSmall = new Uint8Array(method === 'sealInto' ? 35 : 3);
      expect(() => f(nonce, aad, input, tooSmall, 0)).toThrowError(RangeError);
      expect(() => f(nonce, aad, input, out, 64 - 3)).toThrowError(RangeError);
      expect(() => f()).toThrowError(TypeError);
      // Wrong receiver: N-API refuses to unwrap it.
      expect(() =>
        (aead[method] as (...a: unknown[]) => number).call({}, nonce, aad, input, out, 0),
      ).toThrowError(TypeError);
    }
    // A detached output has no room; a detached (empty) input seals to a bare tag.
    const detached = new Uint8Array(64);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => aead.sealInto(nonce, aad, input, detached, 0)).toThrowError(RangeError);
    expect(aead.sealInto(nonce, aad, detached, out, 0)).toBe(16);
    // Still fine after all that.
    expect(aead.sealInto(nonce, aad, input, out, 0)).toBe(36);
    expect(aead.openInto(nonce, aad, out.subarray(0, 36), out, 0)).toBe(20);
    expect(aead.openInto(nonce, aad, out.subarray(0, 15), out, 0)).toBe(-1);
  });

  it('mask: buffer, sample offset and output checked', () => {
    const hp = new binding.HeaderProtection(0x1303, new Uint8Array(32));
    const buf = new Uint8Array(30);
    const out = new Uint8Array(8);
    expect(() => hp.mask(buf, 15, out, 0)).toThrowError(RangeError);
    expect(() => hp.mask(buf, 31, out, 0)).toThrowError(RangeError);
    expect(() => hp.mask(buf, -1, out, 0)).toThrowError(RangeError);
    expect(() => hp.mask(buf, 0, out, 4)).toThrowError(RangeError);
    expect(() => hp.mask(buf, 0, out, 9)).toThrowError(RangeError);
    expect(() => hp.mask(buf, 0, new Uint16Array(8) as unknown as Uint8Array, 0)).toThrowError(
      TypeError,
    );
    expect(() => hp.mask('x' as unknown as Uint8Array, 0, out, 0)).toThrowError(TypeError);
    expect(() => hp.mask(buf, '0' as unknown as number, out, 0)).toThrowError(TypeError);
    expect(() => hp.mask.call({}, buf, 0, out, 0)).toThrowError(TypeError);
    out.fill(0xaa);
    hp.mask(buf, 14, out, 3);
    expect(out.subarray(0, 3).every((b) => b === 0xaa)).toBe(true);
    expect(out.subarray(3).some((b) => b !== 0xaa)).toBe(true);
  });
});
