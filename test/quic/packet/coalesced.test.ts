import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
import { codeOf, packetish } from './helpers.js';
import { CLIENT_INITIAL_PROTECTED, SERVER_INITIAL_PROTECTED, SHORT_HEADER } from './vectors.js';

const DCID = fromHex('0102030405060708');
const SCID = fromHex('a1a2a3a4');

function longPacket(type: ProtectedLongPacketType, payload: number, dcid = DCID): Uint8Array {
  const w = new ByteWriter();
  const layout = writeLongHeader(w, {
    type,
    dcid,
    scid: SCID,
    packetNumber: payload,
    pnLength: 2,
  });
  w.zeros(payload);
  finishLongHeader(w, layout, 16);
  w.zeros(16);
  return w.toBytes();
}

function shortPacket(payload: number, dcid = DCID): Uint8Array {
  const w = new ByteWriter();
  writeShortHeader(w, { dcid, packetNumber: 3, pnLength: 1 });
  w.zeros(payload);
  return w.toBytes();
}

describe('splitDatagram (RFC 9000 §12.2)', () => {
  it('splits Initial + Handshake + 1-RTT into zero-copy views with absolute offsets', () => {
    const parts = [
      longPacket(LongPacketType.Initial, 40),
      longPacket(LongPacketType.Handshake, 70),
      shortPacket(25),
    ];
    const dg = concatBytes(...parts);
    const { packets, error } = splitDatagram(dg, 8);
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.header.kind)).toEqual(['long', 'long', 'short']);
    let at = 0;
    for (const [i, p] of packets.entries()) {
      expect(p.bytes).toEqual(parts[i]);
      expect(p.bytes.buffer).toBe(dg.buffer);
      expect(p.bytes.byteOffset).toBe(at);
      expect(p.header.start).toBe(at);
      expect(p.dcidMismatch).toBe(false);
      at += parts[i].length;
    }
    const hs = packets[1].header;
    expect(hs.kind === 'long' && hs.pnOffset).toBe(parts[0].length + 1 + 4 + 1 + 8 + 1 + 4 + 2);
  });

  it('splits the RFC 9001 A.3 server Initial followed by the A.2 client Initial', () => {
    const a = fromHex(SERVER_INITIAL_PROTECTED);
    const b = fromHex(CLIENT_INITIAL_PROTECTED);
    const { packets, error } = splitDatagram(concatBytes(a, b), 0);
    expect(error).toBeUndefined();
    expect(packets.map((p) => p.bytes.length)).toEqual([135, 1200]);
    // Different DCIDs (empty vs 8394...): the second is flagged.
    expect(packets.map((p) => p.dcidMismatch)).toEqual([false, true]);
  });

  it('flags later packets whose DCID differs from the first', () => {
    const other = fromHex('ffffffffffffffff');
    const dg = concatBytes(
      longPacket(LongPacketType.Initial, 20),
      longPacket(LongPacketType.Handshake, 20, other),
      shortPacket(10),
    );
    const { packets } = splitDatagram(dg, 8);
    expect(packets.map((p) => p.dcidMismatch)).toEqual([false, true, false]);
  });

  it('keeps the packets before a malformed one and reports where it stopped', () => {
    const good = longPacket(LongPacketType.Initial, 30);
    const cid21 = concatBytes(fromHex('e000000001'), Uint8Array.of(21), new Uint8Array(40));
    const res = splitDatagram(concatBytes(good, cid21), 8);
    expect(res.packets.length).toBe(1);
    expect(res.packets[0].bytes).toEqual(good);
    expect(res.error?.offset).toBe(good.length);
    expect(res.error?.cause.code).toBe('MALFORMED');

    const cutShort = longPacket(LongPacketType.Handshake, 30).subarray(0, 40);
    const res2 = splitDatagram(concatBytes(good, good, cutShort), 8);
    expect(res2.packets.length).toBe(2);
    expect(res2.error?.offset).toBe(2 * good.length);
    expect(res2.error?.cause.code).toBe('TRUNCATED');
  });

  it('a first packet that cannot be parsed gives no packets and an error at 0', () => {
    const res = splitDatagram(fromHex('c0000000'), 8);
    expect(res.packets).toEqual([]);
    expect(res.error?.offset).toBe(0);
    expect(splitDatagram(new Uint8Array(0), 8).error?.cause.code).toBe('TRUNCATED');
  });

  it('Retry, Version Negotiation, short and unknown-version packets take the rest', () => {
    const retry = encodeRetry({
      dcid: SCID,
      scid: DCID,
      token: fromHex('c0000000010000'),
      integrityTag: new Uint8Array(16),
    });
    expect(splitDatagram(retry, 8).packets.map((p) => p.header.kind)).toEqual(['retry']);
    const vn = encodeVersionNegotiation({
      dcid: SCID,
      scid: DCID,
      versions: [1],
      unusedBits: 0x40,
    });
    expect(splitDatagram(vn, 8).packets.map((p) => p.header.kind)).toEqual(['version-negotiation']);
    const short = concatBytes(shortPacket(5), longPacket(LongPacketType.Handshake, 5));
    const s = splitDatagram(short, 8);
    expect(s.packets.length).toBe(1);
    expect(s.packets[0].bytes.length).toBe(short.length);
    const unknown = concatBytes(fromHex('c0ff00001d0000'), longPacket(LongPacketType.Handshake, 5));
    const u = splitDatagram(unknown, 8);
    expect(u.packets.map((p) => p.header.kind)).toEqual(['unsupported-version']);
  });

  it('zero padding after a long packet shows up as a short header with the Fixed Bit clear', () => {
    const initial = longPacket(LongPacketType.Initial, 30);
    const { packets } = splitDatagram(concatBytes(initial, new Uint8Array(50)), 8);
    expect(packets.length).toBe(2);
    const pad = packets[1].header;
    expect(pad.kind === 'short' && pad.fixedBit).toBe(false);
    expect(packets[1].dcidMismatch).toBe(true);
  });

  it('the A.5 short header alone is one packet', () => {
    const { packets } = splitDatagram(concatBytes(fromHex(SHORT_HEADER), Uint8Array.of(1)), 0);
    expect(packets.length).toBe(1);
    expect(toHex(packets[0].bytes)).toBe(`${SHORT_HEADER}01`);
  });

  it('rejects a local connection ID length outside 0-20', () => {
    expect(codeOf(() => splitDatagram(new Uint8Array(5), 21))).toBe('MALFORMED');
  });

  it('random coalesced sequences split back into exactly the packets that were joined', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom<ProtectedLongPacketType>(0, 1, 2), fc.nat({ max: 120 })),
          { minLength: 0, maxLength: 5 },
        ),
        fc.option(fc.nat({ max: 60 })),
        (longs, short) => {
          const parts = longs.map(([t, n]) => longPacket(t, n));
          if (short !== null) parts.push(shortPacket(short));
          if (parts.length === 0) return;
          const { packets, error } = splitDatagram(concatBytes(...parts), 8);
          expect(error).toBeUndefined();
          expect(packets.length).toBe(parts.length);
          for (const [i, p] of packets.entries()) expect(p.bytes).toEqual(parts[i]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes never throw; packets tile the datagram up to the error offset', () => {
    fc.assert(
      fc.property(fc.array(packetish, { maxLength: 3 }), fc.nat({ max: 20 }), (chunks, len) => {
        const dg = concatBytes(...chunks);
        const { packets, error } = splitDatagram(dg, len);
        let at = 0;
        for (const p of packets) {
          expect(p.header.start).toBe(at);
          expect(p.bytes.byteOffset).toBe(at);
          at = p.header.packetEnd;
        }
        if (error) {
          expect(error.offset).toBe(at);
          expect(error.cause).toBeInstanceOf(CodecError);
        } else {
          expect(at).toBe(dg.length);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
