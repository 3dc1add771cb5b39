import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeDataFrameHeader,
  encodeFrame,
  encodeFrames,
  H3Error,
  H3ErrorCode,
  type H3Frame,
  type H3FrameEvent,
  H3FrameParser,
  type H3FrameParserOptions,
} from '../../src/http3/index.js';
import { ByteWriter, decodeVarint, fromHex, toHex } from '../../src/wire/index.js';
import { frameArb, splitAt } from './arbitraries.js';

type Norm = { h: [number, number] } | { d: string } | { f: unknown };

/** Events with consecutive DATA pieces merged, so differently split inputs compare equal. */
function normalize(events: H3FrameEvent[]): Norm[] {
  const out: Norm[] = [];
  for (const e of events) {
    if (e.kind === 'frame-header') out.push({ h: [e.type, e.length] });
    else if (e.kind === 'frame') out.push({ f: e.frame });
    else {
      expect(e.chunk.length).toBeGreaterThan(0);
      const last = out.at(-1);
      if (last !== undefined && 'd' in last) last.d += toHex(e.chunk);
      else out.push({ d: toHex(e.chunk) });
    }
  }
  return out;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** What the parser must report for `frames`, derived from the frames themselves. */
function expected(frames: H3Frame[]): Norm[] {
  const out: Norm[] = [];
  for (const f of frames) {
    const bytes = encodeFrame(f);
    switch (f.kind) {
      case 'DATA':
        out.push({ h: [0, f.payload.length] });
        if (f.payload.length > 0) out.push({ d: toHex(f.payload) });
        break;
      case 'UNKNOWN':
        out.push({
          h: [f.type > SAFE ? Number.MAX_SAFE_INTEGER : Number(f.type), f.payload.length],
        });
        break;
      default:
        // Registered types are one byte; the payload length varint follows.
        out.push({ h: [bytes[0], decodeVarint(bytes, 1).value] }, { f });
    }
  }
  return out;
}

function feed(parser: H3FrameParser, chunks: Uint8Array[]): H3FrameEvent[] {
  const events: H3FrameEvent[] = [];
  for (const c of chunks) parser.push(c, events);
  parser.end();
  return events;
}

function oneByteChunks(bytes: Uint8Array): Uint8Array[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

function h3Error(fn: () => unknown): H3Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    return err as H3Error;
  }
  throw new Error('expected an H3Error');
}

const sequences = fc.array(
  fc.oneof({ weight: 6, arbitrary: frameArb() }, { weight: 1, arbitrary: frameArb(5000) }),
  {
    maxLength: 8,
  },
);

describe('H3FrameParser: same events however the stream is split', () => {
  it('whole buffer, one byte at a time and random split points agree with the frames', () => {
    fc.assert(
      fc.property(sequences, fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const bytes = encodeFrames(frames);
        const want = expected(frames);
        expect(normalize(feed(new H3FrameParser(), [bytes]))).toEqual(want);
        expect(normalize(feed(new H3FrameParser(), splitAt(bytes, cuts)))).toEqual(want);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(sequences, (frames) => {
        const bytes = encodeFrames(frames);
        expect(normalize(feed(new H3FrameParser(), oneByteChunks(bytes)))).toEqual(
          expected(frames),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('accepts non-minimal varints split across chunks (RFC 9000 §16)', () => {
    const bytes = fromHex('4000 4001 aa 80000007 02 4004');
    expect(normalize(feed(new H3FrameParser(), oneByteChunks(bytes)))).toEqual([
      { h: [0, 1] },
      { d: 'aa' },
      { h: [7, 2] },
      { f: { kind: 'GOAWAY', id: 4n } },
    ]);
  });

  it('a stream ending inside a frame is H3_FRAME_ERROR; between frames it is clean (§7.1)', () => {
    fc.assert(
      fc.property(fc.array(frameArb(), { minLength: 1, maxLength: 4 }), (frames) => {
        const encoded = frames.map((f) => encodeFrame(f));
        const bytes = encodeFrames(frames);
        const boundaries = new Set<number>([0]);
        let off = 0;
        for (const e of encoded) {
          off += e.length;
          boundaries.add(off);
        }
        for (let cut = 0; cut <= bytes.length; cut++) {
          const p = new H3FrameParser();
          p.push(bytes.subarray(0, cut));
          expect(p.atFrameBoundary).toBe(boundaries.has(cut));
          if (boundaries.has(cut)) p.end();
          else expect(h3Error(() => p.end()).code).toBe(H3ErrorCode.H3_FRAME_ERROR);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('H3FrameParser: memory does not follow declared lengths', () => {
  it('streams a DATA frame declared at 2^40 bytes without buffering it', () => {
    const p = new H3FrameParser();
    const header = encodeDataFrameHeader(2 ** 40);
    const body = new Uint8Array(3000).fill(0x5a);
    const events = p.push(header);
    expect(events).toEqual([{ kind: 'frame-header', type: 0, length: 2 ** 40 }]);
    let seen = 0;
    for (let i = 0; i < body.length; i += 1000) {
      const chunk = body.subarray(i, i + 1000);
      for (const e of p.push(chunk)) {
        expect(e.kind).toBe('data');
        if (e.kind === 'data') {
          expect(e.chunk.buffer).toBe(body.buffer); // a view, not a copy
          seen += e.chunk.length;
        }
      }
      expect(p.bufferedBytes).toBe(0);
    }
    expect(seen).toBe(3000);
    expect(p.remaining).toBe(2 ** 40 - 3000);
    expect(h3Error(() => p.end()).code).toBe(H3ErrorCode.H3_FRAME_ERROR);
  });

  it('skips unknown and reserved frames of huge declared length without buffering', () => {
    const p = new H3FrameParser();
    const w = new ByteWriter().varint(0x21).varint(2 ** 50);
    expect(p.push(w.toBytes())).toEqual([{ kind: 'frame-header', type: 0x21, length: 2 ** 50 }]);
    expect(p.push(new Uint8Array(4096))).toEqual([]);
    expect(p.bufferedBytes).toBe(0);
    expect(p.remaining).toBe(2 ** 50 - 4096);
    // A type above 2^53 saturates and is still skipped.
    const q = new H3FrameParser();
    const big = new ByteWriter()
      .varint(0x3ffffffffffffffen)
      .varint(2)
      .varint(0)
      .varint(0)
      .toBytes();
    expect(feed(q, oneByteChunks(big))).toEqual([
      { kind: 'frame-header', type: Number.MAX_SAFE_INTEGER, length: 2 },
    ]);
  });

  it('HEADERS / PUSH_PROMISE above the cap are H3_EXCESSIVE_LOAD stream errors, before any payload', () => {
    for (const type of [1, 5]) {
      const p = new H3FrameParser({ maxFieldSectionBytes: 100 });
      const head = new ByteWriter()
        .varint(type)
        .varint(2 ** 40)
        .toBytes();
      const e = h3Error(() => p.push(head));
      expect(e.code).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
      expect(e.scope).toBe('stream');
      expect(p.bufferedBytes).toBe(0);
      // At the cap exactly, the frame is accepted.
      const ok = new H3FrameParser({ maxFieldSectionBytes: 100 });
      const frame: H3Frame =
        type === 1
          ? { kind: 'HEADERS', fieldSection: new Uint8Array(100) }
          : { kind: 'PUSH_PROMISE', pushId: 1n, fieldSection: new Uint8Array(99) };
      expect(feed(ok, [encodeFrame(frame)]).at(-1)).toEqual({ kind: 'frame', frame });
      const over = new H3FrameParser({ maxFieldSectionBytes: 99 });
      expect(h3Error(() => over.push(encodeFrame(frame))).code).toBe(H3ErrorCode.H3_EXCESSIVE_LOAD);
    }
  });

  it('holds only the bytes of a HEADERS frame received so far', () => {
    const p = new H3FrameParser();
    const fs = new Uint8Array(60_000).map((_, i) => i & 0xff);
    const bytes = encodeFrame({ kind: 'HEADERS', fieldSection: fs });
    p.push(bytes.subarray(0, 13));
    expect(p.bufferedBytes).toBe(13 - 5); // 1-byte type, 4-byte length
    p.push(bytes.subarray(13, 30_000));
    expect(p.bufferedBytes).toBe(30_000 - 5);
    const chunk = bytes.slice(30_000);
    const events = p.push(chunk);
    expect(p.bufferedBytes).toBe(0);
    chunk.fill(0); // the delivered field section is a copy, not a view of the last chunk
    expect(events).toHaveLength(1);
    const [ev] = events;
    expect(ev.kind === 'frame' && ev.frame.kind === 'HEADERS' && toHex(ev.frame.fieldSection)).toBe(
      toHex(fs),
    );
  });

  it('a HEADERS frame inside one chunk is delivered as a view (no copy)', () => {
    const bytes = encodeFrame({ kind: 'HEADERS', fieldSection: fromHex('0000d1') });
    const [, ev] = new H3FrameParser().push(bytes);
    expect(ev.kind === 'frame' && ev.frame.kind === 'HEADERS' && ev.frame.fieldSection.buffer).toBe(
      bytes.buffer,
    );
  });

  it('SETTINGS above its cap is H3_EXCESSIVE_LOAD; one-varint frames above 8 bytes are H3_FRAME_ERROR at once', () => {
    const p = new H3FrameParser({ maxSettingsBytes: 10 });
    const e = h3Error(() => p.push(fromHex('04 0b')));
    expect([e.code, e.scope]).toEqual([H3ErrorCode.H3_EXCESSIVE_LOAD, 'connection']);
    expect(
      feed(new H3FrameParser({ maxSettingsBytes: 10 }), [
        fromHex('04 0a 0601 0701 0801 3301 2100'),
      ]),
    ).toHaveLength(2);
    for (const hex of ['07 09', '03 09', '0d 4000', '07 00', '03 00', '0d 00']) {
      expect(h3Error(() => new H3FrameParser().push(fromHex(hex))).code, hex).toBe(
        H3ErrorCode.H3_FRAME_ERROR,
      );
    }
  });
});

describe('H3FrameParser: error rules', () => {
  const code = (hex: string, opts?: H3FrameParserOptions, bytewise = true): number => {
    const p = new H3FrameParser(opts);
    const bytes = fromHex(hex);
    return h3Error(() => feed(p, bytewise ? oneByteChunks(bytes) : [bytes])).code;
  };
  const E = H3ErrorCode;

  it('payload layout errors are H3_FRAME_ERROR (§7.1)', () => {
    expect(code('07 02 0400')).toBe(E.H3_FRAME_ERROR); // GOAWAY with trailing bytes
    expect(code('07 01 40')).toBe(E.H3_FRAME_ERROR); // GOAWAY varint cut by its length
    expect(code('04 01 06')).toBe(E.H3_FRAME_ERROR); // SETTINGS with a truncated pair
    expect(code('04 03 06 4400'.slice(0, 9))).toBe(E.H3_FRAME_ERROR); // ends inside SETTINGS
    expect(code('05 00')).toBe(E.H3_FRAME_ERROR); // PUSH_PROMISE without Push ID
    expect(code('00 05 6869')).toBe(E.H3_FRAME_ERROR); // DATA cut by FIN
    expect(code('00')).toBe(E.H3_FRAME_ERROR); // FIN after a frame type
    expect(code('40')).toBe(E.H3_FRAME_ERROR); // FIN inside a frame type varint
    expect(code('21 4005')).toBe(E.H3_FRAME_ERROR); // FIN inside a reserved frame
  });

  it('SETTINGS payload errors keep H3_SETTINGS_ERROR', () => {
    expect(code('04 02 0300')).toBe(E.H3_SETTINGS_ERROR);
    expect(code('04 04 0601 0602')).toBe(E.H3_SETTINGS_ERROR);
    expect(code('04 02 3302')).toBe(E.H3_SETTINGS_ERROR);
  });

  it('HTTP/2-only frame types are H3_FRAME_UNEXPECTED as soon as the type is read (§7.2.8)', () => {
    for (const t of ['02', '06', '08', '09', '4002']) {
      const p = new H3FrameParser();
      expect(h3Error(() => p.push(fromHex(t))).code).toBe(E.H3_FRAME_UNEXPECTED);
    }
  });

  it('control stream: SETTINGS first (H3_MISSING_SETTINGS), once, no DATA, never closed', () => {
    const control = { stream: 'control' } as const;
    const settings = toHex(encodeFrame({ kind: 'SETTINGS', settings: { h3Datagram: true } }));
    expect(code('07 01 00', control)).toBe(E.H3_MISSING_SETTINGS);
    expect(code('21 00', control)).toBe(E.H3_MISSING_SETTINGS); // §9: unknown does not satisfy it
    expect(code(`${settings} ${settings}`, control)).toBe(E.H3_FRAME_UNEXPECTED);
    expect(code(`${settings} 00 00`, control)).toBe(E.H3_FRAME_UNEXPECTED);
    expect(code(`${settings} 01 00`, control)).toBe(E.H3_FRAME_UNEXPECTED);
    expect(code(`${settings} 05 01 00`, control)).toBe(E.H3_FRAME_UNEXPECTED);
    expect(code(`${settings} 0d 01 00`, { stream: 'control', sender: 'server' })).toBe(
      E.H3_FRAME_UNEXPECTED,
    );
    // A valid control stream is fine until it is closed (§6.2.1).
    const p = new H3FrameParser(control);
    const events = p.push(fromHex(`${settings} 21 02 abcd 07 01 04 03 01 02 0d 01 09`));
    expect(
      events.filter((e) => e.kind === 'frame').map((e) => e.kind === 'frame' && e.frame.kind),
    ).toEqual(['SETTINGS', 'GOAWAY', 'CANCEL_PUSH', 'MAX_PUSH_ID']);
    expect(h3Error(() => p.end()).code).toBe(E.H3_CLOSED_CRITICAL_STREAM);
  });

  it('request and push streams reject control frames; PUSH_PROMISE only from a server, not on push streams', () => {
    for (const hex of ['04 00', '07 01 00', '03 01 00', '0d 01 00']) {
      expect(code(hex, { stream: 'request' })).toBe(E.H3_FRAME_UNEXPECTED);
      expect(code(hex, { stream: 'push' })).toBe(E.H3_FRAME_UNEXPECTED);
    }
    expect(code('05 01 00', { stream: 'push' })).toBe(E.H3_FRAME_UNEXPECTED);
    expect(code('05 01 00', { stream: 'request', sender: 'client' })).toBe(E.H3_FRAME_UNEXPECTED);
    const ok = new H3FrameParser({ stream: 'request', sender: 'server' });
    expect(feed(ok, [fromHex('01 03 0000d1 05 04 01 0000d1 21 00 00 01 61')])).toHaveLength(7);
  });

  it('stays failed after an error and rethrows it', () => {
    const p = new H3FrameParser();
    const e = h3Error(() => p.push(fromHex('07 02 0400')));
    expect(() => p.push(fromHex('00 00'))).toThrow(e);
    expect(() => p.end()).toThrow(e);
  });

  it('appends to a caller-supplied event array', () => {
    const out: H3FrameEvent[] = [{ kind: 'data', chunk: fromHex('ff') }];
    new H3FrameParser().push(fromHex('00 01 aa'), out);
    expect(out).toHaveLength(3);
  });
});

describe('H3FrameParser: arbitrary input', () => {
  const opts: Array<H3FrameParserOptions> = [
    {},
    { stream: 'control' },
    { stream: 'request', sender: 'client' },
    { stream: 'push' },
    { maxFieldSectionBytes: 8, maxSettingsBytes: 8 },
  ];

  // Bytes shaped like frames: small types (known, HTTP/2-only, reserved) and lengths that are
  // sometimes right and sometimes off, so the fuzzing reaches the payload decoders.
  const frameish = fc
    .array(
      fc.record({
        type: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 9, 0xd, 0x21, 0x40, 0x1234),
        payload: fc.uint8Array({ maxLength: 12 }),
        skew: fc.constantFrom(0, 0, 0, -1, 1),
      }),
      { maxLength: 6 },
    )
    .map((fs) => {
      const w = new ByteWriter();
      for (const f of fs)
        w.varint(f.type)
          .varint(Math.max(0, f.payload.length + f.skew))
          .bytes(f.payload);
      return w.toBytes();
    });

  it('yields events or an H3Error, never anything else, at any split', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 120 }), frameish),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom(...opts),
        (bytes, cuts, o) => {
          const whole = new H3FrameParser(o);
          const split = new H3FrameParser(o);
          let wholeResult: unknown;
          let splitResult: unknown;
          try {
            wholeResult = normalize(feed(whole, [bytes]));
          } catch (err) {
            expect(err).toBeInstanceOf(H3Error);
            wholeResult = (err as H3Error).code;
          }
          try {
            splitResult = normalize(feed(split, splitAt(bytes, cuts)));
          } catch (err) {
            expect(err).toBeInstanceOf(H3Error);
            splitResult = (err as H3Error).code;
          }
          expect(splitResult).toEqual(wholeResult);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
