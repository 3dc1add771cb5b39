import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finishLongHeader,
  headerProtectedBits,
  LONG_HEADER_PROTECTED_BITS,
  type LongHeaderFields,
  LongPacketType,
  longHeaderReservedBits,
  longHeaderSize,
  type PacketNumberLength,
  type ProtectedLongPacketType,
  packetNumberLengthOf,
  parseLongHeader,
  patchLongHeaderLength,
  readPacketNumber,
  truncatePacketNumber,
  writeLongHeader,
} from '../../../src/quic/packet/index.js';
import { ByteWriter, concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { applyMask, cidV1, codeOf, expectAllPrefixesTruncated } from './helpers.js';
import {
  CLIENT_DCID,
  CLIENT_INITIAL_HEADER,
  CLIENT_INITIAL_HEADER_PROTECTED,
  CLIENT_INITIAL_MASK,
  CLIENT_INITIAL_PROTECTED,
  SERVER_CID,
  SERVER_INITIAL_HEADER,
  SERVER_INITIAL_HEADER_PROTECTED,
  SERVER_INITIAL_MASK,
  SERVER_INITIAL_PROTECTED,
} from './vectors.js';

/** The A.2 client Initial as it is before header protection: header + 1178 payload bytes. */
function clientInitialUnprotected(): Uint8Array {
  return concatBytes(fromHex(CLIENT_INITIAL_HEADER), new Uint8Array(1182 - 4));
}

describe('RFC 9001 A.2 client Initial header', () => {
  it('parses the unprotected header (first byte read as unprotected)', () => {
    const dg = clientInitialUnprotected();
    const h = parseLongHeader(dg);
    expect(h.kind).toBe('long');
    expect(h.type).toBe(LongPacketType.Initial);
    expect(h.version).toBe(1);
    expect(h.fixedBit).toBe(true);
    expect(toHex(h.dcid)).toBe(CLIENT_DCID);
    expect(h.scid.length).toBe(0);
    expect(h.token.length).toBe(0);
    expect(h.length).toBe(0x049e);
    expect(h.pnOffset).toBe(18);
    expect(h.packetEnd).toBe(1200);
    // The first byte is unprotected here, so the protected bits can be read.
    expect(packetNumberLengthOf(h.firstByte)).toBe(4);
    expect(longHeaderReservedBits(h.firstByte)).toBe(0);
    expect(readPacketNumber(dg, h.pnOffset, 4)).toBe(2);
  });

  it('parses the protected 1200-byte packet: same fields, packet fills the datagram', () => {
    const dg = fromHex(CLIENT_INITIAL_PROTECTED);
    const h = parseLongHeader(dg);
    expect(h.type).toBe(LongPacketType.Initial);
    expect(toHex(h.dcid)).toBe(CLIENT_DCID);
    expect(h.length).toBe(1182);
    expect(h.pnOffset).toBe(18);
    expect(h.packetEnd).toBe(dg.length);
    expect(h.firstByte).toBe(0xc0);
  });

  it('encodes the same fields to the same bytes, with Length known up front', () => {
    const w = new ByteWriter();
    const layout = writeLongHeader(w, {
      type: LongPacketType.Initial,
      dcid: fromHex(CLIENT_DCID),
      scid: new Uint8Array(0),
      packetNumber: 2,
      pnLength: 4,
      length: 1182,
    });
    expect(toHex(w.view())).toBe(CLIENT_INITIAL_HEADER);
    expect(layout.pnOffset).toBe(18);
    expect(layout.lengthOffset).toBe(16);
  });

  it('encodes the same bytes with the Length reserved and back-patched after the payload', () => {
    const w = new ByteWriter(64);
    const layout = writeLongHeader(w, {
      type: LongPacketType.Initial,
      dcid: fromHex(CLIENT_DCID),
      scid: new Uint8Array(0),
      packetNumber: 2,
      pnLength: 4,
    });
    w.zeros(1162); // frames; the buffer grows while writing
    expect(finishLongHeader(w, layout, 16)).toBe(1182); // + 16-byte AEAD tag to come
    expect(toHex(w.view().subarray(0, 22))).toBe(CLIENT_INITIAL_HEADER);
  });

  it('pnOffset and the protected-bit mask reproduce the protected header', () => {
    const header = fromHex(CLIENT_INITIAL_HEADER);
    const h = parseLongHeader(clientInitialUnprotected());
    expect(headerProtectedBits(header[0])).toBe(LONG_HEADER_PROTECTED_BITS);
    applyMask(header, h.pnOffset, 4, headerProtectedBits(header[0]), CLIENT_INITIAL_MASK);
    expect(toHex(header)).toBe(CLIENT_INITIAL_HEADER_PROTECTED);
  });
});

describe('RFC 9001 A.3 server Initial header', () => {
  it('parses the header and the protected packet', () => {
    const dg = fromHex(SERVER_INITIAL_PROTECTED);
    const h = parseLongHeader(dg);
    expect(h.type).toBe(LongPacketType.Initial);
    expect(h.dcid.length).toBe(0);
    expect(toHex(h.scid)).toBe(SERVER_CID);
    expect(h.token.length).toBe(0);
    expect(h.length).toBe(0x75);
    expect(h.pnOffset).toBe(18);
    expect(h.packetEnd).toBe(dg.length);
    expect(dg.length).toBe(135);

    const unprotected = concatBytes(fromHex(SERVER_INITIAL_HEADER), new Uint8Array(0x75 - 2));
    const u = parseLongHeader(unprotected);
    expect(packetNumberLengthOf(u.firstByte)).toBe(2);
    expect(readPacketNumber(unprotected, u.pnOffset, 2)).toBe(1);
  });

  it('encodes the same bytes (Length 117 in a 2-byte varint)', () => {
    const w = new ByteWriter();
    writeLongHeader(w, {
      type: LongPacketType.Initial,
      dcid: new Uint8Array(0),
      scid: fromHex(SERVER_CID),
      packetNumber: 1,
      pnLength: 2,
      length: 117,
    });
    expect(toHex(w.view())).toBe(SERVER_INITIAL_HEADER);
  });

  it('pnOffset and the protected-bit mask reproduce the protected header', () => {
    const header = fromHex(SERVER_INITIAL_HEADER);
    applyMask(header, 18, 2, headerProtectedBits(header[0]), SERVER_INITIAL_MASK);
    expect(toHex(header)).toBe(SERVER_INITIAL_HEADER_PROTECTED);
  });
});

const fieldsArb = fc
  .record({
    type: fc.constantFrom<ProtectedLongPacketType>(0, 1, 2),
    dcid: cidV1,
    scid: cidV1,
    token: fc.uint8Array({ minLength: 0, maxLength: 100 }),
    packetNumber: fc.integer({ min: 0, max: 2 ** 40 }),
    pnLength: fc.constantFrom<PacketNumberLength>(1, 2, 3, 4),
    fixedBit: fc.boolean(),
    lengthFieldSize: fc.constantFrom<1 | 2 | 4 | 8 | undefined>(undefined, 2, 4, 8),
    payload: fc.integer({ min: 0, max: 300 }),
    lead: fc.integer({ min: 0, max: 5 }),
  })
  .map((f) => ({ ...f, token: f.type === LongPacketType.Initial ? f.token : new Uint8Array(0) }));

describe('long header round trip (RFC 9000 §17.2, §17.2.2-§17.2.4)', () => {
  it('write → parse gives back every field, for every type and size', () => {
    fc.assert(
      fc.property(fieldsArb, (f) => {
        const w = new ByteWriter(16);
        w.zeros(f.lead); // a preceding packet: offsets must be absolute
        const fields: LongHeaderFields = f;
        const layout = writeLongHeader(w, fields);
        expect(layout.payloadOffset - layout.start).toBe(longHeaderSize(f));
        w.zeros(f.payload);
        const length = finishLongHeader(w, layout);
        const dg = w.toBytes();
        const h = parseLongHeader(dg, f.lead);
        expect(h.type).toBe(f.type);
        expect(h.start).toBe(f.lead);
        expect(h.version).toBe(1);
        expect(h.fixedBit).toBe(f.fixedBit);
        expect(h.dcid).toEqual(f.dcid);
        expect(h.scid).toEqual(f.scid);
        expect(h.token).toEqual(f.token);
        expect(h.length).toBe(length);
        expect(h.length).toBe(f.pnLength + f.payload);
        expect(h.pnOffset).toBe(layout.pnOffset);
        expect(h.packetEnd).toBe(dg.length);
        expect(packetNumberLengthOf(h.firstByte)).toBe(f.pnLength);
        expect(longHeaderReservedBits(h.firstByte)).toBe(0);
        expect(readPacketNumber(dg, h.pnOffset, f.pnLength)).toBe(
          truncatePacketNumber(f.packetNumber, f.pnLength),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('writes into a fixed buffer at an offset, and fails TOO_LARGE when it does not fit', () => {
    const buf = new Uint8Array(40);
    const w = ByteWriter.into(buf, 10);
    const layout = writeLongHeader(w, {
      type: LongPacketType.Handshake,
      dcid: fromHex('0102030405060708'),
      scid: fromHex('0a0b'),
      packetNumber: 0x1234,
      pnLength: 2,
    });
    expect(layout.start).toBe(10);
    w.bytes(fromHex('01020304'));
    finishLongHeader(w, layout);
    const h = parseLongHeader(buf.subarray(0, w.position), 10);
    expect(h.type).toBe(LongPacketType.Handshake);
    expect(h.length).toBe(6);
    const small = ByteWriter.into(new Uint8Array(10));
    expect(
      codeOf(() =>
        writeLongHeader(small, {
          type: LongPacketType.Handshake,
          dcid: fromHex('0102030405060708'),
          scid: fromHex('0a0b'),
          packetNumber: 0,
          pnLength: 1,
        }),
      ),
    ).toBe('TOO_LARGE');
  });

  it('every proper prefix of an encoding is TRUNCATED', () => {
    fc.assert(
      fc.property(fieldsArb, (f) => {
        const w = new ByteWriter();
        const layout = writeLongHeader(w, { ...f, lengthFieldSize: f.lengthFieldSize });
        w.zeros(Math.min(f.payload, 40));
        finishLongHeader(w, layout);
        expectAllPrefixesTruncated(w.toBytes(), (p) => parseLongHeader(p));
      }),
      { numRuns: 200 },
    );
    expectAllPrefixesTruncated(fromHex(SERVER_INITIAL_PROTECTED), (p) => parseLongHeader(p));
  });
});

describe('long header validation', () => {
  const base = fromHex(SERVER_INITIAL_PROTECTED);

  it('a v1 connection ID longer than 20 bytes is MALFORMED (RFC 9000 §17.2 MUST drop)', () => {
    // DCID length 21 (the bytes after it are whatever follows).
    const dcid21 = concatBytes(fromHex('c000000001'), Uint8Array.of(21), new Uint8Array(60));
    expect(codeOf(() => parseLongHeader(dcid21))).toBe('MALFORMED');
    const scid21 = concatBytes(fromHex('c00000000100'), Uint8Array.of(21), new Uint8Array(60));
    expect(codeOf(() => parseLongHeader(scid21))).toBe('MALFORMED');
    const scid20 = concatBytes(fromHex('e00000000100'), Uint8Array.of(20), new Uint8Array(21));
    scid20[scid20.length - 1] = 0; // Handshake, Length 0
    expect(codeOf(() => parseLongHeader(scid20.subarray(0, 28)))).toBeUndefined();
  });

  it('rejects other versions, Retry, and short headers as MALFORMED', () => {
    const v2 = base.slice();
    v2[4] = 2;
    expect(codeOf(() => parseLongHeader(v2))).toBe('MALFORMED');
    const retry = base.slice();
    retry[0] = 0xf0;
    expect(codeOf(() => parseLongHeader(retry))).toBe('MALFORMED');
    const short = base.slice();
    short[0] = 0x40;
    expect(codeOf(() => parseLongHeader(short))).toBe('MALFORMED');
  });

  it('reports a cleared Fixed Bit instead of rejecting it (RFC 9287)', () => {
    const grease = base.slice();
    grease[0] &= ~0x40;
    const h = parseLongHeader(grease);
    expect(h.fixedBit).toBe(false);
    expect(h.type).toBe(LongPacketType.Initial);
  });

  it('a Length past the datagram is TRUNCATED; bytes after the packet are left alone', () => {
    expect(codeOf(() => parseLongHeader(base.subarray(0, base.length - 1)))).toBe('TRUNCATED');
    const longer = concatBytes(base, fromHex('deadbeef'));
    expect(parseLongHeader(longer).packetEnd).toBe(base.length);
  });

  it('encoder refusals', () => {
    const f = {
      type: LongPacketType.Handshake as ProtectedLongPacketType,
      dcid: new Uint8Array(4),
      scid: new Uint8Array(4),
      packetNumber: 7,
      pnLength: 1 as PacketNumberLength,
    };
    const w = () => new ByteWriter();
    expect(codeOf(() => writeLongHeader(w(), { ...f, token: Uint8Array.of(1) }))).toBe('MALFORMED');
    expect(codeOf(() => writeLongHeader(w(), { ...f, dcid: new Uint8Array(21) }))).toBe(
      'MALFORMED',
    );
    expect(codeOf(() => writeLongHeader(w(), { ...f, scid: new Uint8Array(21) }))).toBe(
      'MALFORMED',
    );
    expect(
      codeOf(() => writeLongHeader(w(), { ...f, type: 3 as unknown as ProtectedLongPacketType })),
    ).toBe('MALFORMED');
    expect(
      codeOf(() => writeLongHeader(w(), { ...f, pnLength: 0 as unknown as PacketNumberLength })),
    ).toBe('MALFORMED');
    expect(codeOf(() => writeLongHeader(w(), { ...f, length: 0 }))).toBe('MALFORMED');
    expect(codeOf(() => writeLongHeader(w(), { ...f, packetNumber: -1 }))).toBe('VARINT_RANGE');
    expect(codeOf(() => writeLongHeader(w(), { ...f, length: 20000, lengthFieldSize: 2 }))).toBe(
      'VARINT_RANGE',
    );
    // A known Length above 16383 picks a 4-byte field by default.
    const big = w();
    const layout = writeLongHeader(big, { ...f, length: 20000 });
    expect(layout.lengthFieldSize).toBe(4);
    expect(longHeaderSize({ ...f, length: 20000 })).toBe(layout.payloadOffset);
    expect(longHeaderSize(f)).toBe(layout.payloadOffset - 2);
    // Back-patching a Length that does not fit the reserved 2 bytes fails.
    const small = w();
    const l2 = writeLongHeader(small, f);
    expect(codeOf(() => patchLongHeaderLength(small.buffer, l2, 0x4000))).toBe('VARINT_RANGE');
    expect(codeOf(() => patchLongHeaderLength(small.buffer, l2, 0))).toBe('MALFORMED');
  });
});
