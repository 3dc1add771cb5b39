import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePacketNumber,
  MAX_PACKET_NUMBER,
  type PacketNumberLength,
  packetNumberLength,
  readPacketNumber,
  truncatePacketNumber,
  writePacketNumber,
} from '../../../src/quic/packet/index.js';
import { CodecError, toHex } from '../../../src/wire/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err.code;
    throw err;
  }
  return undefined;
}

/** RFC 9000 Appendix A.3 pseudocode, transcribed in bigint as an independent reference. */
function referenceDecode(largestPn: bigint, truncatedPn: bigint, pnNbits: bigint): bigint {
  const expected = largestPn + 1n;
  const win = 1n << pnNbits;
  const hwin = win / 2n;
  const mask = win - 1n;
  const candidate = (expected & ~mask) | truncatedPn;
  if (candidate <= expected - hwin && candidate < (1n << 62n) - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}

const pnLength = fc.constantFrom<PacketNumberLength>(1, 2, 3, 4);

describe('packet number encoding (RFC 9000 §17.1, Appendix A.2)', () => {
  it('A.2: 0xac5c02 with 0xabe8b3 acknowledged needs 16 bits', () => {
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(truncatePacketNumber(0xac5c02, 2)).toBe(0x5c02);
  });

  it('A.2: 0xace8fe with 0xabe8b3 acknowledged needs 24 bits', () => {
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
    expect(truncatePacketNumber(0xace8fe, 3)).toBe(0xace8fe);
  });

  it('without an acknowledgment, covers the whole packet number (twice the range)', () => {
    expect(packetNumberLength(0)).toBe(1);
    expect(packetNumberLength(127)).toBe(1); // 128 unacked: 2 * 128 = 2^8
    expect(packetNumberLength(128)).toBe(2);
    expect(packetNumberLength(0x7fff)).toBe(2);
    expect(packetNumberLength(0x8000)).toBe(3);
    expect(packetNumberLength(0x7f_ffff)).toBe(3);
    expect(packetNumberLength(0x80_0000)).toBe(4);
    expect(packetNumberLength(0x7fff_ffff)).toBe(4);
  });

  it('boundaries around an acknowledgment', () => {
    expect(packetNumberLength(1, 0)).toBe(1);
    expect(packetNumberLength(128, 0)).toBe(1);
    expect(packetNumberLength(129, 0)).toBe(2);
    expect(packetNumberLength(1000 + 0x8000, 1000)).toBe(2);
    expect(packetNumberLength(1000 + 0x8001, 1000)).toBe(3);
    expect(packetNumberLength(2 ** 40 + 5, 2 ** 40 + 4)).toBe(1);
  });

  it('rejects impossible inputs with CodecError', () => {
    expect(codeOf(() => packetNumberLength(-1))).toBe('VARINT_RANGE');
    expect(codeOf(() => packetNumberLength(1.5))).toBe('VARINT_RANGE');
    expect(codeOf(() => packetNumberLength(2 ** 53))).toBe('VARINT_RANGE');
    expect(codeOf(() => packetNumberLength(10, 10))).toBe('MALFORMED');
    expect(codeOf(() => packetNumberLength(10, 11))).toBe('MALFORMED');
    expect(codeOf(() => packetNumberLength(10, -1))).toBe('VARINT_RANGE');
    expect(codeOf(() => packetNumberLength(0x8000_0000))).toBe('TOO_LARGE');
    expect(codeOf(() => packetNumberLength(2 ** 40, 2 ** 40 - 2 ** 31 - 1))).toBe('TOO_LARGE');
    expect(codeOf(() => truncatePacketNumber(5, 5 as PacketNumberLength))).toBe('MALFORMED');
    expect(codeOf(() => truncatePacketNumber(-5, 1))).toBe('VARINT_RANGE');
  });
});

describe('packet number decoding (RFC 9000 §17.1, Appendix A.3)', () => {
  it('A.3: 0x9b32 in 16 bits after 0xa82f30ea decodes to 0xa82f9b32', () => {
    expect(decodePacketNumber(0x9b32, 2, 0xa82f30ea)).toBe(0xa82f9b32);
  });

  it('RFC 9001 A.5: 654360564 sent as 0x00bff4 in 3 bytes', () => {
    expect(truncatePacketNumber(654360564, 3)).toBe(0xbff4);
    expect(decodePacketNumber(0xbff4, 3, 654360563)).toBe(654360564);
  });

  it('first packet of a space (nothing received yet)', () => {
    expect(decodePacketNumber(0, 1)).toBe(0);
    expect(decodePacketNumber(0xff, 1)).toBe(0xff);
    expect(decodePacketNumber(2, 4)).toBe(2);
  });

  it('wraps forward and backward across the window edge', () => {
    // expected 0x100: 0x01 is 0x101 (ahead), 0xfe is 0xfe (just behind).
    expect(decodePacketNumber(0x01, 1, 0xff)).toBe(0x101);
    expect(decodePacketNumber(0xfe, 1, 0xff)).toBe(0xfe);
    // expected 0x1ff: 0x00 is 0x200.
    expect(decodePacketNumber(0x00, 1, 0x1fe)).toBe(0x200);
    // above 2^32: exact arithmetic, no 32-bit truncation
    expect(decodePacketNumber(0x0001, 2, 2 ** 40 + 0xfffe)).toBe(2 ** 40 + 0x1_0001);
  });

  it('rejects truncated values that do not fit their length, and bad lengths', () => {
    expect(codeOf(() => decodePacketNumber(0x100, 1, 5))).toBe('VARINT_RANGE');
    expect(codeOf(() => decodePacketNumber(-1, 1, 5))).toBe('VARINT_RANGE');
    expect(codeOf(() => decodePacketNumber(1, 0 as PacketNumberLength, 5))).toBe('MALFORMED');
    expect(codeOf(() => decodePacketNumber(1, 1, -2))).toBe('VARINT_RANGE');
    expect(codeOf(() => decodePacketNumber(0xff, 1, MAX_PACKET_NUMBER))).toBe('VARINT_RANGE');
  });

  it('matches the RFC pseudocode (bigint transcription) on random inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 2 ** 52 }),
        pnLength,
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (largest, len, raw) => {
          const truncated = raw % 2 ** (8 * len);
          const expected = referenceDecode(BigInt(largest), BigInt(truncated), BigInt(8 * len));
          const got = decodePacketNumber(truncated, len, largest < 0 ? undefined : largest);
          expect(BigInt(got)).toBe(expected);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('decode(truncate(pn)) === pn inside the window the encoder chose (with an ack)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 50 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (largestAcked, delta, f) => {
          const pn = largestAcked + delta;
          const len = packetNumberLength(pn, largestAcked);
          // The receiver has seen at least the acknowledged packet, and not yet `pn`.
          const largestReceived = largestAcked + Math.floor(f * (delta - 1));
          const truncated = truncatePacketNumber(pn, len);
          expect(decodePacketNumber(truncated, len, largestReceived)).toBe(pn);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('decode(truncate(pn)) === pn before any acknowledgment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        (pn, f) => {
          const len = packetNumberLength(pn);
          const largestReceived = f === null || pn === 0 ? undefined : Math.floor(f * (pn - 1));
          expect(decodePacketNumber(truncatePacketNumber(pn, len), len, largestReceived)).toBe(pn);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('a shorter encoding than chosen can fail (the window matters)', () => {
    // 0xace8fe needs 3 bytes after 0xabe8b3; squeezed into 2 it decodes elsewhere.
    expect(decodePacketNumber(0xe8fe, 2, 0xabe8b3)).not.toBe(0xace8fe);
  });
});

describe('packet number field bytes', () => {
  it('writes the low bytes big-endian and reads them back', () => {
    const buf = new Uint8Array(6);
    writePacketNumber(buf, 1, 0x2700_bff4, 3);
    expect(toHex(buf)).toBe('0000bff40000');
    expect(readPacketNumber(buf, 1, 3)).toBe(0xbff4);
    writePacketNumber(buf, 2, 0x1_2345_6789, 4);
    expect(toHex(buf.subarray(2))).toBe('23456789');
  });

  it('round-trips any value of any length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PACKET_NUMBER }), pnLength, (pn, len) => {
        const buf = new Uint8Array(len);
        writePacketNumber(buf, 0, pn, len);
        expect(readPacketNumber(buf, 0, len)).toBe(truncatePacketNumber(pn, len));
      }),
      { numRuns: 2000 },
    );
  });

  it('reading past the end is TRUNCATED, writing past it TOO_LARGE', () => {
    expect(codeOf(() => readPacketNumber(new Uint8Array(3), 1, 3))).toBe('TRUNCATED');
    expect(codeOf(() => writePacketNumber(new Uint8Array(3), 1, 7, 3))).toBe('TOO_LARGE');
  });
});
