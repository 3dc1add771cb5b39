/**
 * The addon's one-call packet methods (Aead.sealPacket / openPacket, native/masque_native.c)
 * called directly: every argument checked before a byte is written, a clear TypeError or
 * RangeError for bad ones, never a crash or an access outside the packet. Their output is
 * checked against the node:crypto path in test/quic/protection/packet-protector-native.test.ts.
 * The addon must be built: these tests fail rather than skip without it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadNativeAddon,
  type NativeBinding,
  type NativeHeaderProtectionHandle,
} from '../../src/crypto/native.js';
import { toHex } from '../../src/wire/index.js';

const addon = loadNativeAddon();

/** The binding, or a failed test (not a skip) when the addon is not built. */
function binding(): NativeBinding {
  expect(addon, 'the native addon must be built (scripts/build-native.mjs)').toBeDefined();
  return addon as NativeBinding;
}

type Seal = (...args: unknown[]) => number;

function keys(suite = 0x1301) {
  const b = binding();
  const keyLength = suite === 0x1301 ? 16 : 32;
  const aead = new b.Aead(suite, new Uint8Array(keyLength).fill(1), new Uint8Array(12).fill(2));
  const hp = new b.HeaderProtection(suite, new Uint8Array(keyLength).fill(3));
  const seal = (...args: unknown[]) => (aead.sealPacket as Seal).apply(aead, args);
  const open = (...args: unknown[]) => (aead.openPacket as Seal).apply(aead, args);
  return { aead, hp, seal, open };
}

describe('Aead(suite, key, iv): the packet IV', () => {
  it('is optional, a 12-byte Uint8Array when given', () => {
    const b = binding();
    const key = new Uint8Array(16);
    expect(() => new b.Aead(0x1301, key)).not.toThrow();
    expect(() => new b.Aead(0x1301, key, undefined)).not.toThrow();
    for (const bad of [null, 'iv', 12, {}, [0], new Uint16Array(6), new ArrayBuffer(12)]) {
      expect(() => new b.Aead(0x1301, key, bad as unknown as Uint8Array)).toThrowError(TypeError);
    }
    for (const n of [0, 11, 13, 16]) {
      expect(() => new b.Aead(0x1301, key, new Uint8Array(n))).toThrowError(RangeError);
    }
  });

  it('a key made without it refuses the packet calls', () => {
    const b = binding();
    const aead = new b.Aead(0x1301, new Uint8Array(16));
    const hp = new b.HeaderProtection(0x1301, new Uint8Array(16));
    const packet = new Uint8Array(64);
    expect(() => aead.sealPacket?.(packet, 9, 2, 1, 20, hp)).toThrowError(/made without an IV/);
    expect(() => aead.openPacket?.(packet, 9, 2, 1)).toThrowError(TypeError);
    expect(packet.every((x) => x === 0)).toBe(true);
  });
});

describe('sealPacket / openPacket reject bad arguments before touching the packet', () => {
  const notBytes = [undefined, null, 7, 'x', {}, [0], new Int8Array(64), new Float64Array(8)];

  it('sealPacket: packet, offsets, lengths, packet number, header protection', () => {
    const { aead, hp, seal } = keys();
    const b = binding();
    const packet = new Uint8Array(64).fill(0x33);
    const untouched = () => expect(packet.every((x) => x === 0x33)).toBe(true);
    // Valid: 9-byte header, 2-byte pn, 37-byte payload, tag: exactly 64 bytes.
    const ok = [packet, 9, 2, 5, 37, hp] as const;
    const withArg = (i: number, v: unknown) => ok.map((x, j) => (j === i ? v : x));
    for (const bad of notBytes) expect(() => seal(...withArg(0, bad))).toThrowError(TypeError);
    for (const i of [1, 2, 3, 4]) {
      for (const bad of [undefined, '1', null, 1n, {}]) {
        expect(() => seal(...withArg(i, bad))).toThrowError(TypeError);
      }
      for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, -0.1, 2 ** 64]) {
        expect(() => seal(...withArg(i, bad))).toThrowError(RangeError);
      }
    }
    const rangeErrors = [
      withArg(1, 0), // pnOffset 0: byte 0 is the header's
      withArg(1, 65), // pnOffset past the packet
      withArg(1, 30), // pn + payload + tag past the end
      withArg(2, 0), // pnLength 0
      withArg(2, 5), // pnLength 5
      withArg(3, 2 ** 53), // pn past 2^53 - 1
      withArg(4, 38), // no room for the tag
      withArg(4, 65),
      [packet, 62, 2, 0, 0, hp], // the pn itself does not fit
      [packet, 9, 1, 5, 2, hp], // pn + payload = 3 < 4: no full sample (RFC 9001 §5.4.2)
      [packet, 9, 3, 5, 0, hp],
      [new Uint8Array(0), 0, 1, 0, 0, hp],
    ];
    for (const args of rangeErrors) expect(() => seal(...args)).toThrowError(RangeError);
    // The header protection: a HeaderProtection of the same suite, nothing else.
    const others = [
      undefined,
      null,
      {},
      hp.mask,
      packet,
      aead,
      new b.Aead(0x1301, new Uint8Array(16), new Uint8Array(12)),
      b.Scramble ? new b.Scramble(new Uint8Array(32)) : {},
      Object.create(Object.getPrototypeOf(hp)),
    ];
    for (const bad of others) {
      expect(() => seal(...withArg(5, bad))).toThrowError(/hp must be a HeaderProtection/);
    }
    const otherSuite = new b.HeaderProtection(0x1302, new Uint8Array(32));
    expect(() => seal(...withArg(5, otherSuite))).toThrowError(RangeError);
    // Wrong receiver: V8 refuses the call.
    expect(() => (aead.sealPacket as Seal).call(hp, ...ok)).toThrowError(TypeError);
    expect(() => (aead.sealPacket as Seal).call({}, ...ok)).toThrowError(TypeError);
    expect(() => seal()).toThrowError(TypeError);
    untouched();
    // A detached buffer is empty: nothing fits.
    const detached = new Uint8Array(64);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => seal(detached, 9, 2, 5, 37, hp)).toThrowError(RangeError);
    // And the valid call still works after all that.
    expect(seal(...ok)).toBe(64);
  });

  it('openPacket: packet, offsets, packet number; -1 when no tag fits', () => {
    const { aead, hp, open } = keys();
    const packet = new Uint8Array(64).fill(0x44);
    const ok = [packet, 9, 2, 5] as const;
    const withArg = (i: number, v: unknown) => ok.map((x, j) => (j === i ? v : x));
    for (const bad of notBytes) expect(() => open(...withArg(0, bad))).toThrowError(TypeError);
    for (const i of [1, 2, 3]) {
      for (const bad of [undefined, '1', null, 1n]) {
        expect(() => open(...withArg(i, bad))).toThrowError(TypeError);
      }
      for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 64]) {
        expect(() => open(...withArg(i, bad))).toThrowError(RangeError);
      }
    }
    for (const args of [withArg(1, 65), withArg(1, 63), withArg(2, 0), withArg(2, 5)]) {
      expect(() => open(...args)).toThrowError(RangeError);
    }
    expect(() => (aead.openPacket as Seal).call(hp, ...ok)).toThrowError(TypeError);
    // Fewer than 16 bytes after the packet number: cannot authenticate.
    for (let len = 11; len < 27; len++) expect(open(packet.subarray(0, len), 9, 2, 5)).toBe(-1);
    expect(open(packet, 9, 2, 5)).toBe(-1); // a wrong tag
    expect(packet.every((x) => x === 0x44)).toBe(true);
  });

  it('random arguments never crash nor write outside the packet', () => {
    const { hp, seal, open } = keys(0x1303);
    const value = fc.oneof(
      fc.integer({ min: -3, max: 80 }),
      fc.constantFrom(0.5, Number.NaN, 2 ** 53, -0, 2 ** 32 + 1),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        value,
        value,
        value,
        value,
        (len, pnOffset, pnLength, pn, payloadLength) => {
          const buf = new Uint8Array(len + 8).fill(0x5a);
          const packet = buf.subarray(4, 4 + len);
          for (const call of [
            () => seal(packet, pnOffset, pnLength, pn, payloadLength, hp),
            () => open(packet, pnOffset, pnLength, pn),
          ]) {
            try {
              call();
            } catch (err) {
              expect(err instanceof RangeError || err instanceof TypeError).toBe(true);
            }
            expect(toHex(buf.subarray(0, 4))).toBe('5a5a5a5a');
            expect(toHex(buf.subarray(4 + len))).toBe('5a5a5a5a');
          }
        },
      ),
      { numRuns: 3000, seed: 13 },
    );
  });

  it('opens what it sealed, in place, for each suite; nothing past the packet is read', () => {
    for (const suite of [0x1301, 0x1302, 0x1303]) {
      const { seal, open, hp } = keys(suite);
      // The packet is a view in the middle of a larger buffer: the tag is its last 16 bytes.
      const buf = new Uint8Array(100).fill(0x77);
      const packet = buf.subarray(10, 90);
      packet[0] = 0x41;
      expect(seal(packet, 9, 2, 300, 53, hp)).toBe(80);
      const sealed = Uint8Array.from(packet);
      const h: NativeHeaderProtectionHandle = hp;
      // Remove header protection as the JavaScript does (RFC 9001 §5.4.1), then open.
      const mask = new Uint8Array(5);
      h.mask(packet, 13, mask, 0);
      packet[0] ^= mask[0] & 0x1f;
      packet[9] ^= mask[1];
      packet[10] ^= mask[2];
      expect(packet[0]).toBe(0x41);
      expect((packet[9] << 8) | packet[10]).toBe(300);
      expect(open(packet, 9, 2, 300)).toBe(53);
      expect(packet.subarray(11, 64).every((x) => x === 0x77)).toBe(true);
      expect(buf.subarray(0, 10).every((x) => x === 0x77)).toBe(true);
      expect(buf.subarray(90).every((x) => x === 0x77)).toBe(true);
      expect(toHex(sealed)).not.toBe(toHex(packet));
    }
  });
});
