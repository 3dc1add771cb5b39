import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../src/wire/index.js';
import { ScrambleTransform, scrambleMinLength } from '../../transforms/scramble.js';
import {
  ScrambleNoble,
  ScrambleNobleCached,
  ScramblePerPacketCtr,
} from '../../transforms/scramble-variants.js';
import { type PacketTransform, TransformError } from '../../transforms/types.js';

// quic-proxy Appendix A.
const ORIGINAL_DCID = fromHex('002e9184cb0022ca7aecf1128c91d809e1b6853f');
const VCID = fromHex('0123456789abcdef0123456789abcdef01234567');
const ORIGINAL = fromHex(`50002e9184cb0022ca7aecf1128c91d8
  09e1b6853f1ba3bed7043a2163202304 8def32f4f8f260c290490413d24ea6`);
const IDENTITY = fromHex(`500123456789abcdef0123456789abcd
  ef012345671ba3bed7043a2163202304 8def32f4f8f260c290490413d24ea6`);
const SCRAMBLED = fromHex(`320123456789abcdef0123456789abcd
  ef012345678ebe6906e16ec5fc90a02c 0109994c3fed03f9d5d88c5f408bb6`);
const KEY = fromHex('f13a915f96fb8919d9d8655488ffea5778cac8cffbc27cd38c173bcbad955cff');
const L = 20;

type Ctor = new (key: Uint8Array) => PacketTransform;
/** The chosen transform on node:crypto even where the native addon is loaded. */
class ScrambleJs extends ScrambleTransform {
  constructor(key: Uint8Array) {
    super(key, false);
  }
}
const IMPLS: Array<[string, Ctor]> = [
  ['ScrambleTransform (chosen)', ScrambleTransform],
  ['ScrambleTransform on node:crypto', ScrambleJs],
  ['ScramblePerPacketCtr', ScramblePerPacketCtr],
  ['ScrambleNoble', ScrambleNoble],
  ['ScrambleNobleCached', ScrambleNobleCached],
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof TransformError) return e.code;
    throw e;
  }
}

/** Replaces the DCID after the first byte (quic-proxy §"Sending With Forwarded Mode"). */
function swapCid(packet: Uint8Array, oldLen: number, cid: Uint8Array): Uint8Array {
  return concatBytes(packet.subarray(0, 1), cid, packet.subarray(1 + oldLen));
}

describe('scramble: quic-proxy Appendix A vector', () => {
  it('the VCID replaces the original DCID to give the identity-transform packet', () => {
    expect(toHex(ORIGINAL.subarray(1, 1 + L))).toBe(toHex(ORIGINAL_DCID));
    expect(toHex(swapCid(ORIGINAL, L, VCID))).toBe(toHex(IDENTITY));
    expect(toHex(swapCid(IDENTITY, L, ORIGINAL_DCID))).toBe(toHex(ORIGINAL));
  });

  for (const [name, Impl] of IMPLS) {
    it(`${name}: encode (in place and into a buffer) gives the scrambled packet`, () => {
      const t = new Impl(KEY);
      const pkt = IDENTITY.slice();
      t.encode(pkt, L);
      expect(toHex(pkt)).toBe(toHex(SCRAMBLED));
      const out = new Uint8Array(IDENTITY.length + 5).fill(0xee);
      const input = IDENTITY.slice();
      t.encode(input, L, out);
      expect(toHex(out.subarray(0, IDENTITY.length))).toBe(toHex(SCRAMBLED));
      expect(toHex(out.subarray(IDENTITY.length))).toBe('eeeeeeeeee');
      expect(toHex(input)).toBe(toHex(IDENTITY));
    });

    it(`${name}: decode gives back the identity packet, then the original`, () => {
      const t = new Impl(KEY);
      const pkt = SCRAMBLED.slice();
      t.decode(pkt, L);
      expect(toHex(pkt)).toBe(toHex(IDENTITY));
      expect(toHex(swapCid(pkt, L, ORIGINAL_DCID))).toBe(toHex(ORIGINAL));
      const out = new Uint8Array(SCRAMBLED.length);
      t.decode(SCRAMBLED, L, out);
      expect(toHex(out)).toBe(toHex(IDENTITY));
    });
  }

  it('works on packets that are unaligned views into a larger buffer', () => {
    const t = new ScrambleTransform(KEY);
    for (let shift = 0; shift < 8; shift++) {
      const pool = new Uint8Array(IDENTITY.length + 16);
      pool.set(IDENTITY, shift);
      const view = pool.subarray(shift, shift + IDENTITY.length);
      t.encode(view, L);
      expect(toHex(view)).toBe(toHex(SCRAMBLED));
      const outPool = new Uint8Array(IDENTITY.length + 16);
      const outView = outPool.subarray(7 - shift, 7 - shift + IDENTITY.length);
      t.decode(view, L, outView);
      expect(toHex(outView)).toBe(toHex(IDENTITY));
    }
  });
});

const shortHeaderPacket = (cidLen: number, extraMax: number) =>
  fc
    .integer({ min: 0, max: extraMax })
    .chain((extra) =>
      fc.uint8Array({
        minLength: scrambleMinLength(cidLen) + extra,
        maxLength: scrambleMinLength(cidLen) + extra,
      }),
    )
    .map((p) => {
      p[0] &= 0x7f;
      return p;
    });

const caseArb = fc
  .record({
    key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    cidLen: fc.integer({ min: 0, max: 20 }),
  })
  .chain(({ key, cidLen }) =>
    shortHeaderPacket(cidLen, 1500 - scrambleMinLength(cidLen)).map((packet) => ({
      key,
      cidLen,
      packet,
    })),
  );

describe('scramble: properties', () => {
  it('decode(encode(p)) = p; CID kept; Header Form bit clear; output differs', () => {
    fc.assert(
      fc.property(caseArb, ({ key, cidLen, packet }) => {
        const t = new ScrambleTransform(key);
        const enc = new Uint8Array(packet.length);
        t.encode(packet, cidLen, enc);
        expect(enc[0] & 0x80).toBe(0);
        expect(toHex(enc.subarray(1, 1 + cidLen))).toBe(toHex(packet.subarray(1, 1 + cidLen)));
        // The 16 IV bytes are AES-ECB encrypted: equal only with probability 2^-128.
        expect(toHex(enc)).not.toBe(toHex(packet));
        const dec = enc.slice();
        t.decode(dec, cidLen);
        expect(toHex(dec)).toBe(toHex(packet));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the per-packet aes-128-ctr implementation byte for byte', () => {
    fc.assert(
      fc.property(caseArb, ({ key, cidLen, packet }) => {
        const a = packet.slice();
        const b = packet.slice();
        new ScrambleTransform(key).encode(a, cidLen);
        new ScramblePerPacketCtr(key).encode(b, cidLen);
        expect(toHex(a)).toBe(toHex(b));
        new ScrambleTransform(key).decode(a, cidLen);
        expect(toHex(a)).toBe(toHex(packet));
      }),
      { numRuns: 2000 },
    );
  });

  it('handles CID lengths up to 255 and packets beyond the initial scratch size', () => {
    const key = new Uint8Array(32).map((_, i) => i * 7);
    const t = new ScrambleTransform(key);
    const ref = new ScramblePerPacketCtr(key);
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 255 })
          .chain((cidLen) => shortHeaderPacket(cidLen, 5000).map((packet) => ({ cidLen, packet }))),
        ({ cidLen, packet }) => {
          const a = packet.slice();
          const b = packet.slice();
          t.encode(a, cidLen);
          ref.encode(b, cidLen);
          expect(toHex(a)).toBe(toHex(b));
          t.decode(a, cidLen);
          expect(toHex(a)).toBe(toHex(packet));
        },
      ),
      { numRuns: 300 },
    );
    const big = new Uint8Array(65527);
    const copy = big.slice();
    t.encode(big, 8);
    t.decode(big, 8);
    expect(toHex(big)).toBe(toHex(copy));
  });

  it('increments the counter over the full 128-bit block, carrying and wrapping', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const t = new ScrambleTransform(key);
    const ivs = [
      'ffffffffffffffffffffffffffffffff', // wraps to zero
      '00000000000000000000000ffffffffe', // carry into the third word
      '0000000000000000fffffffffffffffd', // carry across two words
      '00112233ffffffffffffffffffffffff',
    ];
    for (const ivHex of ivs) {
      const cidLen = 4;
      const packet = concatBytes(
        fromHex('41'),
        fromHex('aabbccdd'),
        fromHex(ivHex),
        new Uint8Array(100),
      );
      const out = packet.slice();
      t.encode(out, cidLen);
      // Independent keystream: OpenSSL's aes-128-ctr increments the whole 128-bit block.
      const ctrInput = concatBytes(packet.subarray(0, 1), packet.subarray(1 + cidLen + 16));
      const ks = createCipheriv('aes-128-ctr', key.subarray(0, 16), fromHex(ivHex)).update(
        ctrInput,
      );
      expect(out[0]).toBe(ks[0] & 0x7f);
      expect(toHex(out.subarray(1 + cidLen + 16))).toBe(toHex(ks.subarray(1)));
      t.decode(out, cidLen);
      expect(toHex(out)).toBe(toHex(packet));
    }
  });
});

describe('scramble: errors', () => {
  const t = new ScrambleTransform(KEY);

  it('every packet shorter than 1 + L + 16 is PACKET_TOO_SHORT, for every CID length 0..20', () => {
    for (let cidLen = 0; cidLen <= 20; cidLen++) {
      for (let len = 0; len < 1 + cidLen + 16; len++) {
        const p = new Uint8Array(len);
        expect(codeOf(() => t.encode(p, cidLen))).toBe('PACKET_TOO_SHORT');
        expect(codeOf(() => t.decode(p, cidLen))).toBe('PACKET_TOO_SHORT');
      }
      const p = new Uint8Array(1 + cidLen + 16);
      expect(codeOf(() => t.encode(p, cidLen))).toBeUndefined();
      expect(codeOf(() => t.decode(p, cidLen))).toBeUndefined();
    }
  });

  it('rejects long headers, bad CID lengths, small outputs and bad keys', () => {
    expect(codeOf(() => t.encode(fromHex(`c0${'00'.repeat(40)}`), 4))).toBe('NOT_SHORT_HEADER');
    expect(codeOf(() => t.decode(fromHex(`80${'00'.repeat(40)}`), 4))).toBe('NOT_SHORT_HEADER');
    for (const bad of [-1, 1.5, 256, Number.NaN]) {
      expect(codeOf(() => t.encode(new Uint8Array(300), bad))).toBe('BAD_CID_LENGTH');
    }
    expect(codeOf(() => t.encode(new Uint8Array(40), 4, new Uint8Array(39)))).toBe(
      'OUTPUT_TOO_SMALL',
    );
    for (const [, Impl] of IMPLS) {
      for (const len of [0, 16, 31, 33, 64]) {
        expect(codeOf(() => new Impl(new Uint8Array(len)))).toBe('BAD_KEY');
      }
    }
  });

  it('arbitrary bytes and CID lengths either transform or throw TransformError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: -2, max: 260 }),
        (packet, cidLen) => {
          codeOf(() => t.encode(packet.slice(), cidLen));
          codeOf(() => t.decode(packet.slice(), cidLen));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a rejected packet is left untouched', () => {
    const p = new Uint8Array(20).fill(0x11);
    expect(codeOf(() => t.encode(p, 4))).toBe('PACKET_TOO_SHORT');
    expect(toHex(p)).toBe('11'.repeat(20));
  });
});

describe('scramble-dt on the native addon (issue 13)', () => {
  it('is in use here unless MASQUE_NATIVE=0 (CI builds the addon)', () => {
    expect(new ScrambleTransform(KEY).native).toBe(process.env.MASQUE_NATIVE !== '0');
    expect(new ScrambleJs(KEY).native).toBe(false);
  });

  it("gives the node:crypto path's bytes: in place, into another buffer, into an overlapping view", () => {
    const native = new ScrambleTransform(KEY);
    const js = new ScrambleJs(KEY);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 1400 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (cidLength, extra, seed) => {
          const n = 1 + cidLength + 16 + extra;
          const packet = Uint8Array.from({ length: n }, (_, i) => (seed + i * 131) & 0xff);
          packet[0] &= 0x7f;
          const a = packet.slice();
          const b = packet.slice();
          native.encode(a, cidLength);
          js.encode(b, cidLength);
          expect(toHex(a)).toBe(toHex(b));
          const out = new Uint8Array(n);
          native.decode(a, cidLength, out);
          expect(toHex(out)).toBe(toHex(packet));
        },
      ),
      { numRuns: 200, seed: 7 },
    );
  });

  it('the raw addon refuses bad arguments instead of crashing', async () => {
    const { loadNativeAddon } = await import('../../src/crypto/native.js');
    const Native = loadNativeAddon()?.Scramble;
    expect(Native).toBeDefined();
    if (Native === undefined) return;
    expect(() => new Native(new Uint8Array(31))).toThrow(RangeError);
    const x = new Native(KEY);
    const p = new Uint8Array(40);
    expect(() => x.apply(false, p, 30, p)).toThrow(RangeError); // no room for the IV
    expect(() => x.apply(false, p, 4, new Uint8Array(10))).toThrow(RangeError);
    expect(() => x.apply(false, p, 256, p)).toThrow(RangeError);
    expect(() => x.apply(false, p.subarray(0, 30), 4, p.subarray(1, 31))).toThrow(RangeError);
    expect(() => x.apply(1 as unknown as boolean, p, 4, p)).toThrow(TypeError);
  });
});
