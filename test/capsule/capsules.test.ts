import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  capsuleHeaderLength,
  encodeCapsule,
  encodeDatagramCapsule,
  writeCapsule,
  writeCapsuleHeader,
} from '../../src/capsule/capsules.js';
import { parseCapsules } from '../../src/capsule/parser.js';
import { ByteReader, ByteWriter, fromHex, toHex } from '../../src/wire/index.js';
import { bytesArb, reasonOf } from './helpers.js';

describe('capsule encoders (RFC 9297 §3.2, §3.5)', () => {
  it('encode the DATAGRAM capsule as type 0x00, length, payload', () => {
    expect(toHex(encodeDatagramCapsule(fromHex('0b02aabb')))).toBe('00040b02aabb');
    expect(toHex(encodeDatagramCapsule(new Uint8Array(0)))).toBe('0000');
    // A 64-byte value needs a 2-byte length: 01xxxxxx xxxxxxxx.
    expect(toHex(encodeDatagramCapsule(new Uint8Array(64)).subarray(0, 3))).toBe('004040');
  });

  it('encode any type, including 4- and 8-byte types', () => {
    expect(toHex(encodeCapsule(0xffe600, fromHex('31323334')))).toBe('80ffe6000431323334');
    expect(toHex(encodeCapsule((1n << 62n) - 1n, fromHex('ff')))).toBe('ffffffffffffffff01ff');
  });

  it('write a header in place and report its length', () => {
    const buf = new Uint8Array(16);
    const at = writeCapsuleHeader(buf, 2, 0x11, 300);
    expect(at).toBe(2 + capsuleHeaderLength(0x11, 300));
    expect(toHex(buf.subarray(2, at))).toBe('11412c');
    const w = new ByteWriter(4);
    writeCapsule(w, 0x12, fromHex('02'));
    expect(toHex(w.view())).toBe('120102');
  });

  it('refuse types of 2^62 and above, and full buffers, with CapsuleError', () => {
    expect(reasonOf(() => encodeCapsule(1n << 62n, new Uint8Array(0)))).toBe('VARINT_RANGE');
    expect(reasonOf(() => encodeCapsule(-1, new Uint8Array(0)))).toBe('VARINT_RANGE');
    expect(reasonOf(() => writeCapsuleHeader(new Uint8Array(2), 0, 0x11, 300))).toBe('TOO_LARGE');
  });

  it('produce Type, Length, Value that a plain reader takes apart (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), bytesArb(100), (type, value) => {
        const bytes = encodeCapsule(type, value);
        expect(bytes.length).toBe(capsuleHeaderLength(type, value.length) + value.length);
        const r = new ByteReader(bytes);
        expect(r.varintBig()).toBe(type);
        expect(toHex(r.vecVarint())).toBe(toHex(value));
        r.expectEnd();
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trip DATAGRAM capsules through the parser (property)', () => {
    fc.assert(
      fc.property(bytesArb(2000), (payload) => {
        const [c, ...rest] = parseCapsules(encodeDatagramCapsule(payload));
        expect(rest).toEqual([]);
        expect(c.type).toBe(0);
        expect(toHex(c.value)).toBe(toHex(payload));
      }),
      { numRuns: 2000 },
    );
  });
});
