import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSettingsPayload,
  encodeSettingsPayload,
  H3Error,
  H3ErrorCode,
  H3SettingId,
  type H3Settings,
  HTTP2_ONLY_SETTING_IDS,
  isReservedSettingId,
  LEGACY_H3_DATAGRAM_DRAFT04_SETTING,
  RESERVED_N_MAX,
  reservedCodePoint,
  resolveSettings,
} from '../../src/http3/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { ByteWriter, CodecError, fromHex, toHex, VARINT_MAX } from '../../src/wire/index.js';
import { settingsArb } from './arbitraries.js';

function h3Code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H3Error);
    return (err as H3Error).code;
  }
  throw new Error('expected an H3Error');
}

const pairs = (...kv: Array<number | bigint>): Uint8Array => {
  const w = new ByteWriter();
  for (const v of kv) w.varint(v);
  return w.toBytes();
};

describe('SETTINGS payload (RFC 9114 §7.2.4)', () => {
  it('has the setting identifiers of RFC 9114, RFC 9204, RFC 9220 and RFC 9297', () => {
    expect(H3SettingId).toEqual({
      QPACK_MAX_TABLE_CAPACITY: 0x01,
      MAX_FIELD_SECTION_SIZE: 0x06,
      QPACK_BLOCKED_STREAMS: 0x07,
      ENABLE_CONNECT_PROTOCOL: 0x08,
      H3_DATAGRAM: 0x33,
    });
    expect(LEGACY_H3_DATAGRAM_DRAFT04_SETTING).toBe(0xffd277);
    expect(HTTP2_ONLY_SETTING_IDS).toEqual([2, 3, 4, 5]);
  });

  it('decodes a hand-built payload byte for byte, and encodes it back', () => {
    // 01=0 06=1024 (2-byte 4400) 07=16 08=1 33=1 ffd277=1 (4-byte 80ffd277) 21=0 (grease)
    const hex = '0100 064400 0710 0801 3301 80ffd27701 2100';
    const s = decodeSettingsPayload(fromHex(hex));
    expect(s).toEqual({
      qpackMaxTableCapacity: 0,
      maxFieldSectionSize: 1024,
      qpackBlockedStreams: 16,
      enableConnectProtocol: true,
      h3Datagram: true,
      legacyH3Datagram: 1,
      unknown: [{ id: 0x21n, value: 0n }],
    });
    expect(toHex(encodeSettingsPayload(s))).toBe(hex.replace(/ /g, ''));
    expect(decodeSettingsPayload(new Uint8Array(0))).toEqual({});
  });

  it('round-trips arbitrary settings', () => {
    fc.assert(
      fc.property(settingsArb, (s) => {
        expect(decodeSettingsPayload(encodeSettingsPayload(s))).toEqual(s);
      }),
      { numRuns: 3000 },
    );
  });

  it('applies defaults with resolveSettings (RFC 9114 §7.2.4.2, RFC 9204 §5, RFC 9297 §2.1.1)', () => {
    expect(resolveSettings({})).toEqual({
      qpackMaxTableCapacity: 0,
      maxFieldSectionSize: Number.MAX_SAFE_INTEGER,
      qpackBlockedStreams: 0,
      enableConnectProtocol: false,
      h3Datagram: false,
    });
    expect(resolveSettings({ legacyH3Datagram: 1 }).h3Datagram).toBe(true);
    expect(resolveSettings({ legacyH3Datagram: 7 }).h3Datagram).toBe(false);
    expect(resolveSettings({ h3Datagram: true, legacyH3Datagram: 0 }).h3Datagram).toBe(true);
  });

  it('clamps limits above 2^53 - 1 (a "huge" limit means unlimited)', () => {
    const s = decodeSettingsPayload(
      pairs(0x06, VARINT_MAX, 0x01, 1n << 53n, 0x07, (1n << 53n) - 1n),
    );
    expect(s.maxFieldSectionSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(s.qpackMaxTableCapacity).toBe(Number.MAX_SAFE_INTEGER);
    expect(s.qpackBlockedStreams).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('keeps unknown settings exactly (including 0x00 and grease above 2^53) and ignores them', () => {
    const big = reservedCodePoint(RESERVED_N_MAX);
    const s = decodeSettingsPayload(pairs(0x00, 5, big, VARINT_MAX, 0x2b603742, 1));
    expect(s).toEqual({
      unknown: [
        { id: 0n, value: 5n },
        { id: 0x3ffffffffffffffen, value: VARINT_MAX },
        { id: 0x2b603742n, value: 1n },
      ],
    });
    expect(isReservedSettingId(big)).toBe(true);
  });

  it('HTTP/2-only identifiers 0x02-0x05 are H3_SETTINGS_ERROR (§7.2.4.1)', () => {
    for (const id of [2, 3, 4, 5]) {
      expect(h3Code(() => decodeSettingsPayload(pairs(0x06, 100, id, 0)))).toBe(
        H3ErrorCode.H3_SETTINGS_ERROR,
      );
    }
  });

  it('duplicate identifiers are H3_SETTINGS_ERROR, compared exactly (§7.2.4)', () => {
    expect(h3Code(() => decodeSettingsPayload(pairs(0x06, 1, 0x06, 1)))).toBe(
      H3ErrorCode.H3_SETTINGS_ERROR,
    );
    const big = reservedCodePoint(RESERVED_N_MAX);
    expect(h3Code(() => decodeSettingsPayload(pairs(big, 1, 0x21, 0, big, 2)))).toBe(
      H3ErrorCode.H3_SETTINGS_ERROR,
    );
    expect(h3Code(() => decodeSettingsPayload(pairs(0xffd277, 1, 0xffd277, 1)))).toBe(
      H3ErrorCode.H3_SETTINGS_ERROR,
    );
    // Two distinct grease ids above 2^53 that a clamped read would confuse are not duplicates.
    const other = reservedCodePoint(RESERVED_N_MAX - 1n);
    expect(decodeSettingsPayload(pairs(big, 1, other, 2)).unknown).toEqual([
      { id: big, value: 1n },
      { id: other, value: 2n },
    ]);
  });

  it('ENABLE_CONNECT_PROTOCOL and H3_DATAGRAM other than 0/1 are H3_SETTINGS_ERROR', () => {
    for (const id of [0x08, 0x33]) {
      expect(decodeSettingsPayload(pairs(id, 0))).not.toEqual({});
      for (const bad of [2n, 0x40n, VARINT_MAX]) {
        expect(h3Code(() => decodeSettingsPayload(pairs(id, bad)))).toBe(
          H3ErrorCode.H3_SETTINGS_ERROR,
        );
      }
    }
    // The legacy draft setting is recorded as received, never rejected.
    expect(decodeSettingsPayload(pairs(0xffd277, 2)).legacyH3Datagram).toBe(2);
  });

  it('a truncated pair is H3_FRAME_ERROR (§7.1), at every cut', () => {
    const payload = pairs(0x06, 1_000_000, 0x21, VARINT_MAX);
    // 06 | 800f4240 | 21 | ffffffffffffffff: only cut 5 falls between pairs.
    expect(payload.length).toBe(14);
    for (let cut = 1; cut < payload.length; cut++) {
      if (cut === 5) continue;
      expect(h3Code(() => decodeSettingsPayload(payload.subarray(0, cut)))).toBe(
        H3ErrorCode.H3_FRAME_ERROR,
      );
    }
    expect(decodeSettingsPayload(payload.subarray(0, 5))).toEqual({
      maxFieldSectionSize: 1_000_000,
    });
  });

  it('decoding arbitrary bytes returns settings or throws H3Error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeSettingsPayload(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(H3Error);
          expect([H3ErrorCode.H3_FRAME_ERROR, H3ErrorCode.H3_SETTINGS_ERROR]).toContain(
            (err as H3Error).code,
          );
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('adds one reserved setting from the caller randomness, reproducibly', () => {
    const base: H3Settings = { h3Datagram: true };
    const a = encodeSettingsPayload(base, { grease: new SeededRandom(42) });
    const b = encodeSettingsPayload(base, { grease: new SeededRandom(42) });
    expect(toHex(a)).toBe(toHex(b));
    const s = decodeSettingsPayload(a);
    expect(s.h3Datagram).toBe(true);
    expect(s.unknown).toHaveLength(1);
    expect(isReservedSettingId(s.unknown![0].id)).toBe(true);
    expect(toHex(a)).not.toBe(toHex(encodeSettingsPayload(base, { grease: new SeededRandom(43) })));
  });

  it('refuses to send HTTP/2-only, known or repeated identifiers as unknown settings', () => {
    for (const id of [0x02n, 0x05n, 0x06n, 0x33n, 0xffd277n]) {
      expect(() => encodeSettingsPayload({ unknown: [{ id, value: 0n }] })).toThrowError(
        CodecError,
      );
    }
    expect(() =>
      encodeSettingsPayload({
        unknown: [
          { id: 0x21n, value: 0n },
          { id: 0x21n, value: 1n },
        ],
      }),
    ).toThrowError(CodecError);
    expect(() => encodeSettingsPayload({ maxFieldSectionSize: -1 })).toThrowError(CodecError);
  });
});
