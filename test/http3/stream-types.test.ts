import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  encodeUniStreamHeader,
  type H3FrameEvent,
  H3FrameParser,
  H3StreamType,
  isReservedType,
  peekVarint,
  reservedStreamType,
  streamTypeName,
  VarintPrefixReader,
  WEBTRANSPORT_BIDI_SIGNAL,
  WEBTRANSPORT_UNI_STREAM_TYPE,
} from '../../src/http3/index.js';
import { ByteWriter, fromHex, toHex, VARINT_MAX } from '../../src/wire/index.js';

describe('unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2)', () => {
  it('has the registered values and the WebTransport ones', () => {
    expect(H3StreamType).toEqual({ CONTROL: 0, PUSH: 1, QPACK_ENCODER: 2, QPACK_DECODER: 3 });
    expect(WEBTRANSPORT_UNI_STREAM_TYPE).toBe(0x54);
    expect(WEBTRANSPORT_BIDI_SIGNAL).toBe(0x41);
  });

  it('recognizes reserved stream types (§6.2.3), as number or bigint', () => {
    expect(isReservedType(0x21)).toBe(true);
    expect(isReservedType(0x40n)).toBe(true);
    expect(isReservedType(0x54)).toBe(false);
    expect(isReservedType(0x3ffffffffffffffen)).toBe(true);
    expect(reservedStreamType(3)).toBe(0x7en);
    for (const t of [0, 1, 2, 3]) expect(isReservedType(t)).toBe(false);
  });

  it('names stream types', () => {
    expect(streamTypeName(0)).toBe('CONTROL');
    expect(streamTypeName(3n)).toBe('QPACK_DECODER');
    expect(streamTypeName(0x54)).toBe('WEBTRANSPORT_UNI');
    expect(streamTypeName(0x21n)).toBe('RESERVED(0x21)');
    expect(streamTypeName(0x99)).toBe('0x99');
  });

  it('encodes stream headers: control 0x00, push 0x01 + Push ID (§6.2.2)', () => {
    expect(toHex(encodeUniStreamHeader(H3StreamType.CONTROL))).toBe('00');
    expect(toHex(encodeUniStreamHeader(H3StreamType.QPACK_ENCODER))).toBe('02');
    expect(toHex(encodeUniStreamHeader(H3StreamType.PUSH, 300))).toBe('01412c');
    // A reserved type 0x1f * 2 + 0x21 = 0x5f needs a 2-byte varint.
    expect(toHex(encodeUniStreamHeader(reservedStreamType(2)))).toBe('405f');
  });
});

describe('leading varint of a stream', () => {
  it('peekVarint returns the exact value and length, or undefined when incomplete', () => {
    expect(peekVarint(fromHex('01'))).toEqual({ value: 1n, length: 1 });
    expect(peekVarint(fromHex('41'))).toBeUndefined();
    expect(peekVarint(fromHex('4041aa'))).toEqual({ value: 0x41n, length: 2 });
    expect(peekVarint(fromHex('c2197c5eff14e88c'))).toEqual({
      value: 151288809941952652n,
      length: 8,
    });
    expect(peekVarint(fromHex('c2197c5eff14e8'))).toBeUndefined();
    expect(peekVarint(new Uint8Array(0))).toBeUndefined();
    expect(peekVarint(fromHex('0040'), 1)).toBeUndefined();
  });

  it('VarintPrefixReader reads any varint fed one byte at a time or at any split', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: VARINT_MAX }),
        fc.uint8Array({ maxLength: 6 }),
        fc.nat(),
        (value, tail, cutSeed) => {
          const enc = new ByteWriter().varint(value).toBytes();
          const bytes = new Uint8Array([...enc, ...tail]);
          // One byte at a time.
          const r1 = new VarintPrefixReader();
          let used = 0;
          for (let i = 0; i < bytes.length && !r1.done; i++)
            used += r1.push(bytes.subarray(i, i + 1));
          expect(r1.done).toBe(true);
          expect(used).toBe(enc.length);
          expect(r1.value).toBe(value);
          expect(toHex(r1.encoded)).toBe(toHex(enc));
          // Two chunks split anywhere.
          const cut = cutSeed % (bytes.length + 1);
          const r2 = new VarintPrefixReader();
          let pos = r2.push(bytes.subarray(0, cut));
          let rest: Uint8Array;
          if (r2.done) rest = bytes.subarray(pos, cut);
          else {
            const second = bytes.subarray(cut);
            pos = r2.push(second);
            rest = second.subarray(pos);
          }
          expect(r2.value).toBe(value);
          if (cut >= enc.length) expect(rest.length).toBe(cut - enc.length);
          else expect(toHex(rest)).toBe(toHex(tail));
          expect(r2.valueClamped).toBe(
            value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('VarintPrefixReader refuses to report before it is done, and resets', () => {
    const r = new VarintPrefixReader();
    expect(r.push(fromHex('40'))).toBe(1);
    expect(r.done).toBe(false);
    expect(r.buffered).toBe(1);
    expect(() => r.value).toThrowError();
    expect(r.push(fromHex('41ff'))).toBe(1);
    expect(r.value).toBe(0x41n);
    expect(r.push(fromHex('ff'))).toBe(0);
    r.reset();
    expect(r.done).toBe(false);
    expect(r.push(new Uint8Array(0))).toBe(0);
  });

  it('lets a caller peek a bidi stream for WEBTRANSPORT_STREAM, else replay into the frame parser', () => {
    const wt = fromHex('4041 04 68656c6c6f');
    const h3 = encodeFrame({ kind: 'HEADERS', fieldSection: fromHex('0000d1') });
    for (const [stream, isWt] of [
      [wt, true],
      [h3, false],
    ] as const) {
      const prefix = new VarintPrefixReader();
      const parser = new H3FrameParser();
      const events: H3FrameEvent[] = [];
      const wtBytes: number[] = [];
      for (let i = 0; i < stream.length; i++) {
        let rest = stream.subarray(i, i + 1);
        if (!prefix.done) {
          rest = rest.subarray(prefix.push(rest));
          if (!prefix.done) continue;
          if (prefix.value !== BigInt(WEBTRANSPORT_BIDI_SIGNAL))
            parser.push(prefix.encoded, events);
        }
        if (prefix.value === BigInt(WEBTRANSPORT_BIDI_SIGNAL)) wtBytes.push(...rest);
        else parser.push(rest, events);
      }
      parser.end();
      if (isWt) {
        expect(toHex(Uint8Array.from(wtBytes))).toBe('0468656c6c6f');
        expect(events).toEqual([]);
      } else {
        expect(wtBytes).toEqual([]);
        expect(events).toEqual([
          { kind: 'frame-header', type: 1, length: 3 },
          { kind: 'frame', frame: { kind: 'HEADERS', fieldSection: fromHex('0000d1') } },
        ]);
      }
    }
  });
});
