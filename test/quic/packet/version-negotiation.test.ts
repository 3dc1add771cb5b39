import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeVersionNegotiation,
  isVersionNegotiation,
  parsePacketHeader,
  parseVersionNegotiation,
} from '../../../src/quic/packet/index.js';
import { fromHex, toHex } from '../../../src/wire/index.js';
import { codeOf } from './helpers.js';

// Hand-assembled from RFC 9000 §17.2.1's layout:
//   ca          1 1001010: form bit + unused bits 0x4a (0x40 set, as the SHOULD asks)
//   00000000    Version = 0
//   04 01020304 DCID (echoes the client's SCID)
//   00          empty SCID (echoes the client's empty DCID)
//   00000001 1a2a3a4a  supported versions: v1 and a reserved 0x?a?a?a?a one
const SAMPLE = 'ca00000000040102030400000000011a2a3a4a';

describe('Version Negotiation (RFC 9000 §17.2.1, RFC 8999 §6)', () => {
  it('encodes the hand-assembled sample', () => {
    const out = encodeVersionNegotiation({
      dcid: fromHex('01020304'),
      scid: new Uint8Array(0),
      versions: [1, 0x1a2a3a4a],
      unusedBits: 0x4a,
    });
    expect(toHex(out)).toBe(SAMPLE);
  });

  it('parses the sample', () => {
    const h = parseVersionNegotiation(fromHex(SAMPLE));
    expect(h.kind).toBe('version-negotiation');
    expect(h.unusedBits).toBe(0x4a);
    expect(toHex(h.dcid)).toBe('01020304');
    expect(h.scid.length).toBe(0);
    expect(h.versions).toEqual([1, 0x1a2a3a4a]);
    expect(h.packetEnd).toBe(SAMPLE.length / 2);
    expect(isVersionNegotiation(fromHex(SAMPLE))).toBe(true);
    expect(parsePacketHeader(fromHex(SAMPLE), 0, 8).kind).toBe('version-negotiation');
  });

  it('round-trips any unused bits, connection IDs up to 255 bytes, and version lists', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 255 }),
        fc.uint8Array({ maxLength: 255 }),
        fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 0x7f }),
        (dcid, scid, versions, unusedBits) => {
          const bytes = encodeVersionNegotiation({ dcid, scid, versions, unusedBits });
          expect(bytes[0]).toBe(0x80 | unusedBits);
          const h = parseVersionNegotiation(bytes);
          expect(h.dcid).toEqual(dcid);
          expect(h.scid).toEqual(scid);
          expect(h.versions).toEqual(versions);
          expect(h.unusedBits).toBe(unusedBits);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('"MUST ignore a packet that contains no Supported Version fields or a truncated one"', () => {
    expect(codeOf(() => parseVersionNegotiation(fromHex('8000000000040102030400')))).toBe(
      'MALFORMED',
    );
    expect(codeOf(() => parseVersionNegotiation(fromHex(`${SAMPLE}00`)))).toBe('TRUNCATED');
    expect(codeOf(() => parseVersionNegotiation(fromHex(`${SAMPLE}000000`)))).toBe('TRUNCATED');
  });

  it('prefixes: TRUNCATED in the header, MALFORMED at its end, then version-aligned', () => {
    const full = fromHex(SAMPLE);
    const headerEnd = 1 + 4 + 1 + 4 + 1;
    for (let n = 0; n < headerEnd; n++) {
      expect(
        codeOf(() => parseVersionNegotiation(full.subarray(0, n))),
        `n=${n}`,
      ).toBe('TRUNCATED');
    }
    expect(codeOf(() => parseVersionNegotiation(full.subarray(0, headerEnd)))).toBe('MALFORMED');
    for (let n = headerEnd + 1; n < full.length; n++) {
      const code = codeOf(() => parseVersionNegotiation(full.subarray(0, n)));
      expect(code).toBe((n - headerEnd) % 4 === 0 ? undefined : 'TRUNCATED');
    }
  });

  it('rejects non-VN input and bad encoder arguments', () => {
    expect(codeOf(() => parseVersionNegotiation(fromHex('c000000001')))).toBe('MALFORMED');
    expect(codeOf(() => parseVersionNegotiation(fromHex('4000000000')))).toBe('MALFORMED');
    const f = { dcid: new Uint8Array(0), scid: new Uint8Array(0), versions: [1], unusedBits: 0 };
    expect(codeOf(() => encodeVersionNegotiation({ ...f, versions: [] }))).toBe('MALFORMED');
    expect(codeOf(() => encodeVersionNegotiation({ ...f, unusedBits: 0x80 }))).toBe('MALFORMED');
    expect(codeOf(() => encodeVersionNegotiation({ ...f, versions: [2 ** 32] }))).toBe('MALFORMED');
    expect(codeOf(() => encodeVersionNegotiation({ ...f, dcid: new Uint8Array(256) }))).toBe(
      'TOO_LARGE',
    );
  });
});
