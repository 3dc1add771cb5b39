import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePacketNumber,
  headerProtectedBits,
  keyPhaseOf,
  type PacketNumberLength,
  packetNumberLengthOf,
  parsePacketHeader,
  parseShortHeader,
  readPacketNumber,
  SHORT_HEADER_PROTECTED_BITS,
  shortHeaderReservedBits,
  shortHeaderSize,
  spinBitOf,
  truncatePacketNumber,
  writeShortHeader,
} from '../../../src/quic/packet/index.js';
import { ByteWriter, concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { applyMask, cidV1, codeOf, expectAllPrefixesTruncated } from './helpers.js';
import { SHORT_HEADER, SHORT_MASK, SHORT_PACKET_PROTECTED, SHORT_PN } from './vectors.js';

describe('RFC 9001 A.5 short header', () => {
  // Note: RFC 9001 A.5 encodes this packet number in 3 bytes (0x00bff4, first byte 0x42 has
  // Packet Number Length bits 0b10), not 2.
  it('parses the unprotected header: empty DCID, 3-byte packet number 0x00bff4', () => {
    const dg = concatBytes(fromHex(SHORT_HEADER), Uint8Array.of(0x01));
    const h = parseShortHeader(dg, 0, 0);
    expect(h.kind).toBe('short');
    expect(h.dcid.length).toBe(0);
    expect(h.pnOffset).toBe(1);
    expect(h.packetEnd).toBe(5);
    expect(h.fixedBit).toBe(true);
    expect(h.spinBit).toBe(false);
    expect(packetNumberLengthOf(h.firstByte)).toBe(3);
    expect(keyPhaseOf(h.firstByte)).toBe(0);
    expect(shortHeaderReservedBits(h.firstByte)).toBe(0);
    const truncated = readPacketNumber(dg, h.pnOffset, 3);
    expect(truncated).toBe(0xbff4);
    expect(decodePacketNumber(truncated, 3, SHORT_PN - 1)).toBe(SHORT_PN);
  });

  it('encodes 654360564 in 3 bytes as 4200bff4', () => {
    const w = new ByteWriter();
    const layout = writeShortHeader(w, {
      dcid: new Uint8Array(0),
      packetNumber: SHORT_PN,
      pnLength: 3,
    });
    expect(toHex(w.view())).toBe(SHORT_HEADER);
    expect(layout.pnOffset).toBe(1);
    expect(layout.payloadOffset).toBe(4);
  });

  it('pnOffset and the 5-bit mask reproduce the protected header; the spin bit stays readable', () => {
    const header = fromHex(SHORT_HEADER);
    expect(headerProtectedBits(header[0])).toBe(SHORT_HEADER_PROTECTED_BITS);
    applyMask(header, 1, 3, SHORT_HEADER_PROTECTED_BITS, SHORT_MASK);
    expect(toHex(header)).toBe(SHORT_PACKET_PROTECTED.slice(0, 8));
    const h = parseShortHeader(fromHex(SHORT_PACKET_PROTECTED), 0, 0);
    expect(h.pnOffset).toBe(1);
    expect(h.packetEnd).toBe(21);
    expect(h.spinBit).toBe(spinBitOf(0x42));
    expect(h.fixedBit).toBe(true);
  });
});

describe('short header round trip (RFC 9000 §17.3.1)', () => {
  it('write → parse, with every bit combination', () => {
    fc.assert(
      fc.property(
        cidV1,
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.constantFrom<PacketNumberLength>(1, 2, 3, 4),
        fc.constantFrom<0 | 1>(0, 1),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 50 }),
        (dcid, packetNumber, pnLength, keyPhase, spinBit, fixedBit, payload) => {
          const w = new ByteWriter();
          const layout = writeShortHeader(w, {
            dcid,
            packetNumber,
            pnLength,
            keyPhase,
            spinBit,
            fixedBit,
          });
          expect(layout.payloadOffset).toBe(shortHeaderSize(dcid.length, pnLength));
          w.zeros(payload);
          const dg = w.toBytes();
          const h = parseShortHeader(dg, 0, dcid.length);
          expect(h.dcid).toEqual(dcid);
          expect(h.fixedBit).toBe(fixedBit);
          expect(h.spinBit).toBe(spinBit);
          expect(h.pnOffset).toBe(layout.pnOffset);
          expect(h.packetEnd).toBe(dg.length);
          expect(keyPhaseOf(h.firstByte)).toBe(keyPhase);
          expect(packetNumberLengthOf(h.firstByte)).toBe(pnLength);
          expect(shortHeaderReservedBits(h.firstByte)).toBe(0);
          expect(readPacketNumber(dg, h.pnOffset, pnLength)).toBe(
            truncatePacketNumber(packetNumber, pnLength),
          );
          expect(parsePacketHeader(dg, 0, dcid.length)).toEqual(h);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prefixes shorter than first byte + DCID + one packet number byte are TRUNCATED', () => {
    const w = new ByteWriter();
    writeShortHeader(w, { dcid: fromHex('0102030405060708'), packetNumber: 9, pnLength: 1 });
    expectAllPrefixesTruncated(w.toBytes(), (p) => parseShortHeader(p, 0, 8));
  });

  it('reads reserved bits from an unprotected first byte', () => {
    expect(shortHeaderReservedBits(0x40 | 0x18)).toBe(3);
    expect(shortHeaderReservedBits(0x40 | 0x08)).toBe(1);
    expect(keyPhaseOf(0x44)).toBe(1);
    expect(spinBitOf(0x60)).toBe(true);
  });

  it('rejects long headers and bad connection ID lengths', () => {
    expect(codeOf(() => parseShortHeader(fromHex('c0000000'), 0, 0))).toBe('MALFORMED');
    expect(codeOf(() => parseShortHeader(fromHex('40000000'), 0, 21))).toBe('MALFORMED');
    expect(codeOf(() => parseShortHeader(fromHex('40000000'), 0, -1))).toBe('MALFORMED');
    expect(
      codeOf(() =>
        writeShortHeader(new ByteWriter(), {
          dcid: new Uint8Array(21),
          packetNumber: 0,
          pnLength: 1,
        }),
      ),
    ).toBe('MALFORMED');
    expect(
      codeOf(() =>
        writeShortHeader(new ByteWriter(), {
          dcid: new Uint8Array(0),
          packetNumber: 0,
          pnLength: 5 as PacketNumberLength,
        }),
      ),
    ).toBe('MALFORMED');
  });
});
