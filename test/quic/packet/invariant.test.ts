import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isLongHeader,
  isReservedVersion,
  isVersionNegotiation,
  parseInvariantHeader,
  parseInvariantLongHeader,
  parseInvariantShortHeader,
} from '../../../src/quic/packet/index.js';
import { ByteWriter, CodecError, concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { codeOf, expectAllPrefixesTruncated, packetish } from './helpers.js';
import { CLIENT_DCID, CLIENT_INITIAL_PROTECTED, SHORT_PACKET_PROTECTED } from './vectors.js';

describe('invariant long header (RFC 8999 §5.1)', () => {
  it('reads version and connection IDs of the RFC 9001 A.2 Initial', () => {
    const dg = fromHex(CLIENT_INITIAL_PROTECTED);
    const h = parseInvariantLongHeader(dg);
    expect(h.form).toBe('long');
    expect(h.version).toBe(1);
    expect(toHex(h.dcid)).toBe(CLIENT_DCID);
    expect(h.scid.length).toBe(0);
    expect(h.restOffset).toBe(15);
    expect(h.rest.length).toBe(dg.length - 15);
    // Zero-copy: the views share the datagram's memory.
    expect(h.rest.buffer).toBe(dg.buffer);
    expect(h.dcid.buffer).toBe(dg.buffer);
  });

  it('accepts any version and 255-byte connection IDs, and ignores every other first-byte bit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0x80, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.uint8Array({ maxLength: 255 }),
        fc.uint8Array({ maxLength: 255 }),
        fc.uint8Array({ maxLength: 40 }),
        (first, version, dcid, scid, rest) => {
          const w = new ByteWriter();
          w.u8(first).u32(version).vec8(dcid).vec8(scid).bytes(rest);
          const h = parseInvariantLongHeader(w.view());
          expect(h.firstByte).toBe(first);
          expect(h.version).toBe(version);
          expect(h.dcid).toEqual(dcid);
          expect(h.scid).toEqual(scid);
          expect(h.rest).toEqual(rest);
          expect(isVersionNegotiation(h)).toBe(version === 0);
          expect(isVersionNegotiation(w.view())).toBe(version === 0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('every prefix cut inside the invariant fields is TRUNCATED', () => {
    const w = new ByteWriter();
    w.u8(0x80).u32(0xfaceb00c).vec8(new Uint8Array(30)).vec8(new Uint8Array(200));
    expectAllPrefixesTruncated(w.toBytes(), parseInvariantLongHeader);
  });

  it('refuses a short header', () => {
    expect(codeOf(() => parseInvariantLongHeader(fromHex('4000000001')))).toBe('MALFORMED');
  });
});

describe('invariant short header (RFC 8999 §5.2)', () => {
  it('takes the DCID length from the caller, without any limit of version 1', () => {
    const dg = concatBytes(Uint8Array.of(0x00), new Uint8Array(64).fill(7), fromHex('abcd'));
    const h = parseInvariantShortHeader(dg, 64);
    expect(h.form).toBe('short');
    expect(h.dcid.length).toBe(64);
    expect(toHex(h.rest)).toBe('abcd');
    expect(h.restOffset).toBe(65);
    expect(codeOf(() => parseInvariantShortHeader(dg, 67))).toBe('TRUNCATED');
    expect(codeOf(() => parseInvariantShortHeader(dg, -1))).toBe('MALFORMED');
  });

  it('reads the A.5 packet (empty DCID)', () => {
    const h = parseInvariantHeader(fromHex(SHORT_PACKET_PROTECTED), 0);
    expect(h.form).toBe('short');
    expect(h.rest.length).toBe(20);
  });

  it('refuses a long header', () => {
    expect(codeOf(() => parseInvariantShortHeader(fromHex('8000000001'), 0))).toBe('MALFORMED');
  });
});

describe('invariant helpers', () => {
  it('header form, Version Negotiation and reserved versions', () => {
    expect(isLongHeader(0x80)).toBe(true);
    expect(isLongHeader(0x7f)).toBe(false);
    expect(isVersionNegotiation(fromHex('8000000000'))).toBe(true);
    expect(isVersionNegotiation(fromHex('0000000000'))).toBe(false);
    expect(isVersionNegotiation(fromHex('80000000'))).toBe(false);
    expect(isVersionNegotiation(fromHex('8000000001'))).toBe(false);
    expect(isVersionNegotiation(parseInvariantHeader(fromHex('00aa'), 1))).toBe(false);
    expect(isReservedVersion(0x1a2a3a4a)).toBe(true);
    expect(isReservedVersion(0xfafafafa)).toBe(true);
    expect(isReservedVersion(0x0000_0001)).toBe(false);
    expect(isReservedVersion(0x1a2a3a4b)).toBe(false);
  });

  it('arbitrary bytes: a value or a CodecError, nothing else', () => {
    fc.assert(
      fc.property(packetish, fc.integer({ min: 0, max: 30 }), (bytes, len) => {
        try {
          const h = parseInvariantHeader(bytes, len);
          expect(h.restOffset + h.rest.length).toBe(bytes.length);
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
