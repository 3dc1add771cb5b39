import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCapsules } from '../../../src/capsule/parser.js';
import {
  COMPRESSION_CAPSULE_LIMITS,
  type CompressionCapsule,
  CompressionCapsuleType,
  decodeCompressionCapsule,
  encodeCompressionCapsule,
  encodeCompressionValue,
} from '../../../src/masque/capsules/compression.js';
import { ipToBytes } from '../../../src/masque/payload/ip.js';
import { fromHex, toHex } from '../../../src/wire/index.js';
import { bytesArb, reasonOf, succeedsOrCapsuleError, varintBytes } from '../../capsule/helpers.js';

const { COMPRESSION_ASSIGN, COMPRESSION_ACK, COMPRESSION_CLOSE } = CompressionCapsuleType;

const ctxArb = fc.oneof(
  fc.integer({ min: 1, max: 63 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
const capsuleArb: fc.Arbitrary<CompressionCapsule> = fc.oneof(
  ctxArb.map((contextId) => ({ type: COMPRESSION_ASSIGN, contextId, ipVersion: 0 as const })),
  fc
    .record({
      contextId: ctxArb,
      v6: fc.boolean(),
      a4: bytesArb(4, 4),
      a6: bytesArb(16, 16),
      port: fc.integer({ min: 0, max: 0xffff }),
    })
    .map(({ contextId, v6, a4, a6, port }) => ({
      type: COMPRESSION_ASSIGN,
      contextId,
      ipVersion: v6 ? (6 as const) : (4 as const),
      address: v6 ? a6 : a4,
      port,
    })),
  ctxArb.map((contextId) => ({ type: COMPRESSION_ACK, contextId })),
  ctxArb.map((contextId) => ({ type: COMPRESSION_CLOSE, contextId })),
);

function norm(c: CompressionCapsule): unknown {
  return 'address' in c ? { ...c, address: toHex(c.address) } : { ...c };
}

describe('COMPRESSION_ASSIGN / ACK / CLOSE (connect-udp-listen §3.1-§3.3)', () => {
  it('reproduces the capsules of the draft example (Appendix A), byte for byte', () => {
    // Register Context ID 2 for uncompressed payloads: Context ID 2, IP Version 0.
    expect(
      toHex(encodeCompressionCapsule({ type: COMPRESSION_ASSIGN, contextId: 2, ipVersion: 0 })),
    ).toBe('11020200');
    expect(toHex(encodeCompressionCapsule({ type: COMPRESSION_ACK, contextId: 2 }))).toBe('120102');
    // Register 203.0.113.11:60000 as Context ID 4.
    const assign4 = fromHex('1108 04 04 cb00710b ea60');
    expect(
      toHex(
        encodeCompressionCapsule({
          type: COMPRESSION_ASSIGN,
          contextId: 4,
          ipVersion: 4,
          address: ipToBytes('203.0.113.11'),
          port: 60000,
        }),
      ),
    ).toBe(toHex(assign4));
    expect(toHex(encodeCompressionCapsule({ type: COMPRESSION_ACK, contextId: 4 }))).toBe('120104');
    expect(toHex(encodeCompressionCapsule({ type: COMPRESSION_CLOSE, contextId: 2 }))).toBe(
      '130102',
    );
    const [c] = parseCapsules(assign4, { known: COMPRESSION_CAPSULE_LIMITS });
    expect(norm(decodeCompressionCapsule(c.type, c.value))).toEqual({
      type: COMPRESSION_ASSIGN,
      contextId: 4,
      ipVersion: 4,
      address: 'cb00710b',
      port: 60000,
    });
  });

  it('encodes an IPv6 registration with a 16-byte address', () => {
    const v = encodeCompressionValue({
      type: COMPRESSION_ASSIGN,
      contextId: 3,
      ipVersion: 6,
      address: ipToBytes('2001:db8::1234'),
      port: 54321,
    });
    expect(toHex(v)).toBe('030620010db8000000000000000000001234d431');
  });

  it('round-trip through encode, the parser and decode (property)', () => {
    fc.assert(
      fc.property(capsuleArb, (c) => {
        const [p, ...rest] = parseCapsules(encodeCompressionCapsule(c), {
          known: COMPRESSION_CAPSULE_LIMITS,
        });
        expect(rest).toEqual([]);
        expect(norm(decodeCompressionCapsule(p.type, p.value))).toEqual(norm(c));
      }),
      { numRuns: 3000 },
    );
  });

  it('fail every proper prefix with TRUNCATED and trailing bytes with LENGTH_MISMATCH', () => {
    fc.assert(
      fc.property(capsuleArb, bytesArb(3, 1), (c, extra) => {
        const v = encodeCompressionValue(c);
        for (let n = 0; n < v.length; n++) {
          expect(reasonOf(() => decodeCompressionCapsule(c.type, v.subarray(0, n)))).toBe(
            'TRUNCATED',
          );
        }
        const longer = new Uint8Array(v.length + extra.length);
        longer.set(v);
        longer.set(extra, v.length);
        // IP Version 0 followed by bytes is still "trailing bytes", not an address.
        expect(reasonOf(() => decodeCompressionCapsule(c.type, longer))).toBe('LENGTH_MISMATCH');
      }),
      { numRuns: 500 },
    );
  });

  it('refuse IP versions other than 0, 4 and 6 (MUST be 0, 4 or 6)', () => {
    for (const v of [1, 2, 3, 5, 7, 41, 255]) {
      expect(
        reasonOf(() =>
          decodeCompressionCapsule(
            0x11,
            fromHex(`02 ${v.toString(16).padStart(2, '0')} 01020304 0050`),
          ),
        ),
      ).toBe('MALFORMED');
    }
    expect(
      reasonOf(() =>
        encodeCompressionValue({
          type: COMPRESSION_ASSIGN,
          contextId: 2,
          ipVersion: 5 as 4,
          address: new Uint8Array(4),
          port: 1,
        }),
      ),
    ).toBe('MALFORMED');
  });

  it('refuse address lengths that do not match the IP version, and bad ports, on encode', () => {
    const base = { type: COMPRESSION_ASSIGN, contextId: 2, port: 80 } as const;
    expect(
      reasonOf(() =>
        encodeCompressionValue({ ...base, ipVersion: 4, address: new Uint8Array(16) }),
      ),
    ).toBe('MALFORMED');
    expect(
      reasonOf(() => encodeCompressionValue({ ...base, ipVersion: 6, address: new Uint8Array(4) })),
    ).toBe('MALFORMED');
    expect(
      reasonOf(() =>
        encodeCompressionValue({ ...base, ipVersion: 4, address: new Uint8Array(4), port: 65536 }),
      ),
    ).toBe('TOO_LARGE');
    // An IPv6-sized address after IP Version 4 leaves trailing bytes.
    expect(
      reasonOf(() => decodeCompressionCapsule(0x11, fromHex(`02 04 ${'00'.repeat(16)} 0050`))),
    ).toBe('LENGTH_MISMATCH');
  });

  it('refuse Context ID 0 in all three capsules', () => {
    expect(reasonOf(() => decodeCompressionCapsule(0x11, fromHex('0000')))).toBe('MALFORMED');
    expect(reasonOf(() => decodeCompressionCapsule(0x12, fromHex('00')))).toBe('MALFORMED');
    expect(reasonOf(() => decodeCompressionCapsule(0x13, fromHex('00')))).toBe('MALFORMED');
    // A non-minimal encoding of 0 is still 0.
    expect(reasonOf(() => decodeCompressionCapsule(0x13, varintBytes(0, 8)))).toBe('MALFORMED');
    expect(reasonOf(() => encodeCompressionValue({ type: COMPRESSION_CLOSE, contextId: 0 }))).toBe(
      'MALFORMED',
    );
  });

  it('accept non-minimal Context ID encodings', () => {
    expect(decodeCompressionCapsule(0x12, varintBytes(4, 8))).toEqual({
      type: COMPRESSION_ACK,
      contextId: 4,
    });
  });

  it('refuse Context IDs above 2^53 - 1 with VARINT_RANGE', () => {
    expect(reasonOf(() => decodeCompressionCapsule(0x12, varintBytes(1n << 53n)))).toBe(
      'VARINT_RANGE',
    );
  });

  it('check allocation parity and the uncompressed rule by receiver', () => {
    const fromClient = fromHex('0200'); // Context ID 2, IP Version 0
    expect(decodeCompressionCapsule(0x11, fromClient, { receiver: 'proxy' })).toMatchObject({
      contextId: 2,
    });
    // A client never receives an even (client-allocated) registration...
    expect(reasonOf(() => decodeCompressionCapsule(0x11, fromClient, { receiver: 'client' }))).toBe(
      'MALFORMED',
    );
    // ...and must treat IP Version 0 from the proxy as malformed (connect-udp-listen §4).
    expect(
      reasonOf(() => decodeCompressionCapsule(0x11, fromHex('0300'), { receiver: 'client' })),
    ).toBe('MALFORMED');
    const compressedFromProxy = fromHex('03 04 c000022a c350');
    expect(
      decodeCompressionCapsule(0x11, compressedFromProxy, { receiver: 'client' }),
    ).toMatchObject({ contextId: 3, port: 50000 });
    expect(
      reasonOf(() => decodeCompressionCapsule(0x11, compressedFromProxy, { receiver: 'proxy' })),
    ).toBe('MALFORMED');
  });

  it('refuse other capsule types', () => {
    expect(reasonOf(() => decodeCompressionCapsule(0x00, fromHex('02')))).toBe('MALFORMED');
  });

  it('decode arbitrary bytes or throw CapsuleError (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x11, 0x12, 0x13),
        bytesArb(30),
        fc.constantFrom(undefined, 'client' as const, 'proxy' as const),
        (type, bytes, receiver) => {
          succeedsOrCapsuleError(() => decodeCompressionCapsule(type, bytes, { receiver }));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('stay within the parser caps they advertise', () => {
    fc.assert(
      fc.property(capsuleArb, (c) => {
        expect(encodeCompressionValue(c).length).toBeLessThanOrEqual(
          COMPRESSION_CAPSULE_LIMITS.get(c.type) ?? -1,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
