import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_CERTIFICATE_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE,
  encodeHandshake,
  HandshakeReader,
  HandshakeType,
  type RawHandshake,
} from '../../src/tls/index.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/index.js';
import { handshakeMessage } from './arbitraries.js';
import { clientHelloBytes, serverHelloBytes } from './fixtures.js';
import { alertOf } from './helpers.js';

/** Feeds `stream` cut at `cuts` (sorted offsets) and returns the raw messages as hex. */
function feedAt(reader: HandshakeReader, stream: Uint8Array, cuts: number[]): string[] {
  const out: RawHandshake[] = [];
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    out.push(...reader.feed(stream.subarray(prev, c)));
    prev = c;
  }
  for (const m of out) {
    expect(m.type).toBe(m.raw[0]);
    expect(toHex(m.body)).toBe(toHex(m.raw.subarray(4)));
  }
  return out.map((m) => toHex(m.raw));
}

describe('HandshakeReader (CRYPTO stream reassembly)', () => {
  it('yields every message, whatever the split points', () => {
    fc.assert(
      fc.property(
        fc.array(handshakeMessage, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (msgs, rawCuts) => {
          const encoded = msgs.map(encodeHandshake);
          const stream = concatBytes(...encoded);
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const reader = new HandshakeReader();
          expect(feedAt(reader, stream, cuts)).toEqual(encoded.map(toHex));
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('yields every message fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(handshakeMessage, { minLength: 1, maxLength: 3 }), (msgs) => {
        const encoded = msgs.map(encodeHandshake);
        const stream = concatBytes(...encoded);
        const reader = new HandshakeReader();
        const cuts = Array.from({ length: stream.length }, (_, i) => i);
        expect(feedAt(reader, stream, cuts)).toEqual(encoded.map(toHex));
      }),
      { numRuns: 200 },
    );
  });

  it('reports the bytes of an incomplete message and waits for the rest', () => {
    const reader = new HandshakeReader();
    const stream = concatBytes(clientHelloBytes, serverHelloBytes);
    expect(reader.feed(stream.subarray(0, 3))).toEqual([]);
    expect(reader.buffered).toBe(3);
    const first = reader.feed(stream.subarray(3, clientHelloBytes.length + 10));
    expect(first.map((m) => m.type)).toEqual([HandshakeType.client_hello]);
    expect(reader.buffered).toBe(10);
    expect(reader.next()).toBeUndefined();
    const second = reader.feed(stream.subarray(clientHelloBytes.length + 10));
    expect(toHex(second[0].raw)).toBe(toHex(serverHelloBytes));
    expect(reader.buffered).toBe(0);
  });

  it('returns copies: later changes to the input do not alter a message', () => {
    const input = clientHelloBytes.slice();
    const [m] = new HandshakeReader().feed(input);
    input.fill(0);
    expect(toHex(m.raw)).toBe(toHex(clientHelloBytes));
  });

  it('rejects a message above the cap as soon as its header arrives', () => {
    const reader = new HandshakeReader();
    // EncryptedExtensions announcing 65537 bytes: the 4-byte header alone is enough to refuse.
    expect(alertOf(() => reader.push(fromHex('08010001')))).toBe('decode_error');
    // The reader stays failed.
    expect(alertOf(() => reader.push(fromHex('00')))).toBe('decode_error');
    expect(alertOf(() => reader.next())).toBe('decode_error');
  });

  it('detects a header split across chunks', () => {
    const reader = new HandshakeReader();
    reader.push(fromHex('0801'));
    expect(alertOf(() => reader.push(fromHex('0001')))).toBe('decode_error');
  });

  it('accepts exactly the cap, and a larger cap for Certificate; caps are configurable', () => {
    const atCap = concatBytes(fromHex('08010000'), new Uint8Array(DEFAULT_MAX_MESSAGE_SIZE));
    expect(new HandshakeReader().feed(atCap).length).toBe(1);
    const cert = new HandshakeReader();
    expect(cert.limitFor(HandshakeType.certificate)).toBe(DEFAULT_MAX_CERTIFICATE_SIZE);
    expect(alertOf(() => cert.push(fromHex('0b020000')))).toBe(undefined);
    const small = new HandshakeReader({
      maxMessageSize: 100,
      maxCertificateSize: 200,
      perType: { [HandshakeType.client_hello]: 300 },
    });
    expect(small.limitFor(HandshakeType.encrypted_extensions)).toBe(100);
    expect(small.limitFor(HandshakeType.certificate)).toBe(200);
    expect(small.limitFor(HandshakeType.client_hello)).toBe(300);
    expect(alertOf(() => small.push(fromHex('08000065')))).toBe('decode_error');
    expect(
      alertOf(() => new HandshakeReader({ maxMessageSize: 100 }).push(fromHex('0b0000c8'))),
    ).toBe(undefined);
  });
});
