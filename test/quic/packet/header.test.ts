import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LongPacketType,
  type PacketHeader,
  parsePacketHeader,
} from '../../../src/quic/packet/index.js';
import { CodecError, concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { codeOf, packetish } from './helpers.js';
import {
  CLIENT_INITIAL_PROTECTED,
  RETRY,
  SERVER_INITIAL_PROTECTED,
  SHORT_PACKET_PROTECTED,
} from './vectors.js';

/** Structural invariants every successful parse must satisfy. */
function checkSane(h: PacketHeader, dg: Uint8Array, offset: number): void {
  expect(h.start).toBe(offset);
  expect(h.packetEnd).toBeLessThanOrEqual(dg.length);
  expect(h.packetEnd).toBeGreaterThan(offset);
  if (h.kind === 'long' || h.kind === 'short') {
    expect(h.pnOffset).toBeGreaterThan(offset);
    expect(h.pnOffset).toBeLessThanOrEqual(h.packetEnd);
  }
  if (h.kind === 'long') expect(h.packetEnd - h.pnOffset).toBe(h.length);
}

describe('parsePacketHeader dispatch (RFC 9000 §17)', () => {
  it('routes each RFC 9001 Appendix A packet to its format', () => {
    const initial = parsePacketHeader(fromHex(CLIENT_INITIAL_PROTECTED), 0, 8);
    expect(initial.kind === 'long' && initial.type === LongPacketType.Initial).toBe(true);
    expect(parsePacketHeader(fromHex(SERVER_INITIAL_PROTECTED), 0, 8).kind).toBe('long');
    expect(parsePacketHeader(fromHex(RETRY), 0, 8).kind).toBe('retry');
    expect(parsePacketHeader(fromHex(SHORT_PACKET_PROTECTED), 0, 0).kind).toBe('short');
  });

  it('returns the invariant fields of an unknown version, with 255-byte CIDs allowed', () => {
    const dg = concatBytes(
      fromHex('c51a2a3a4a'),
      Uint8Array.of(30),
      new Uint8Array(30).fill(1),
      Uint8Array.of(2),
      fromHex('aabb'),
      new Uint8Array(10),
    );
    const h = parsePacketHeader(dg, 0, 8);
    expect(h.kind).toBe('unsupported-version');
    if (h.kind !== 'unsupported-version') return;
    expect(h.version).toBe(0x1a2a3a4a);
    expect(h.dcid.length).toBe(30);
    expect(toHex(h.scid)).toBe('aabb');
    expect(h.packetEnd).toBe(dg.length);
  });

  it('offsets past the end are TRUNCATED', () => {
    const dg = fromHex(RETRY);
    expect(codeOf(() => parsePacketHeader(dg, dg.length, 8))).toBe('TRUNCATED');
    expect(codeOf(() => parsePacketHeader(dg, -1, 8))).toBe('TRUNCATED');
    expect(codeOf(() => parsePacketHeader(fromHex('c0000000'), 0, 8))).toBe('TRUNCATED');
  });

  it('arbitrary bytes at any offset: a sane header or a CodecError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 8 }),
        packetish,
        fc.integer({ min: 0, max: 20 }),
        (lead, body, cidLen) => {
          const dg = concatBytes(lead, body);
          if (dg.length === 0) return;
          const offset = Math.min(lead.length, dg.length - 1);
          try {
            checkSane(parsePacketHeader(dg, offset, cidLen), dg, offset);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
          }
        },
      ),
      { numRuns: 10_000 },
    );
  });

  it('mutated real packets: a sane header or a CodecError', () => {
    const samples = [CLIENT_INITIAL_PROTECTED.slice(0, 400), SERVER_INITIAL_PROTECTED, RETRY].map(
      fromHex,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (sample, edits, cut) => {
          const dg = sample.slice(0, 1 + (cut % sample.length));
          for (const [at, v] of edits) dg[at % Math.min(dg.length, 30)] = v;
          try {
            checkSane(parsePacketHeader(dg, 0, 8), dg, 0);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
