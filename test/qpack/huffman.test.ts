import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HUFFMAN_CODES, HUFFMAN_EOS, HUFFMAN_LENGTHS } from '../../src/qpack/huffman-table.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../../src/qpack/index.js';
import { bytesEqual, CodecError, fromHex, toHex } from '../../src/wire/index.js';

// RFC 7541 Appendix B, copied from the RFC into the repository (see the fixture's header line).
const SPEC = fileURLToPath(new URL('../fixtures/rfc7541-appendix-b-huffman.txt', import.meta.url));
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function decodeError(input: Uint8Array): string | undefined {
  try {
    huffmanDecode(input);
    return undefined;
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
}

// RFC 7541 C.4.1-C.4.3 (requests) and C.6.1-C.6.3 (responses), Huffman-encoded literals.
const VECTORS: Array<[string, string]> = [
  ['www.example.com', 'f1e3c2e5f23a6ba0ab90f4ff'],
  ['no-cache', 'a8eb10649cbf'],
  ['custom-key', '25a849e95ba97d7f'],
  ['custom-value', '25a849e95bb8e8b4bf'],
  ['302', '6402'],
  ['private', 'aec3771a4b'],
  ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07abe941054d444a8200595040b8166e082a62d1bff'],
  ['https://www.example.com', '9d29ad171863c78f0b97c8e9ae82ae43d3'],
  ['307', '640eff'],
  ['Mon, 21 Oct 2013 20:13:22 GMT', 'd07abe941054d444a8200595040b8166e084a62d1bff'],
  ['gzip', '9bd9ab'],
  [
    'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
    '94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
  ],
];

describe('Huffman code table (RFC 7541 Appendix B)', () => {
  it('matches every row of the table in the specification', () => {
    const appendix = readFileSync(SPEC, 'utf8');
    const re = /\(\s*(\d+)\)\s+\|([01|]+)\s+([0-9a-f]+)\s+\[\s*(\d+)\]/g;
    const rows = [...appendix.matchAll(re)];
    expect(rows.length).toBe(257);
    for (const m of rows) {
      const sym = Number(m[1]);
      const bits = m[2].replace(/\|/g, '');
      expect(HUFFMAN_LENGTHS[sym], `length of ${sym}`).toBe(Number(m[4]));
      expect(HUFFMAN_CODES[sym], `code of ${sym}`).toBe(Number.parseInt(m[3], 16));
      expect(bits.length).toBe(HUFFMAN_LENGTHS[sym]);
      expect(Number.parseInt(bits, 2)).toBe(HUFFMAN_CODES[sym]);
    }
  });

  it('is a complete prefix code with the RFC example and EOS as stated', () => {
    // Kraft equality: sum of 2^-len over all 257 symbols is exactly 1 (2^30 in 30-bit units).
    let kraft = 0;
    for (let s = 0; s <= HUFFMAN_EOS; s++) kraft += 2 ** (30 - HUFFMAN_LENGTHS[s]);
    expect(kraft).toBe(2 ** 30);
    // "the code for the symbol 47 ... consists in the 6 bits 0, 1, 1, 0, 0, 0" = 0x18.
    expect([HUFFMAN_CODES[47], HUFFMAN_LENGTHS[47]]).toEqual([0x18, 6]);
    expect([HUFFMAN_CODES[HUFFMAN_EOS], HUFFMAN_LENGTHS[HUFFMAN_EOS]]).toEqual([0x3fffffff, 30]);
    // No code is a prefix of another.
    const seen = new Set<string>();
    const codes: string[] = [];
    for (let s = 0; s <= HUFFMAN_EOS; s++) {
      codes.push(HUFFMAN_CODES[s].toString(2).padStart(HUFFMAN_LENGTHS[s], '0'));
    }
    codes.sort();
    for (let i = 1; i < codes.length; i++) expect(codes[i].startsWith(codes[i - 1])).toBe(false);
    for (const c of codes) seen.add(c);
    expect(seen.size).toBe(257);
  });
});

describe('Huffman coding (RFC 7541 §5.2)', () => {
  it('reproduces the RFC 7541 C.4 and C.6 Huffman strings byte for byte', () => {
    for (const [plain, encoded] of VECTORS) {
      expect(toHex(huffmanEncode(bytes(plain))), plain).toBe(encoded);
      expect(huffmanEncodedLength(bytes(plain))).toBe(encoded.length / 2);
      expect(text(huffmanDecode(fromHex(encoded)))).toBe(plain);
    }
  });

  it('round-trips every symbol and every pair of octets', () => {
    const pair = new Uint8Array(2);
    for (let a = 0; a < 256; a++) {
      expect(huffmanDecode(huffmanEncode(Uint8Array.of(a)))).toEqual(Uint8Array.of(a));
      for (let b = 0; b < 256; b++) {
        pair[0] = a;
        pair[1] = b;
        const decoded = huffmanDecode(huffmanEncode(pair));
        if (decoded[0] !== a || decoded[1] !== b || decoded.length !== 2) {
          throw new Error(`pair ${a},${b} did not round-trip`);
        }
      }
    }
  });

  it('round-trips arbitrary bytes, and the length helper is exact', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        const encoded = huffmanEncode(input);
        expect(encoded.length).toBe(huffmanEncodedLength(input));
        expect(bytesEqual(huffmanDecode(encoded), input)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('decodes arbitrary bytes or fails with MALFORMED; what decodes re-encodes identically', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        let decoded: Uint8Array;
        try {
          decoded = huffmanDecode(input);
        } catch (e) {
          expect(e).toBeInstanceOf(CodecError);
          expect((e as CodecError).code).toBe('MALFORMED');
          return;
        }
        // Valid input is codes plus at most 7 one-bits of padding: exactly what we emit.
        expect(toHex(huffmanEncode(decoded))).toBe(toHex(input));
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects the EOS symbol, padding over 7 bits, and padding that is not all 1s', () => {
    expect(huffmanDecode(new Uint8Array(0)).length).toBe(0);
    // '0' is 00000; three 1s of padding make 0x07.
    expect(text(huffmanDecode(fromHex('07')))).toBe('0');
    // EOS (30 ones) followed by 2 ones of padding.
    expect(decodeError(fromHex('ffffffff'))).toBe('MALFORMED');
    // EOS in the middle of a string: '0' then EOS then padding.
    expect(decodeError(fromHex('07ffffffff'))).toBe('MALFORMED');
    // '0' then 11 one-bits of padding.
    expect(decodeError(fromHex('07ff'))).toBe('MALFORMED');
    // A whole byte of ones is 8 bits of padding.
    expect(decodeError(fromHex('ff'))).toBe('MALFORMED');
    // '0' followed by padding 000 (zeros, not the EOS prefix).
    expect(decodeError(fromHex('00'))).toBe('MALFORMED');
    // 'www.example.com' with its last padding bit flipped to 0.
    expect(decodeError(fromHex('f1e3c2e5f23a6ba0ab90f4fe'))).toBe('MALFORMED');
  });
});
