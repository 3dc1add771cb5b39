import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, CodecError, fromHex, toHex } from '../../src/wire/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
}

describe('ByteReader / ByteWriter', () => {
  it('round-trips fixed-width integers and vectors', () => {
    const w = new ByteWriter(4);
    w.u8(0xab).u16(0xbeef).u24(0x123456).u32(0xdeadbeef).u64(0x0102030405060708n);
    w.vec8(fromHex('0102')).vec16(fromHex('03')).vec24(new Uint8Array(0)).vecVarint(fromHex('ff'));
    const r = new ByteReader(w.view());
    expect(r.u8()).toBe(0xab);
    expect(r.u16()).toBe(0xbeef);
    expect(r.u24()).toBe(0x123456);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.u64()).toBe(0x0102030405060708n);
    expect(toHex(r.vec8())).toBe('0102');
    expect(toHex(r.vec16())).toBe('03');
    expect(r.vec24().length).toBe(0);
    expect(toHex(r.vecVarint())).toBe('ff');
    r.expectEnd();
  });

  it('honours byteOffset of views into a larger buffer (DataView regression)', () => {
    const pool = new Uint8Array(64);
    pool.set([0x12, 0x34, 0x56, 0x78, 0x9a], 10);
    const view = pool.subarray(10, 15);
    const r = new ByteReader(view);
    expect(r.u16()).toBe(0x1234);
    expect(r.u16()).toBe(0x5678);
    const w = ByteWriter.into(pool.subarray(40, 44));
    w.u32(0xcafebabe);
    expect(toHex(pool.subarray(40, 44))).toBe('cafebabe');
    expect(pool[39]).toBe(0);
    expect(pool[44]).toBe(0);
  });

  it('a fixed writer rewinds to a new window and is bounded by its end', () => {
    const buf = new Uint8Array(16);
    const w = ByteWriter.into(buf);
    w.u32(0x01020304);
    w.rewind(8, 12);
    expect(w.length).toBe(0);
    w.u16(0xaabb).u8(0xcc);
    expect(w.position).toBe(11);
    expect(toHex(w.view())).toBe('aabbcc');
    expect(codeOf(() => w.u16(0))).toBe('TOO_LARGE'); // 12 is the end, not 16
    w.u8(0xdd);
    expect(toHex(buf)).toBe('0102030400000000aabbccdd00000000');
    expect(codeOf(() => w.rewind(4, 17))).toBe('TOO_LARGE');
    expect(codeOf(() => w.rewind(5, 4))).toBe('TOO_LARGE');
    expect(codeOf(() => new ByteWriter(8).rewind(0, 4))).toBe('TOO_LARGE'); // growable
  });

  it('reports truncation, caps and exact consumption with typed codes', () => {
    expect(codeOf(() => new ByteReader(fromHex('00')).u16())).toBe('TRUNCATED');
    expect(codeOf(() => new ByteReader(fromHex('05 01')).vec8())).toBe('TRUNCATED');
    expect(codeOf(() => new ByteReader(fromHex('05 0102030405')).vec8(4))).toBe('TOO_LARGE');
    expect(codeOf(() => new ByteReader(fromHex('0102')).expectEnd())).toBe('LENGTH_MISMATCH');
    expect(
      codeOf(() =>
        new ByteReader(fromHex('010203')).block(3, (r) => {
          r.u8();
        }),
      ),
    ).toBe('LENGTH_MISMATCH');
    expect(codeOf(() => new ByteReader(fromHex('01')).skip(2))).toBe('TRUNCATED');
    expect(codeOf(() => ByteWriter.into(new Uint8Array(3)).u32(1))).toBe('TOO_LARGE');
    expect(codeOf(() => new ByteWriter().vec8(new Uint8Array(256)))).toBe('TOO_LARGE');
  });

  it('child readers are confined to their window', () => {
    const r = new ByteReader(fromHex('02 aabb cc'));
    const len = r.u8();
    const child = r.sub(len);
    expect(child.u16()).toBe(0xaabb);
    expect(codeOf(() => child.u8())).toBe('TRUNCATED');
    expect(r.u8()).toBe(0xcc);
  });

  it('lengthPrefixed back-fills every prefix kind, moving varint bodies as needed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('u8', 'u16', 'u24', 'varint'),
        fc.uint8Array({ maxLength: 300 }),
        (kind, body) => {
          if (kind === 'u8' && body.length > 255) return;
          const w = new ByteWriter(8);
          w.u8(0x77);
          w.lengthPrefixed(kind as 'u8', (x) => {
            x.bytes(body);
          });
          w.u8(0x99);
          const r = new ByteReader(w.view());
          expect(r.u8()).toBe(0x77);
          const got =
            kind === 'u8'
              ? r.vec8()
              : kind === 'u16'
                ? r.vec16()
                : kind === 'u24'
                  ? r.vec24()
                  : r.vecVarint();
          expect(toHex(got)).toBe(toHex(body));
          expect(r.u8()).toBe(0x99);
          r.expectEnd();
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a u8 prefix refuses a body over 255 bytes', () => {
    expect(
      codeOf(() =>
        new ByteWriter().lengthPrefixed('u8', (w) => {
          w.zeros(256);
        }),
      ),
    ).toBe('TOO_LARGE');
  });

  it('random reads over random bytes only ever throw CodecError', () => {
    const ops = [
      'u8',
      'u16',
      'u24',
      'u32',
      'u64',
      'varint',
      'varintBig',
      'vec8',
      'vec16',
      'vecVarint',
    ] as const;
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.constantFrom(...ops), { maxLength: 12 }),
        (bytes, seq) => {
          const r = new ByteReader(bytes);
          try {
            for (const op of seq) r[op]();
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
