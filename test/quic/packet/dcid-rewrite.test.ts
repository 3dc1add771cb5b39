import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dcidOf,
  MAX_FORWARDED_CID_LENGTH,
  rewriteShortHeaderDcid,
} from '../../../src/quic/packet/dcid-rewrite.js';
import {
  encodeRetry,
  encodeVersionNegotiation,
  finishLongHeader,
  LongPacketType,
  type ProtectedLongPacketType,
  splitDatagram,
  writeLongHeader,
  writeShortHeader,
} from '../../../src/quic/packet/index.js';
import { ByteWriter, CodecError, concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { codeOf, expectAllPrefixesTruncated } from './helpers.js';

// draft-ietf-masque-quic-proxy, Appendix A: "Example of a Forwarded Mode QUIC Packet".
const A_CID = fromHex('002e9184cb0022ca7aecf1128c91d809e1b6853f');
const A_VCID = fromHex('0123456789abcdef0123456789abcdef01234567');
const A_ORIGINAL = fromHex(
  '50002e9184cb0022ca7aecf1128c91d8' +
    '09e1b6853f1ba3bed7043a2163202304' +
    '8def32f4f8f260c290490413d24ea6',
);
const A_IDENTITY = fromHex(
  '500123456789abcdef0123456789abcd' +
    'ef012345671ba3bed7043a2163202304' +
    '8def32f4f8f260c290490413d24ea6',
);

const SCID = fromHex('a1a2a3a4');

function longPacket(type: ProtectedLongPacketType, payload: number, dcid: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  const layout = writeLongHeader(w, { type, dcid, scid: SCID, packetNumber: 1, pnLength: 2 });
  w.zeros(payload);
  finishLongHeader(w, layout, 16);
  w.zeros(16);
  return w.toBytes();
}

function shortPacket(dcid: Uint8Array, payload: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  writeShortHeader(w, { dcid, packetNumber: 7, pnLength: 2 });
  w.bytes(payload);
  return w.toBytes();
}

const cid = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

/** A short-header datagram by the invariants: form bit clear, any other bits, DCID, any rest. */
const invariantShort = (maxCid: number) =>
  fc.record({
    firstByte: fc.integer({ min: 0, max: 0x7f }),
    dcid: cid(maxCid),
    rest: fc.uint8Array({ maxLength: 120 }),
  });

describe('rewriteShortHeaderDcid: the forwarded-mode CID swap (quic-proxy §6.1, Appendix A)', () => {
  it('Appendix A: the original packet becomes the identity-transform packet, byte for byte', () => {
    const dg = A_ORIGINAL.slice();
    const out = rewriteShortHeaderDcid(dg, A_CID.length, A_VCID);
    expect(toHex(out)).toBe(toHex(A_IDENTITY));
    // Equal lengths: rewritten in place, no new array.
    expect(out).toBe(dg);
  });

  it('Appendix A, receiving side: the VCID is replaced by the real CID again', () => {
    const dg = A_IDENTITY.slice();
    const out = rewriteShortHeaderDcid(dg, A_VCID.length, A_CID);
    expect(toHex(out)).toBe(toHex(A_ORIGINAL));
    expect(dcidOf(out, 20)).toEqual(A_CID);
  });

  it('a longer VCID extends the packet by the difference; a shorter one shrinks it', () => {
    const vcid12 = fromHex('c0c1c2c3c4c5c6c7c8c9cacb');
    const grown = rewriteShortHeaderDcid(A_ORIGINAL, 20, fromHex('aabbccdd'));
    expect(grown.length).toBe(A_ORIGINAL.length - 16);
    expect(toHex(grown)).toBe(`50aabbccdd${toHex(A_ORIGINAL.subarray(21))}`);
    const twelve = rewriteShortHeaderDcid(grown, 4, vcid12);
    expect(twelve.length).toBe(A_ORIGINAL.length - 8);
    expect(toHex(twelve)).toBe(`50${toHex(vcid12)}${toHex(A_ORIGINAL.subarray(21))}`);
    // A new array each time; the inputs are left as they were.
    expect(toHex(grown)).toBe(`50aabbccdd${toHex(A_ORIGINAL.subarray(21))}`);
    expect(toHex(rewriteShortHeaderDcid(twelve, 12, A_CID))).toBe(toHex(A_ORIGINAL));
  });

  it('the first byte, protected bits included, and everything after the DCID are untouched', () => {
    fc.assert(
      fc.property(invariantShort(20), cid(20), ({ firstByte, dcid, rest }, vcid) => {
        const dg = concatBytes(Uint8Array.of(firstByte), dcid, rest);
        const out = rewriteShortHeaderDcid(dg.slice(), dcid.length, vcid);
        expect(out.length).toBe(dg.length - dcid.length + vcid.length);
        expect(out[0]).toBe(firstByte);
        expect(dcidOf(out, vcid.length)).toEqual(vcid);
        expect(out.subarray(1 + vcid.length)).toEqual(rest);
      }),
      { numRuns: 2000 },
    );
  });

  it('property: rewriting to a VCID (0-20 bytes) and back gives the original bytes', () => {
    fc.assert(
      fc.property(invariantShort(20), cid(20), ({ firstByte, dcid, rest }, vcid) => {
        const dg = concatBytes(Uint8Array.of(firstByte), dcid, rest);
        const original = dg.slice();
        const there = rewriteShortHeaderDcid(dg, dcid.length, vcid);
        const back = rewriteShortHeaderDcid(there, vcid.length, dcid);
        expect(back).toEqual(original);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: the same holds for the invariant range of 0-255 byte connection IDs', () => {
    fc.assert(
      fc.property(invariantShort(255), cid(255), ({ firstByte, dcid, rest }, vcid) => {
        const dg = concatBytes(Uint8Array.of(firstByte), dcid, rest);
        const back = rewriteShortHeaderDcid(
          rewriteShortHeaderDcid(dg.slice(), dcid.length, vcid),
          vcid.length,
          dcid,
        );
        expect(back).toEqual(dg);
      }),
      { numRuns: 1000 },
    );
  });

  it('a VCID that is a view of the same datagram is copied correctly in place', () => {
    const dg = fromHex('41 0102030405060708 aa'.replaceAll(' ', ''));
    const out = rewriteShortHeaderDcid(dg, 8, dg.subarray(2, 10));
    expect(toHex(out)).toBe('4102030405060708aaaa');
    expect(out).toBe(dg);
  });

  it('a zero-length DCID is replaced by a VCID, and a VCID by a zero-length CID', () => {
    const dg = fromHex('43ffee');
    const out = rewriteShortHeaderDcid(dg, 0, fromHex('0a0b'));
    expect(toHex(out)).toBe('430a0bffee');
    expect(toHex(rewriteShortHeaderDcid(out, 2, new Uint8Array(0)))).toBe('43ffee');
  });
});

describe('rewriteShortHeaderDcid: coalesced datagrams (RFC 9000 §12.2)', () => {
  const DCID = fromHex('0102030405060708');
  const VCID = fromHex('f0f1f2f3f4f5f6f7f8f9fafbfcfd');

  it('Initial + Handshake + 1-RTT: only the trailing 1-RTT packet gets the VCID', () => {
    const initial = longPacket(LongPacketType.Initial, 30, DCID);
    const handshake = longPacket(LongPacketType.Handshake, 50, DCID);
    const short = shortPacket(DCID, fromHex('deadbeef'));
    const dg = concatBytes(initial, handshake, short);
    const out = rewriteShortHeaderDcid(dg, 8, VCID);
    expect(out.length).toBe(dg.length + VCID.length - 8);
    expect(out.subarray(0, initial.length + handshake.length)).toEqual(
      concatBytes(initial, handshake),
    );
    const { packets, error } = splitDatagram(out, VCID.length);
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.header.kind)).toEqual(['long', 'long', 'short']);
    expect(packets[0]?.header.dcid).toEqual(DCID);
    expect(packets[2]?.header.dcid).toEqual(VCID);
    expect(packets[2]?.bytes).toEqual(shortPacket(VCID, fromHex('deadbeef')));
  });

  it('property: coalesced rewrite and back is the identity (CID lengths 0-20)', () => {
    fc.assert(
      fc.property(
        cid(20),
        cid(20),
        fc.integer({ min: 0, max: 60 }),
        fc.uint8Array({ minLength: 1, maxLength: 60 }),
        fc.boolean(),
        (dcid, vcid, longPayload, shortPayload, twoLong) => {
          const parts = [longPacket(LongPacketType.Handshake, longPayload, dcid)];
          if (twoLong) parts.unshift(longPacket(LongPacketType.Initial, longPayload + 3, dcid));
          parts.push(shortPacket(dcid, shortPayload));
          const dg = concatBytes(...parts);
          const there = rewriteShortHeaderDcid(dg.slice(), dcid.length, vcid);
          const last = splitDatagram(there, vcid.length).packets.at(-1);
          expect(last?.header.kind).toBe('short');
          expect(last?.header.dcid).toEqual(vcid);
          expect(rewriteShortHeaderDcid(there, vcid.length, dcid)).toEqual(dg);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('long header packets alone are never forwarded: MALFORMED, datagram untouched', () => {
    const cases = [
      longPacket(LongPacketType.Initial, 40, DCID),
      concatBytes(
        longPacket(LongPacketType.Initial, 40, DCID),
        longPacket(LongPacketType.Handshake, 40, DCID),
      ),
      longPacket(LongPacketType.ZeroRtt, 20, DCID),
      encodeRetry({
        dcid: DCID,
        scid: SCID,
        token: fromHex('7777'),
        integrityTag: new Uint8Array(16),
      }),
      encodeVersionNegotiation({ dcid: DCID, scid: SCID, versions: [1], unusedBits: 0x40 }),
      // Another version: its long header takes the whole datagram (RFC 8999 §5.1).
      fromHex('c0ff00001d0801020304050607080000aabbcc'),
    ];
    for (const dg of cases) {
      const before = dg.slice();
      expect(
        codeOf(() => rewriteShortHeaderDcid(dg, 8, VCID)),
        toHex(dg),
      ).toBe('MALFORMED');
      expect(dg).toEqual(before);
    }
  });

  it('the coalesced path parses version 1 headers, so it needs a DCID length of 0-20', () => {
    const dg = concatBytes(
      longPacket(LongPacketType.Handshake, 10, DCID),
      fromHex('40'),
      new Uint8Array(21),
      fromHex('01'),
    );
    expect(codeOf(() => rewriteShortHeaderDcid(dg, 21, VCID))).toBe('MALFORMED');
  });

  it('a trailing packet that cannot be parsed surfaces the split error', () => {
    // Handshake packet, then one byte of a short header: no room for an 8-byte DCID.
    const dg = concatBytes(longPacket(LongPacketType.Handshake, 10, DCID), fromHex('40'));
    expect(codeOf(() => rewriteShortHeaderDcid(dg, 8, VCID))).toBe('TRUNCATED');
  });
});

describe('rewriteShortHeaderDcid: bad input fails with CodecError', () => {
  it('an empty datagram is TRUNCATED', () => {
    expect(codeOf(() => rewriteShortHeaderDcid(new Uint8Array(0), 0, fromHex('01')))).toBe(
      'TRUNCATED',
    );
    expect(codeOf(() => dcidOf(new Uint8Array(0), 0))).toBe('TRUNCATED');
  });

  it('every proper prefix of a short header with its DCID is TRUNCATED', () => {
    const dg = A_ORIGINAL.subarray(0, 21);
    expectAllPrefixesTruncated(dg, (p) => rewriteShortHeaderDcid(p, 20, A_VCID));
    expectAllPrefixesTruncated(dg, (p) => dcidOf(p, 20));
    // The invariant header is only the first byte and the DCID: nothing more is required.
    expect(toHex(rewriteShortHeaderDcid(dg.slice(), 20, A_VCID))).toBe(
      toHex(A_IDENTITY.subarray(0, 21)),
    );
  });

  it('connection ID lengths outside 0-255 are MALFORMED', () => {
    const dg = new Uint8Array(400);
    expect(codeOf(() => rewriteShortHeaderDcid(dg, 256, fromHex('01')))).toBe('MALFORMED');
    expect(codeOf(() => rewriteShortHeaderDcid(dg, -1, fromHex('01')))).toBe('MALFORMED');
    expect(codeOf(() => rewriteShortHeaderDcid(dg, 1.5, fromHex('01')))).toBe('MALFORMED');
    expect(codeOf(() => rewriteShortHeaderDcid(dg, 8, new Uint8Array(256)))).toBe('MALFORMED');
    expect(codeOf(() => dcidOf(dg, 256))).toBe('MALFORMED');
    expect(MAX_FORWARDED_CID_LENGTH).toBe(255);
    expect(rewriteShortHeaderDcid(dg, 255, new Uint8Array(255))).toBe(dg);
  });

  it('property: arbitrary bytes are rewritten or refused with CodecError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 20 }),
        cid(20),
        (bytes, len, vcid) => {
          try {
            const out = rewriteShortHeaderDcid(bytes, len, vcid);
            expect(out.length).toBe(bytes.length - len + vcid.length);
          } catch (err) {
            expect(err).toBeInstanceOf(CodecError);
          }
          try {
            dcidOf(bytes, len);
          } catch (err) {
            expect(err).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('dcidOf (RFC 8999 §5)', () => {
  it('reads a short header DCID of the length the caller knows, as a view', () => {
    const d = dcidOf(A_ORIGINAL, 20);
    expect(d).toEqual(A_CID);
    expect(d.buffer).toBe(A_ORIGINAL.buffer);
    expect(dcidOf(A_ORIGINAL, 0).length).toBe(0);
  });

  it('reads a long header DCID from its length byte and ignores the argument', () => {
    const initial = longPacket(LongPacketType.Initial, 20, fromHex('0102030405'));
    expect(toHex(dcidOf(initial, 8))).toBe('0102030405');
    expectAllPrefixesTruncated(initial.subarray(0, 11), (p) => dcidOf(p, 8));
  });
});
